// Package memlimit gives the provider process a soft memory limit.
//
// Terraform's plugin protocol makes the framework copy whole resource
// states on every call, so a plan over a thousand certificates allocates
// gigabytes of short-lived garbage while its live heap stays near 60 MiB.
// With the Go runtime's default (GOGC=100 and no limit) the heap is allowed
// to double before each collection, and the process peaks near 170 MiB. A
// soft limit makes the collector run earlier when the heap nears it, at a
// cost measured as noise in `make bench` (docs/guides/performance.md).
package memlimit

import (
	"os"
	"runtime/debug"
)

// Default is the soft limit the provider runs with when GOMEMLIMIT is unset.
// It is soft: a process that needs more gets more, it only collects more
// often above it.
const Default = 100 << 20

// Apply sets the soft memory limit to Default unless the user chose one
// with GOMEMLIMIT, which always wins. It returns the limit in force.
func Apply() int64 {
	if _, set := os.LookupEnv("GOMEMLIMIT"); set {
		return debug.SetMemoryLimit(-1) // -1 reads the limit without changing it
	}
	debug.SetMemoryLimit(Default)
	return Default
}
