// Package memlimit gives the provider process a soft memory limit and the
// garbage collector pacing that goes with it.
//
// Terraform's plugin protocol makes the framework copy whole resource
// states on every call, so a plan over a thousand certificates allocates
// gigabytes of short-lived garbage while its live heap stays near 60 MiB.
// With the Go runtime's default (GOGC=100 and no limit) the heap is allowed
// to double before each collection, and the process peaks near 170 MiB. A
// soft limit makes the collector run earlier when the heap nears it, at a
// cost measured as noise in `make bench` (docs/guides/performance.md).
//
// Below the limit the collector runs when the heap has grown by GCPercent
// since the last collection, not by the runtime's default 100%: the
// process lives for one Terraform command, and a collection costs what the
// live heap costs to mark, not what the garbage it frees, so fewer of them
// cost less CPU (a quarter of the provider's in a plan of a thousand
// certificates) while the soft limit still bounds the heap.
package memlimit

import (
	"os"
	"runtime/debug"
)

// Default is the soft limit the provider runs with when GOMEMLIMIT is unset.
// It is soft: a process that needs more gets more, it only collects more
// often above it.
const Default = 100 << 20

// GCPercent is the collector's target heap growth when GOGC is unset.
const GCPercent = 400

// Apply sets the soft memory limit to Default unless the user chose one
// with GOMEMLIMIT, and the collector's pacing to GCPercent unless the user
// chose one with GOGC: the user's settings always win. It returns the limit
// in force.
func Apply() int64 {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(GCPercent)
	}
	if _, set := os.LookupEnv("GOMEMLIMIT"); set {
		return debug.SetMemoryLimit(-1) // -1 reads the limit without changing it
	}
	debug.SetMemoryLimit(Default)
	return Default
}
