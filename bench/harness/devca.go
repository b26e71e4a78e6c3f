package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// devca is a development CA process (`terraform-provider-cmpv2 devca`)
// with its JSON lines counted as they arrive.
type devca struct {
	cmd   *exec.Cmd
	ready struct {
		URL               string `json:"url"`
		Reference         string `json:"reference"`
		Secret            string `json:"secret"`
		CACertificateFile string `json:"ca_certificate_file"`
		CACertificatePEM  string `json:"ca_certificate_pem"`
	}
	done chan struct{}

	mu       sync.Mutex
	events   int
	byOp     map[string]int
	failures []string
	// MaxRSSMiB is ru_maxrss of the stopped process.
	MaxRSSMiB float64
}

// startDevCA starts the CA on a free loopback port with its state in a
// fresh folder under dir and waits for its ready line.
func startDevCA(binary, dir string, flags ...string) (*devca, error) {
	state := filepath.Join(dir, "devca-state")
	args := append([]string{"devca", "-listen", "127.0.0.1:0", "-dir", state}, flags...)
	cmd := exec.Command(binary, args...)
	logFile, err := os.Create(filepath.Join(dir, "devca.stderr"))
	if err != nil {
		return nil, err
	}
	cmd.Stderr = logFile
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	d := &devca{cmd: cmd, byOp: map[string]int{}, done: make(chan struct{})}
	lines := bufio.NewReader(stdout)
	first := make(chan error, 1)
	go func() {
		line, err := lines.ReadBytes('\n')
		if err == nil {
			err = json.Unmarshal(line, &d.ready)
		}
		first <- err
		if err == nil {
			d.consume(lines)
		}
		close(d.done)
	}()
	select {
	case err := <-first:
		if err != nil {
			d.stop()
			return nil, fmt.Errorf("devca ready line: %w (see %s)", err, logFile.Name())
		}
	case <-time.After(60 * time.Second):
		d.stop()
		return nil, errors.New("devca did not print its ready line within 60s")
	}
	return d, nil
}

// consume counts every event line; a refusal, an error answer or an
// undecodable request is a CA-side failure.
func (d *devca) consume(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		var ev struct {
			Op           string   `json:"op"`
			Status       string   `json:"status"`
			FailInfo     []string `json:"fail_info"`
			StatusString string   `json:"status_string"`
		}
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			continue
		}
		d.mu.Lock()
		d.events++
		d.byOp[ev.Op]++
		if ev.Status == "rejection" || ev.Status == "error" || ev.Op == "error" || ev.Op == "invalid" {
			d.failures = append(d.failures, fmt.Sprintf("%s %s %v %s", ev.Op, ev.Status, ev.FailInfo, ev.StatusString))
		}
		d.mu.Unlock()
	}
}

// counts returns how many events arrived and the failures so far.
func (d *devca) counts() (events int, byOp map[string]int, failures []string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	byOp = map[string]int{}
	for k, v := range d.byOp {
		byOp[k] = v
	}
	return d.events, byOp, append([]string(nil), d.failures...)
}

// vmHWMMiB is the process's peak resident set so far (/proc/PID/status).
func (d *devca) vmHWMMiB() float64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", d.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kib, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kib / 1024
		}
	}
	return 0
}

// stop ends the CA by its PID (SIGTERM, SIGKILL after 15 s) and records
// its peak memory.
func (d *devca) stop() {
	if d.cmd.Process == nil {
		return
	}
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	waited := make(chan struct{})
	go func() { _ = d.cmd.Wait(); close(waited) }()
	select {
	case <-waited:
	case <-time.After(15 * time.Second):
		_ = d.cmd.Process.Kill()
		<-waited
	}
	if d.cmd.ProcessState != nil {
		d.MaxRSSMiB = maxRSSMiB(d.cmd.ProcessState)
	}
	select {
	case <-d.done:
	case <-time.After(5 * time.Second):
	}
}

// env is what the provider needs to enroll at this CA.
func (d *devca) env() []string {
	return []string{
		"CMPV2_URL=" + d.ready.URL,
		"CMPV2_REFERENCE=" + d.ready.Reference,
		"CMPV2_SECRET=" + d.ready.Secret,
		"CMPV2_TRUSTED_CA_PEM=" + d.ready.CACertificatePEM,
	}
}
