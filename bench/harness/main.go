// Command harness runs `make bench`: Terraform plan and apply of N
// cmpv2_certificate resources against the development CA next to the same
// N of two floors (Terraform's built-in terraform_data, and a no-op
// provider with the same schema, beside its one-attribute resource) and of
// the hashicorp/tls resources that make the same certificates locally, a
// renewal of a tenth of them, applies
// with -parallelism=10 and 50, and CMP enrollment throughput of cmpclient
// against `openssl cmp`. Every figure is a ratio against something
// measured in the same run on the same machine.
//
// Settings (environment):
//
//	BENCH_N        comma-separated resource counts (default 100,1000)
//	BENCH_REPEAT   repetitions of the create+plan pair per N, median kept
//	               (default 3 for N <= 200, else 1)
//	BENCH_SECONDS  length of each enrollment throughput measurement (default 10)
//	BENCH_SECTIONS which parts run (default scale,renewal,parallelism,enroll;
//	               add profile for pprof of the provider and of enrollment)
//	BENCH_OUT      folder for the results (default .bench)
//	BENCH_RENDER   print the report of an earlier run's JSON file and stop
//	BENCH_KEEP     keep the scratch folder (workspaces, logs) when set
//	BENCH_REV      build the provider from this git revision instead of
//	               the working tree (e.g. HEAD)
//	BENCH_BASELINE_REV also measure cmpv2_certificate as the provider of this
//	               git revision serves it, in the same run (before/after)
//	BENCH_SDK_LOG  "trace" runs Terraform with TF_LOG_SDK, TF_LOG_SDK_FRAMEWORK
//	               and TF_LOG_SDK_PROTO at TRACE, the SDKs' default that
//	               internal/pluginlog turns off (both providers alike)
//	BENCH_WRAP_GOGC, BENCH_WRAP_GOMEMLIMIT  GOGC and GOMEMLIMIT of the provider
//	               processes only (bench/providerwrap)
//	BENCH_TLS_SOURCE   a checkout of github.com/hashicorp/terraform-provider-tls,
//	               built here for the tls comparison (GOFLAGS=-mod=mod)
//	BENCH_TLS_PROVIDER a built terraform-provider-tls binary instead; with
//	               neither, the tls rows are skipped and the report says why
//	BENCH_TLS_CHAIN_MAX largest N at which the tls chain (3 resources per
//	               certificate) runs; above it the three tls resource types
//	               run one at a time (default 200)
//	BENCH_RENEWAL  how a tenth of the certificates become due: trigger
//	               (default) or clock (with BENCH_CLOCK_ENV, the provider's
//	               clock variable); see renewal.go
//
// Results: BENCH_OUT/bench-<time>.{json,tsv,md}; the markdown is printed.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run() error {
	if path := os.Getenv("BENCH_RENDER"); path != "" {
		return render(path)
	}
	start := time.Now()
	logf := func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, "[%s] %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
	}
	repo, err := os.Getwd()
	if err != nil {
		return err
	}
	if _, err := os.Stat("go.mod"); err != nil {
		return fmt.Errorf("run from the repository root (make bench): %w", err)
	}
	ns, err := counts(envOr("BENCH_N", "100,1000"))
	if err != nil {
		return err
	}
	sections := strings.Split(envOr("BENCH_SECTIONS", "scale,renewal,parallelism,enroll"), ",")
	seconds, err := strconv.ParseFloat(envOr("BENCH_SECONDS", "10"), 64)
	if err != nil {
		return fmt.Errorf("BENCH_SECONDS: %w", err)
	}
	tf, err := exec.Command("scripts/terraform.sh").Output()
	if err != nil {
		return fmt.Errorf("scripts/terraform.sh: %w", err)
	}
	terraform := strings.TrimSpace(string(tf))

	res := results{
		Started: start.UTC().Format(time.RFC3339),
		Command: commandLine(),
		Machine: describeMachine(terraform),
	}
	chainMax, err := strconv.Atoi(envOr("BENCH_TLS_CHAIN_MAX", "200"))
	if err != nil {
		return fmt.Errorf("BENCH_TLS_CHAIN_MAX: %w", err)
	}
	logf("building the provider, the floor provider, the wrapper and the tls provider")
	l, err := newLab(repo, terraform, os.Getenv("BENCH_REV"), os.Getenv("BENCH_BASELINE_REV"))
	if err != nil {
		return err
	}
	res.TLSSkipped = l.tlsSkip
	if l.tlsSkip != "" {
		logf("SKIPPING the tls comparison: %s", l.tlsSkip)
	}
	if os.Getenv("BENCH_KEEP") == "" {
		defer l.close()
	} else {
		logf("scratch folder kept: %s", l.dir)
	}
	mode := renewalMode{name: envOr("BENCH_RENEWAL", "trigger"), clockEnv: os.Getenv("BENCH_CLOCK_ENV")}
	switch {
	case mode.name == "clock" && mode.clockEnv == "":
		return fmt.Errorf("BENCH_RENEWAL=clock needs BENCH_CLOCK_ENV, the provider's clock variable")
	case mode.name != "clock" && mode.name != "trigger":
		return fmt.Errorf("BENCH_RENEWAL=%q: want trigger or clock", mode.name)
	}
	res.Renewal = mode.describe()

	scale, profile := slices.Contains(sections, "scale"), slices.Contains(sections, "profile")
	if scale || profile {
		ca, err := startDevCA(l.provider, l.dir)
		if err != nil {
			return err
		}
		s := &scaleRunner{lab: l, ca: ca, renewal: mode, logf: logf, chainMax: chainMax}
		for i, n := range ns {
			if !scale {
				break
			}
			repeats := 1
			if n <= 200 {
				repeats = 3
			}
			if v := os.Getenv("BENCH_REPEAT"); v != "" {
				if repeats, err = strconv.Atoi(v); err != nil || repeats < 1 {
					ca.stop()
					return fmt.Errorf("BENCH_REPEAT=%q: want a positive number", v)
				}
			}
			last := i == len(ns)-1
			renewal := last && slices.Contains(sections, "renewal")
			logf("terraform: N=%d, %d repetition(s)%s", n, repeats, map[bool]string{true: ", then renewal", false: ""}[renewal])
			s.scale(n, repeats, renewal)
		}
		if scale && slices.Contains(sections, "parallelism") {
			n := ns[len(ns)-1]
			logf("terraform: N=%d with -parallelism=50", n)
			s.parallelism(n, 50)
		}
		if profile {
			var errs []string
			res.Profiles, errs = runProfiles(l, ca, ns[len(ns)-1], logf)
			for _, e := range errs {
				logf("profile: %s", e)
			}
		}
		ca.stop()
		events, byOp, failures := ca.counts()
		res.TerraformCA = caSummary{Events: events, ByOp: byOp, Failures: failures, MaxRSSMiB: ca.MaxRSSMiB}
		res.Rows = s.rows
	}
	if slices.Contains(sections, "enroll") {
		res.Enroll = runEnrollBench(l, seconds, logf)
	}
	res.Machine.LoadEnd = loadavg()
	res.DurationSec = time.Since(start).Seconds()

	md := machineMarkdown(res.Machine) + "\n" + res.markdown(ns)
	js, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	stamp := start.UTC().Format("20060102T150405Z")
	files := map[string][]byte{"json": js, "tsv": []byte(res.tsv()), "md": []byte(md)}
	for name, text := range res.Profiles {
		files[name+".txt"] = []byte(text)
	}
	paths, err := writeFiles(envOr("BENCH_OUT", ".bench"), stamp, files)
	if err != nil {
		return err
	}
	fmt.Println(md)
	slices.Sort(paths)
	fmt.Printf("results: %s (%.0f s)\n", strings.Join(paths, ", "), res.DurationSec)
	return nil
}

// render prints the markdown report of an earlier run's JSON.
func render(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var res results
	if err := json.Unmarshal(data, &res); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	var ns []int
	for _, x := range res.Rows {
		if x.Scenario == "scale" && !slices.Contains(ns, x.N) {
			ns = append(ns, x.N)
		}
	}
	slices.Sort(ns)
	if len(ns) == 0 {
		return fmt.Errorf("%s: no Terraform rows", path)
	}
	fmt.Println(machineMarkdown(res.Machine) + "\n" + res.markdown(ns))
	return nil
}

func machineMarkdown(m machine) string {
	return fmt.Sprintf("Machine: %d CPUs (%s), %s memory, %s; %s, %s, %s; load average %s at start, %s at end; revision %s.\n",
		m.CPUs, m.CPUModel, m.MemTotal, m.Kernel, m.Terraform, m.Go, m.OpenSSL, m.LoadStart, m.LoadEnd, m.GitRevision)
}

func commandLine() string {
	var parts []string
	for _, name := range []string{"BENCH_N", "BENCH_REPEAT", "BENCH_SECONDS", "BENCH_SECTIONS", "BENCH_REV", "BENCH_SDK_LOG", "BENCH_RENEWAL", "BENCH_CLOCK_ENV", "BENCH_TLS_SOURCE", "BENCH_TLS_PROVIDER", "BENCH_TLS_CHAIN_MAX", "BENCH_BASELINE_REV"} {
		if v := os.Getenv(name); v != "" {
			parts = append(parts, name+"="+v)
		}
	}
	return strings.Join(append(parts, "make bench"), " ")
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func counts(list string) ([]int, error) {
	var ns []int
	for _, f := range strings.Split(list, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 10 {
			return nil, fmt.Errorf("BENCH_N=%q: want numbers >= 10 separated by commas", list)
		}
		ns = append(ns, n)
	}
	slices.Sort(ns)
	return ns, nil
}
