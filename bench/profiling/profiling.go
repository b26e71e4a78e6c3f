// Package profiling lets the benchmark's provider binaries write CPU and
// allocation profiles when BENCH_PPROF_DIR names a folder.
package profiling

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
)

// Start begins a CPU profile in $BENCH_PPROF_DIR/<name>-<pid>.cpu.pprof
// and returns the function that ends it and writes the heap profile
// (allocations since start) beside it. Without BENCH_PPROF_DIR it does
// nothing.
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
	return func() {
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
