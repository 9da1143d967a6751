package extract

import (
	"testing"
	"time"
)

func TestTimeParser(t *testing.T) {
	utc := func(s string) time.Time {
		tm, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm.UTC()
	}
	cases := []struct {
		format TimeFormat
		in     string
		want   time.Time
		bad    bool
	}{
		{TimeUnix, "1700000000", utc("2023-11-14T22:13:20Z"), false},
		{TimeUnix, "1700000000.25", utc("2023-11-14T22:13:20.25Z"), false},
		{TimeUnix, "1700000000.123456789", utc("2023-11-14T22:13:20.123456789Z"), false},
		{TimeUnix, "-1.5", utc("1969-12-31T23:59:58.5Z"), false},
		{TimeUnix, "0", time.Unix(0, 0).UTC(), false},
		{TimeUnix, "1700000000.1234567891", time.Time{}, true}, // more than nanoseconds
		{TimeUnix, "1700000000.", time.Time{}, true},
		{TimeUnix, "+1", time.Time{}, true},
		{TimeUnix, " 1", time.Time{}, true},
		{TimeUnix, "1e9", time.Time{}, true},
		{TimeUnix, "99999999999999999999", time.Time{}, true},
		{TimeUnixMS, "1700000000123", utc("2023-11-14T22:13:20.123Z"), false},
		{TimeUnixMS, "-5", utc("1969-12-31T23:59:59.995Z"), false},
		{TimeUnixMS, "1700000000123.5", time.Time{}, true},
		{TimeUnixMS, "-", time.Time{}, true},
		{TimeTimestamptz, "2024-01-02T03:04:05Z", utc("2024-01-02T03:04:05Z"), false},
		{TimeTimestamptz, "2024-01-02 03:04:05", utc("2024-01-02T03:04:05Z"), false},
		{TimeTimestamptz, "2024-01-02 03:04:05.123456+08", utc("2024-01-01T19:04:05.123456Z"), false},
		{TimeTimestamptz, "2024-01-02 03:04:05-0230", utc("2024-01-02T05:34:05Z"), false},
		{TimeTimestamptz, "2024-01-02t03:04:05+05:45", utc("2024-01-01T21:19:05Z"), false},
		{TimeTimestamptz, "1900-01-01 00:00:00+00:09:21", utc("1899-12-31T23:50:39Z"), false},
		{TimeTimestamptz, "2024-02-29 00:00:00z", utc("2024-02-29T00:00:00Z"), false},
		{TimeTimestamptz, "2023-02-29 00:00:00Z", time.Time{}, true},
		{TimeTimestamptz, "2024-01-02 24:00:00", time.Time{}, true},
		{TimeTimestamptz, "2024-01-02 03:04:60", time.Time{}, true},
		{TimeTimestamptz, "0000-01-01 00:00:00", time.Time{}, true},
		{TimeTimestamptz, "2024-01-02", time.Time{}, true},
		{TimeTimestamptz, "infinity", time.Time{}, true},
		{TimeTimestamptz, "2024-01-02 03:04:05 BC", time.Time{}, true},
		{TimeTimestamptz, "2024-01-02 03:04:05+8", time.Time{}, true},
		{TimeTimestamptz, "2024-01-02 03:04:05Zjunk", time.Time{}, true},
		{TimeRFC3339, "2024-01-02T03:04:05.5+01:00", utc("2024-01-02T02:04:05.5Z"), false},
		{TimeRFC3339, "2024-01-02 03:04:05Z", time.Time{}, true},
		{TimeRFC3339, "2024-01-02T03:04:05", time.Time{}, true},
		{"2006/01/02 15:04", "2024/01/02 03:04", utc("2024-01-02T03:04:00Z"), false},
		{"2006/01/02 15:04 -0700", "2024/01/02 03:04 +0100", utc("2024-01-02T02:04:00Z"), false},
		{"2006/01/02", "02/01/2024", time.Time{}, true},
	}
	for _, tc := range cases {
		t.Run(string(tc.format)+" "+tc.in, func(t *testing.T) {
			got, err := newTimeParser(tc.format).parse(tc.in)
			if tc.bad {
				if err == nil {
					t.Errorf("parse = %v, want an error", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("parse = %v, want %v", got, tc.want)
			}
			if got.Location() != time.UTC {
				t.Errorf("location = %v, want UTC", got.Location())
			}
		})
	}
}

func TestTimeFormatValidate(t *testing.T) {
	cases := []struct {
		format TimeFormat
		ok     bool
	}{
		{"", true}, {TimeUnix, true}, {TimeUnixMS, true}, {TimeTimestamptz, true}, {TimeRFC3339, true},
		{"2006-01-02 15:04:05", true}, {time.RFC1123Z, true},
		{"unixms", false}, {"yyyy-mm-dd", false},
	}
	for _, tc := range cases {
		t.Run(string(tc.format), func(t *testing.T) {
			if err := tc.format.Validate(); (err == nil) != tc.ok {
				t.Errorf("Validate() = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

func BenchmarkParseTimestamptz(b *testing.B) {
	p := newTimeParser(TimeTimestamptz)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.parse("2024-01-02 03:04:05.123456+08"); err != nil {
			b.Fatal(err)
		}
	}
}
