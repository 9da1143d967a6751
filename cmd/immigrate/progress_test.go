package main

import (
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/schollz/progressbar/v3"

	"github.com/immigrate/immigrate/load"
)

func TestProgressLines(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	running := load.PhaseStats{Phase: load.PhaseDirectMessages, State: load.PhaseRunning, Total: 1000,
		Read: 450, Imported: 390, Rejected: 10, Started: now.Add(-20 * time.Second)}
	finished := load.PhaseStats{Phase: load.PhaseAccounts, State: load.PhaseFinished, Total: 50,
		Read: 50, Imported: 50, Started: now.Add(-60 * time.Second), Finished: now.Add(-55 * time.Second)}
	unknown := load.PhaseStats{Phase: load.PhaseUnread, State: load.PhaseRunning, Read: 7, Imported: 7, Started: now.Add(-time.Second)}
	tests := []struct {
		name  string
		ph    load.PhaseStats
		want  []string
		avoid []string
	}{
		// 400 done in 20 s: 20/s, 600 to go: 30 s.
		{"running", running, []string{"direct_messages", "400/1000", "20.0 rec/s", "ETA 30s", "rejected 10"}, nil},
		// The rate stops at the phase's end, and a finished phase has no ETA.
		{"finished", finished, []string{"accounts", "50/50", "10.0 rec/s"}, []string{"ETA", "rejected"}},
		{"no total", unknown, []string{"unread", "7", "7.0 rec/s"}, []string{"ETA"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := &progressView{tty: true, bars: map[load.Phase]*progressbar.ProgressBar{}}
			lines := map[string]string{
				"plain": progressLine(tt.ph, now),
				"bar":   v.barLine(tt.ph, now),
			}
			for kind, line := range lines {
				for _, w := range tt.want {
					if !strings.Contains(line, w) {
						t.Errorf("%s line %q lacks %q", kind, line, w)
					}
				}
				for _, w := range tt.avoid {
					if strings.Contains(line, w) {
						t.Errorf("%s line %q has %q", kind, line, w)
					}
				}
			}
			bar := lines["bar"]
			if !strings.HasPrefix(bar, "\x1b[2K") || !strings.HasSuffix(bar, "\n") || strings.Count(bar, "\n") != 1 || strings.Contains(bar, "\r") {
				t.Errorf("bar line %q: want one cleared terminal line", bar)
			}
		})
	}
}

// TestBarLinesFitTheTerminal: a bar line wider than the terminal wraps onto a
// second row, and the next frame, moving up one row per line, then draws over the
// wrong rows: on an 80-column terminal the bars scrolled into garbage.
func TestBarLinesFitTheTerminal(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	ph := load.PhaseStats{Phase: load.PhaseDirectMessages, State: load.PhaseRunning, Total: 20_000_000,
		Read: 1_234_567, Imported: 1_200_000, Rejected: 34_567, Started: now.Add(-2 * time.Hour)}
	for _, width := range []int{40, 80} {
		t.Run(strconv.Itoa(width), func(t *testing.T) {
			v := &progressView{tty: true, width: width, bars: map[load.Phase]*progressbar.ProgressBar{}}
			line := strings.TrimSuffix(strings.TrimPrefix(v.barLine(ph, now), "\x1b[2K"), "\n")
			if n := utf8.RuneCountInString(line); n >= width {
				t.Errorf("bar line is %d columns on a %d-column terminal: %q", n, width, line)
			}
			if !strings.HasPrefix(line, "direct_messages") {
				t.Errorf("bar line %q lost its phase name", line)
			}
		})
	}
}
