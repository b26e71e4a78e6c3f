// Command providerwrap measures a Terraform provider process. The benchmark
// installs it under the provider's file name in a dev_overrides folder;
// Terraform starts it as the plugin, it starts the real provider
// (BENCH_WRAP_EXEC) with the same arguments, standard streams and
// environment, so the plugin handshake passes through untouched, and when
// the provider exits it appends one JSON line with the provider's own
// resource usage (peak RSS, CPU seconds) to BENCH_WRAP_LOG.
//
// ru_maxrss of the reaped child is the provider's peak resident memory
// alone: the wrapper's memory and Terraform's are not in it.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"
)

// usage is one line of BENCH_WRAP_LOG.
type usage struct {
	Exec       string  `json:"exec"`
	PID        int     `json:"pid"`
	ExitCode   int     `json:"exit_code"`
	WallSec    float64 `json:"wall_s"`
	UserSec    float64 `json:"user_s"`
	SysSec     float64 `json:"sys_s"`
	MaxRSSKiB  int64   `json:"max_rss_kib"`
	StartedUTC string  `json:"started"`
}

func main() {
	target := os.Getenv("BENCH_WRAP_EXEC")
	if target == "" {
		fmt.Fprintln(os.Stderr, "providerwrap: BENCH_WRAP_EXEC is not set")
		os.Exit(2)
	}
	cmd := exec.Command(target, os.Args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	// BENCH_WRAP_GOGC and BENCH_WRAP_GOMEMLIMIT tune the provider's
	// garbage collector alone, without touching Terraform's.
	cmd.Env = os.Environ()
	for _, name := range []string{"GOGC", "GOMEMLIMIT"} {
		if v := os.Getenv("BENCH_WRAP_" + name); v != "" {
			cmd.Env = append(cmd.Env, name+"="+v)
		}
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "providerwrap: %v\n", err)
		os.Exit(1)
	}
	// Terraform stops plugins over gRPC; a signal sent to the wrapper is
	// passed on so the provider still ends first.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		for s := range sigs {
			_ = cmd.Process.Signal(s)
		}
	}()
	err := cmd.Wait()
	code := 0
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		code = exitErr.ExitCode()
	} else if err != nil {
		fmt.Fprintf(os.Stderr, "providerwrap: %v\n", err)
		code = 1
	}
	record(usage{
		Exec:       target,
		PID:        cmd.Process.Pid,
		ExitCode:   code,
		WallSec:    time.Since(start).Seconds(),
		StartedUTC: start.UTC().Format(time.RFC3339Nano),
	}, cmd.ProcessState)
	os.Exit(code)
}

func record(u usage, ps *os.ProcessState) {
	path := os.Getenv("BENCH_WRAP_LOG")
	if path == "" || ps == nil {
		return
	}
	u.UserSec = ps.UserTime().Seconds()
	u.SysSec = ps.SystemTime().Seconds()
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		u.MaxRSSKiB = ru.Maxrss // Linux reports KiB
	}
	line, err := json.Marshal(u)
	if err != nil {
		return
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		fmt.Fprintf(os.Stderr, "providerwrap: %v\n", err)
		return
	}
	defer f.Close()
	_, _ = f.Write(append(line, '\n'))
}
