package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"sync"
	"time"
)

// memProfiler writes heap profiles of a run, for the memory benchmark
// (scripts/bench-rss.sh): `immigrate run --memprofile PREFIX` writes
// PREFIX.<stage>.pprof (the live heap after a GC) at the end of the validate
// pass and of the load, and PREFIX.peak.pprof whenever the heap in use, sampled
// every second, reaches a new high; it prints the heap's sizes to stderr. The
// flag is hidden: it is a tool for developers.
type memProfiler struct {
	prefix string
	stderr io.Writer
	stop   chan struct{}
	wg     sync.WaitGroup
	mu     sync.Mutex // serialises profile writes
}

func newMemProfiler(prefix string, stderr io.Writer) *memProfiler {
	m := &memProfiler{prefix: prefix, stderr: stderr, stop: make(chan struct{})}
	if prefix == "" {
		return m
	}
	m.wg.Go(func() {
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		var peak uint64
		for {
			select {
			case <-m.stop:
				return
			case <-tick.C:
			}
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak+peak/20 {
				peak = ms.HeapInuse
				m.profile("peak", false)
			}
		}
	})
	return m
}

// write profiles the heap at the end of stage.
func (m *memProfiler) write(stage string) {
	if m.prefix != "" {
		m.profile(stage, true)
	}
}

// close stops the sampler.
func (m *memProfiler) close() {
	if m.prefix == "" {
		return
	}
	close(m.stop)
	m.wg.Wait()
}

// profile writes PREFIX.stage.pprof; a failure is printed, not returned, since
// it must not fail the run.
func (m *memProfiler) profile(stage string, gc bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if gc {
		runtime.GC()
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Fprintf(m.stderr, "memprofile %s: heap in use %.1f MB, heap held %.1f MB, total from the OS %.1f MB\n",
		stage, float64(ms.HeapInuse)/1e6, float64(ms.HeapSys-ms.HeapReleased)/1e6, float64(ms.Sys)/1e6)
	f, err := os.Create(m.prefix + "." + stage + ".pprof")
	if err != nil {
		fmt.Fprintln(m.stderr, "memprofile:", err)
		return
	}
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		fmt.Fprintln(m.stderr, "memprofile:", err)
	}
	if err := f.Close(); err != nil {
		fmt.Fprintln(m.stderr, "memprofile:", err)
	}
}
