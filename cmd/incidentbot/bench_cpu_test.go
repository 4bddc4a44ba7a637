package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// cpuMeter measures the CPU time this process used over a benchmark's
// timed part (user and system, from getrusage). Steal does not count in it,
// so on a VM whose speed changes from one minute to the next it compares
// two versions of the code, or the bot and its floor, more steadily than
// wall time does. It covers this process only: the bot and the fake Slack in
// the storm benchmarks, not the nodes of the cluster benchmark.
//
// With BENCH_CPUPROFILE_DIR set it also writes a CPU profile of each timed
// part there (1.prof, 2.prof, …; `go tool pprof` merges them), which a
// whole-run -cpuprofile cannot give: it would hold the set-up too.
type cpuMeter struct {
	start   time.Duration
	ok      bool
	profile *os.File
}

var profiles atomic.Int64

func startCPU(b *testing.B) cpuMeter {
	var m cpuMeter
	if dir := os.Getenv("BENCH_CPUPROFILE_DIR"); dir != "" {
		f, err := os.Create(filepath.Join(dir, fmt.Sprintf("%d.prof", profiles.Add(1))))
		if err != nil {
			b.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			b.Fatal(err)
		}
		m.profile = f
	}
	m.start, m.ok = processCPU()
	return m
}

// report adds the CPU time used since start as the metric cpu-ms.
func (m cpuMeter) report(b *testing.B) {
	d, ok := processCPU()
	if m.profile != nil {
		pprof.StopCPUProfile()
		_ = m.profile.Close()
	}
	if m.ok && ok {
		b.ReportMetric(float64(d-m.start)/float64(time.Millisecond), "cpu-ms")
	}
}

func processCPU() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
