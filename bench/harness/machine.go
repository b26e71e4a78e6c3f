package main

import (
	"os"
	"os/exec"
	"runtime"
	"strings"
)

// machine describes where the figures were measured.
type machine struct {
	CPUs        int    `json:"nproc"`
	CPUModel    string `json:"cpu_model"`
	MemTotal    string `json:"mem_total"`
	Kernel      string `json:"kernel"`
	Terraform   string `json:"terraform"`
	Go          string `json:"go"`
	OpenSSL     string `json:"openssl"`
	LoadStart   string `json:"loadavg_start"`
	LoadEnd     string `json:"loadavg_end"`
	GitRevision string `json:"git_revision"`
}

func describeMachine(terraform string) machine {
	m := machine{CPUs: runtime.NumCPU(), Go: runtime.Version(), LoadStart: loadavg()}
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		m.CPUModel = field(string(data), "model name")
	}
	if data, err := os.ReadFile("/proc/meminfo"); err == nil {
		m.MemTotal = field(string(data), "MemTotal")
	}
	m.Kernel = firstOutputLine("uname", "-sr")
	m.Terraform = firstOutputLine(terraform, "version")
	m.OpenSSL = firstOutputLine("openssl", "version")
	m.GitRevision = firstOutputLine("git", "describe", "--always", "--dirty")
	return m
}

func field(text, name string) string {
	for _, line := range strings.Split(text, "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == name {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func loadavg() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

func firstOutputLine(name string, args ...string) string {
	cmd := exec.Command(name, args...)
	cmd.Env = append(baseEnv(), "CHECKPOINT_DISABLE=1")
	out, err := cmd.Output()
	if err != nil {
		return ""
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	return line
}
