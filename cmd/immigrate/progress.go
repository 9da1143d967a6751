package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/immigrate/immigrate/load"
)

// progressView draws the engine's counters on stderr (style.md habit 11): on a
// terminal one bar per started phase, redrawn in place on a ticker; otherwise a
// plain log line per running phase every few seconds. The engine only updates
// atomic counters; it never writes to the terminal, so nothing breaks the bars.
type progressView struct {
	w     io.Writer
	tty   bool
	p     *load.Progress
	bars  map[load.Phase]*progressbar.ProgressBar
	drawn int // lines drawn by the last terminal frame
	// width is the terminal's width in columns (0: unknown), read every frame. A
	// line that wraps would take two rows while the next frame moves the cursor up
	// by one per line, so each line is cut to fit.
	width    int
	getWidth func() int
	stopOnce sync.Once
	stop     chan struct{}
	done     chan struct{}
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func startProgress(w io.Writer, p *load.Progress) *progressView {
	v := &progressView{w: w, tty: isTerminal(w), p: p, bars: map[load.Phase]*progressbar.ProgressBar{},
		stop: make(chan struct{}), done: make(chan struct{})}
	if v.tty {
		fd := int(w.(*os.File).Fd())
		v.getWidth = func() int {
			cols, _, err := term.GetSize(fd)
			if err != nil {
				return 0
			}
			return cols
		}
	}
	interval := 5 * time.Second
	if v.tty {
		interval = 200 * time.Millisecond
	}
	go func() {
		defer close(v.done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-v.stop:
				v.frame(true)
				return
			case <-t.C:
				v.frame(false)
			}
		}
	}()
	return v
}

// Stop draws a last frame and returns once the drawing goroutine ended.
func (v *progressView) Stop() {
	v.stopOnce.Do(func() { close(v.stop) })
	<-v.done
}

func (v *progressView) frame(final bool) {
	snap := v.p.Snapshot()
	now := time.Now()
	if !v.tty {
		if final {
			return // the summary table follows
		}
		for _, ph := range snap {
			if ph.State == load.PhaseRunning {
				fmt.Fprintln(v.w, progressLine(ph, now))
			}
		}
		return
	}
	if v.getWidth != nil {
		v.width = v.getWidth()
	}
	var b strings.Builder
	if v.drawn > 0 {
		fmt.Fprintf(&b, "\x1b[%dA", v.drawn)
	}
	lines := 0
	for _, ph := range snap {
		if ph.State == load.PhasePending {
			continue
		}
		b.WriteString(v.barLine(ph, now))
		lines++
	}
	v.drawn = lines
	io.WriteString(v.w, b.String())
}

// barLine renders one phase's bar on a cleared terminal line. The bar draws the
// done/total; the rate and ETA come from the phase's own clock (phaseRate): the
// bar's would count from its first frame, which can be long after the phase
// started, and show absurd rates at first.
func (v *progressView) barLine(ph load.PhaseStats, now time.Time) string {
	bar := v.bar(ph)
	bar.Set64(ph.Done())
	line := strings.TrimSpace(strings.TrimPrefix(bar.String(), "\r")) + phaseRate(ph, now)
	// The last column stays free: some terminals wrap on writing it.
	if r := []rune(line); v.width > 1 && len(r) > v.width-1 {
		line = string(r[:v.width-1])
	}
	return "\x1b[2K" + line + "\n"
}

func (v *progressView) bar(ph load.PhaseStats) *progressbar.ProgressBar {
	bar, ok := v.bars[ph.Phase]
	max := ph.Total
	if max <= 0 {
		max = -1 // unknown: a spinner
	}
	if !ok {
		bar = progressbar.NewOptions64(max,
			progressbar.OptionSetWriter(io.Discard),
			progressbar.OptionSetDescription(fmt.Sprintf("%-16s", ph.Phase)),
			progressbar.OptionShowCount(),
			progressbar.OptionSetElapsedTime(false),
			progressbar.OptionSetPredictTime(false),
			progressbar.OptionSetWidth(28),
			progressbar.OptionThrottle(0),
			// No spinner goroutine: with an unknown total it would render
			// concurrently with the String calls this view draws from.
			progressbar.OptionSetSpinnerChangeInterval(0),
		)
		v.bars[ph.Phase] = bar
	}
	return bar
}

// progressLine is the plain-text progress of one phase: done/total, rate, ETA.
func progressLine(ph load.PhaseStats, now time.Time) string {
	done := ph.Done()
	s := fmt.Sprintf("%-16s %d", ph.Phase, done)
	if ph.Total > 0 {
		s += fmt.Sprintf("/%d (%.1f%%)", ph.Total, 100*float64(done)/float64(ph.Total))
	}
	return s + phaseRate(ph, now)
}

// phaseRate is a phase's records per second since it started (until it finished),
// its ETA while it runs, and its rejects.
func phaseRate(ph load.PhaseStats, now time.Time) string {
	var s string
	done := ph.Done()
	end := now
	if !ph.Finished.IsZero() {
		end = ph.Finished
	}
	if el := end.Sub(ph.Started).Seconds(); !ph.Started.IsZero() && el > 0 {
		rate := float64(done) / el
		s += fmt.Sprintf("  %.1f rec/s", rate)
		if ph.Finished.IsZero() && ph.Total > done && rate > 0 {
			eta := time.Duration(float64(ph.Total-done) / rate * float64(time.Second)).Round(time.Second)
			s += fmt.Sprintf("  ETA %s", eta)
		}
	}
	if ph.Rejected > 0 {
		s += fmt.Sprintf("  rejected %d", ph.Rejected)
	}
	return s
}
