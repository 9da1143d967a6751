package report

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/rivo/uniseg"
)

// table is a Markdown pipe table whose columns are padded to a common width, so that
// it reads as a table in a terminal too. Width counts terminal cells (CJK and emoji
// take two), not bytes.
type table struct {
	header []string
	right  []bool // right-align the column (numbers)
	rows   [][]string
}

func newTable(header ...string) *table {
	t := &table{header: header, right: make([]bool, len(header))}
	for i, h := range header {
		// A header ending in a space marks a numeric column; the space is dropped.
		if strings.HasSuffix(h, " ") {
			t.right[i] = true
			t.header[i] = strings.TrimSuffix(h, " ")
		}
	}
	return t
}

func (t *table) add(cells ...string) { t.rows = append(t.rows, cells) }

func (t *table) write(w io.Writer) error {
	width := make([]int, len(t.header))
	for i, h := range t.header {
		width[i] = max(3, cellWidth(h))
	}
	for _, r := range t.rows {
		for i, c := range r {
			width[i] = max(width[i], cellWidth(c))
		}
	}
	var b strings.Builder
	line := func(cells []string) {
		b.WriteString("|")
		for i, c := range cells {
			pad := strings.Repeat(" ", width[i]-cellWidth(c))
			b.WriteString(" ")
			if t.right[i] {
				b.WriteString(pad + escapeCell(c))
			} else {
				b.WriteString(escapeCell(c) + pad)
			}
			b.WriteString(" |")
		}
		b.WriteString("\n")
	}
	line(t.header)
	b.WriteString("|")
	for i := range t.header {
		if t.right[i] {
			b.WriteString(strings.Repeat("-", width[i]+1) + ":|")
		} else {
			b.WriteString(strings.Repeat("-", width[i]+2) + "|")
		}
	}
	b.WriteString("\n")
	for _, r := range t.rows {
		line(r)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func cellWidth(s string) int { return uniseg.StringWidth(escapeCell(s)) }

// escapeCell keeps a cell on one line and its pipes out of the table's.
func escapeCell(s string) string {
	if !strings.ContainsAny(s, "|\n\r\t") {
		return s
	}
	return strings.NewReplacer("|", `\|`, "\n", " ", "\r", " ", "\t", " ").Replace(s)
}

// num renders an integer with thousands separators: 1,234,567.
func num[T ~int | ~int64](n T) string {
	s := strconv.FormatInt(int64(n), 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// rate renders calls per second.
func rate(r float64) string {
	if r == float64(int64(r)) {
		return strconv.FormatInt(int64(r), 10)
	}
	return strconv.FormatFloat(r, 'f', 1, 64)
}

// dur renders seconds as a human duration: "0.05s", "42s", "3h25m10s", "2d 3h04m".
func dur(seconds float64) string {
	switch {
	case seconds == 0:
		return "0s"
	case seconds < 1:
		return strconv.FormatFloat(seconds, 'f', 2, 64) + "s"
	case seconds < 60:
		return strconv.FormatFloat(seconds, 'f', 0, 64) + "s"
	}
	d := time.Duration(seconds * float64(time.Second)).Round(time.Second)
	days := d / (24 * time.Hour)
	d -= days * 24 * time.Hour
	h, m, s := d/time.Hour, (d%time.Hour)/time.Minute, (d%time.Minute)/time.Second
	switch {
	case days > 0:
		return fmt.Sprintf("%dd %dh%02dm", days, h, m)
	case h > 0:
		return fmt.Sprintf("%dh%02dm%02ds", h, m, s)
	}
	return fmt.Sprintf("%dm%02ds", m, s)
}

func percent(part, whole float64) string {
	if whole == 0 {
		return "0%"
	}
	return strconv.FormatFloat(100*part/whole, 'f', 0, 64) + "%"
}
