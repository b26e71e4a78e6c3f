package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// profiles are `go tool pprof -top` texts of what dominates, by name.
type profiles map[string]string

// runProfiles profiles the provider through a create apply and a plan of
// n certificates (provider processes built from bench/profprovider), and
// the enrollment benchmark with the devca in the same process, so both
// sides of an enrollment show.
func runProfiles(l *lab, ca *devca, n int, logf func(string, ...any)) (profiles, []string) {
	out := profiles{}
	var errs []string
	prof := filepath.Join(l.dir, "bin", "terraform-provider-cmpv2-prof")
	if err := goBuild(l.repo, prof, "./bench/profprovider"); err != nil {
		return out, []string{err.Error()}
	}
	ws, err := l.workspace(fmt.Sprintf("profile-%d", n), kindCMPv2, ca.env())
	if err == nil {
		err = os.WriteFile(filepath.Join(ws.dir, "main.tf"), []byte(configuration(kindCMPv2, n, variant{}, tlsFixtures{})), 0o644)
	}
	if err != nil {
		return out, []string{err.Error()}
	}
	ws.exec = prof
	for _, st := range []step{applyStep("apply", 10), planStep("plan", 10)} {
		dir := filepath.Join(l.dir, "pprof", st.label)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return out, append(errs, err.Error())
		}
		ws.env = append(ca.env(), "BENCH_PPROF_DIR="+dir)
		logf("profile: provider during terraform %s of N=%d", st.command, n)
		m, err := ws.run("profile-"+st.label, st.args...)
		if err != nil {
			errs = append(errs, err.Error())
			break
		}
		files, _ := filepath.Glob(filepath.Join(dir, "*.cpu.pprof"))
		text, err := pprofTop(prof, files, "-top", "-nodecount=30")
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		out["provider-"+st.command+"-cpu"] = fmt.Sprintf("terraform %s, N=%d: wall %.2f s, CPU %.2f s of which the provider %.2f s in %d processes\n\n%s",
			st.command, n, m.WallSec, m.CPUSec, m.ProviderCPUSec, m.ProviderProcesses, text)
		heaps, _ := filepath.Glob(filepath.Join(dir, "*.heap.pprof"))
		if text, err := pprofTop(prof, heaps, "-top", "-nodecount=20", "-sample_index=alloc_space"); err == nil {
			out["provider-"+st.command+"-alloc"] = text
		}
	}

	logf("profile: BenchmarkEnrollIR with the devca in the same process")
	cpu := filepath.Join(l.dir, "pprof", "enroll.cpu.pprof")
	testBin := filepath.Join(l.dir, "bin", "bench.test")
	cmd := exec.Command("go", "test", "-run", "^$", "-bench", "^BenchmarkEnrollIR$", "-benchtime", "2000x",
		"-cpuprofile", cpu, "-o", testBin, "./bench/")
	cmd.Dir = l.repo
	cmd.Env = withoutBenchCMP(os.Environ())
	if b, err := cmd.CombinedOutput(); err != nil {
		errs = append(errs, fmt.Sprintf("go test -cpuprofile: %v\n%s", err, b))
	} else if text, err := pprofTop(testBin, []string{cpu}, "-top", "-nodecount=30"); err == nil {
		out["enroll-inprocess-cpu"] = text
		if byPkg, err := pprofTop(testBin, []string{cpu}, "-top", "-nodecount=15", "-cum", "-focus=cmpv2"); err == nil {
			out["enroll-inprocess-cpu-cum"] = byPkg
		}
	} else {
		errs = append(errs, err.Error())
	}
	return out, errs
}

func goBuild(repo, out, pkg string) error {
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Dir = repo
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %v\n%s", pkg, err, b)
	}
	return nil
}

func pprofTop(binary string, files []string, args ...string) (string, error) {
	if len(files) == 0 {
		return "", fmt.Errorf("no profiles written for %s", binary)
	}
	cmd := exec.Command("go", append(append(append([]string{"tool", "pprof"}, args...), binary), files...)...)
	b, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go tool pprof: %v", err)
	}
	return string(b), nil
}

func withoutBenchCMP(env []string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, "BENCH_CMP_") {
			out = append(out, kv)
		}
	}
	return out
}
