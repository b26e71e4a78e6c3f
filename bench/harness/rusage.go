package main

import (
	"os"
	"syscall"
)

// maxRSSMiB is ru_maxrss of a reaped process (Linux reports KiB).
func maxRSSMiB(ps *os.ProcessState) float64 {
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		return float64(ru.Maxrss) / 1024
	}
	return 0
}
