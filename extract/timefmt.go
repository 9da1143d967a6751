package extract

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// timeParser turns a source cell into a UTC time per a TimeFormat. The named formats
// are parsed by hand: they are on the hot path of every message and time.Parse
// allocates a zone for every offset it sees.
type timeParser struct {
	format TimeFormat
}

func newTimeParser(f TimeFormat) timeParser {
	if f == "" {
		f = DefaultTimeFormat
	}
	return timeParser{format: f}
}

var errTimeSyntax = errors.New("bad syntax")

// parse parses s, which is not empty. The result is always in UTC.
func (p timeParser) parse(s string) (time.Time, error) {
	var (
		t   time.Time
		err error
	)
	switch p.format {
	case TimeUnix:
		t, err = parseUnix(s)
	case TimeUnixMS:
		t, err = parseUnixMS(s)
	case TimeTimestamptz:
		t, err = parseTimestamp(s, false)
	case TimeRFC3339:
		t, err = parseTimestamp(s, true)
	default:
		t, err = time.Parse(string(p.format), s)
		if err == nil {
			t = t.UTC()
		}
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not a %s time: %w", s, p.format, err)
	}
	return t, nil
}

// maxFracDigits bounds the fractional digits of unix and timestamp texts. Go keeps
// nanoseconds; the PostgreSQL reader's ordering expression accepts the same syntax,
// so both readers agree on which texts are times and how they sort.
const maxFracDigits = 9

// parseUnix parses "-?[0-9]+(\.[0-9]{1,9})?" as seconds since the epoch.
func parseUnix(s string) (time.Time, error) {
	neg := false
	i := 0
	if i < len(s) && s[i] == '-' {
		neg = true
		i++
	}
	start := i
	var sec int64
	for ; i < len(s) && isDigit(s[i]); i++ {
		if sec > (math.MaxInt64-9)/10 {
			return time.Time{}, errors.New("out of range")
		}
		sec = sec*10 + int64(s[i]-'0')
	}
	if i == start {
		return time.Time{}, errTimeSyntax
	}
	var nsec int64
	if i < len(s) {
		if s[i] != '.' {
			return time.Time{}, errTimeSyntax
		}
		var ok bool
		nsec, i, ok = parseFrac(s, i+1)
		if !ok || i != len(s) {
			return time.Time{}, errTimeSyntax
		}
	}
	if neg {
		sec, nsec = -sec, -nsec
		if nsec < 0 {
			sec--
			nsec += int64(time.Second)
		}
	}
	return time.Unix(sec, nsec).UTC(), nil
}

// parseUnixMS parses "-?[0-9]+" as milliseconds since the epoch.
func parseUnixMS(s string) (time.Time, error) {
	neg := false
	i := 0
	if i < len(s) && s[i] == '-' {
		neg = true
		i++
	}
	if i == len(s) {
		return time.Time{}, errTimeSyntax
	}
	var ms int64
	for ; i < len(s); i++ {
		if !isDigit(s[i]) {
			return time.Time{}, errTimeSyntax
		}
		if ms > (math.MaxInt64-9)/10 {
			return time.Time{}, errors.New("out of range")
		}
		ms = ms*10 + int64(s[i]-'0')
	}
	if neg {
		ms = -ms
	}
	return time.UnixMilli(ms).UTC(), nil
}

// parseFrac reads 1 to maxFracDigits digits at s[i:] as a fraction of a second.
func parseFrac(s string, i int) (nsec int64, next int, ok bool) {
	start := i
	scale := int64(time.Second)
	for ; i < len(s) && isDigit(s[i]); i++ {
		if i-start == maxFracDigits {
			return 0, i, false
		}
		scale /= 10
		nsec += int64(s[i]-'0') * scale
	}
	return nsec, i, i > start
}

// parseTimestamp parses
//
//	YYYY-MM-DD[Tt ]HH:MM:SS[.F{1,9}][Z|z|±HH|±HHMM|±HH:MM|±HH:MM:SS]
//
// which covers RFC 3339 and what PostgreSQL prints for timestamptz and timestamp
// with DateStyle ISO (the PostgreSQL reader sets it). A text without a zone is UTC.
// strict (RFC 3339) requires the 'T' and the zone.
func parseTimestamp(s string, strict bool) (time.Time, error) {
	if len(s) < 19 || s[4] != '-' || s[7] != '-' || s[13] != ':' || s[16] != ':' {
		return time.Time{}, errTimeSyntax
	}
	switch s[10] {
	case 'T', 't':
	case ' ':
		if strict {
			return time.Time{}, errTimeSyntax
		}
	default:
		return time.Time{}, errTimeSyntax
	}
	year, ok1 := digits(s[0:4])
	month, ok2 := digits(s[5:7])
	day, ok3 := digits(s[8:10])
	hour, ok4 := digits(s[11:13])
	minute, ok5 := digits(s[14:16])
	sec, ok6 := digits(s[17:19])
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 || !ok6 {
		return time.Time{}, errTimeSyntax
	}
	// Year 0 does not exist in PostgreSQL's calendar ("0001-01-01 BC" is printed
	// instead), so no source spells it.
	if year < 1 || month < 1 || month > 12 || day < 1 || day > daysIn(month, year) ||
		hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, errors.New("field out of range")
	}
	i := 19
	var nsec int64
	if i < len(s) && s[i] == '.' {
		var ok bool
		nsec, i, ok = parseFrac(s, i+1)
		if !ok {
			return time.Time{}, errTimeSyntax
		}
	}
	offset := 0
	switch {
	case i == len(s):
		if strict {
			return time.Time{}, errors.New("no zone")
		}
	case s[i] == 'Z' || s[i] == 'z':
		if i+1 != len(s) {
			return time.Time{}, errTimeSyntax
		}
	case s[i] == '+' || s[i] == '-':
		var ok bool
		offset, ok = parseOffset(s[i+1:])
		if !ok {
			return time.Time{}, errTimeSyntax
		}
		if s[i] == '-' {
			offset = -offset
		}
	default:
		return time.Time{}, errTimeSyntax
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, int(nsec), time.UTC)
	if offset != 0 {
		t = t.Add(-time.Duration(offset) * time.Second)
	}
	return t, nil
}

// parseOffset parses HH, HHMM, HH:MM or HH:MM:SS into seconds.
func parseOffset(s string) (int, bool) {
	var h, m, sec int
	var ok bool
	switch len(s) {
	case 2:
		h, ok = digits(s)
	case 4:
		var ok2 bool
		h, ok = digits(s[0:2])
		m, ok2 = digits(s[2:4])
		ok = ok && ok2
	case 5, 8:
		if s[2] != ':' {
			return 0, false
		}
		var ok2 bool
		h, ok = digits(s[0:2])
		m, ok2 = digits(s[3:5])
		ok = ok && ok2
		if len(s) == 8 {
			var ok3 bool
			if s[5] != ':' {
				return 0, false
			}
			sec, ok3 = digits(s[6:8])
			ok = ok && ok3
		}
	default:
		return 0, false
	}
	if !ok || m > 59 || sec > 59 {
		return 0, false
	}
	return h*3600 + m*60 + sec, true
}

func digits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}
