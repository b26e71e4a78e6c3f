// Package profiling lets the benchmark's provider binaries write CPU and
// allocation profiles when BENCH_PPROF_DIR names a folder.
package profiling

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"time"
)

// Start begins a CPU profile in $BENCH_PPROF_DIR/<name>-<pid>.cpu.pprof
// and returns the function that ends it and writes the heap profile
// (allocations since start) beside it. While it runs, a heap profile is
// also written to <name>-<pid>.peak.pprof whenever the heap reaches a new
// high (10% above the last one), so what is live at the peak can be read.
// Without BENCH_PPROF_DIR it does nothing.
func Start(name string) (stop func()) {
	dir := os.Getenv("BENCH_PPROF_DIR")
	if dir == "" {
		return func() {}
	}
	base := filepath.Join(dir, fmt.Sprintf("%s-%d", name, os.Getpid()))
	cpu, err := os.Create(base + ".cpu.pprof")
	if err != nil {
		fmt.Fprintf(os.Stderr, "profiling: %v\n", err)
		return func() {}
	}
	if err := pprof.StartCPUProfile(cpu); err != nil {
		fmt.Fprintf(os.Stderr, "profiling: %v\n", err)
		cpu.Close()
		return func() {}
	}
	done := make(chan struct{})
	go watchPeak(base+".peak.pprof", done)
	return func() {
		close(done)
		pprof.StopCPUProfile()
		cpu.Close()
		heap, err := os.Create(base + ".heap.pprof")
		if err != nil {
			return
		}
		defer heap.Close()
		runtime.GC()
		_ = pprof.WriteHeapProfile(heap)
	}
}

// watchPeak samples the heap size every 100 ms and writes a heap profile
// at each new high.
func watchPeak(path string, done <-chan struct{}) {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	var peak uint64
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-done:
			return
		case <-tick.C:
		}
		metrics.Read(sample)
		if sample[0].Value.Kind() != metrics.KindUint64 {
			return
		}
		if v := sample[0].Value.Uint64(); v > peak+peak/10 {
			peak = v
			if f, err := os.Create(path); err == nil {
				_ = pprof.Lookup("heap").WriteTo(f, 0)
				f.Close()
			}
		}
	}
}
