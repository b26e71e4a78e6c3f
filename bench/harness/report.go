package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// results is everything one run measured; written as JSON, TSV and a
// markdown report.
type results struct {
	Started     string  `json:"started"`
	DurationSec float64 `json:"duration_s"`
	Command     string  `json:"command"`
	Machine     machine `json:"machine"`
	Renewal     string  `json:"renewal_scenario"`
	// TLSSkipped says why the tls comparison did not run ("" when it ran).
	TLSSkipped  string        `json:"tls_skipped,omitempty"`
	Rows        []row         `json:"terraform"`
	TerraformCA caSummary     `json:"terraform_devca"`
	Enroll      enrollResults `json:"enroll"`
	Profiles    profiles      `json:"profiles,omitempty"`
}

type caSummary struct {
	Events    int            `json:"events"`
	ByOp      map[string]int `json:"by_op"`
	Failures  []string       `json:"failures"`
	MaxRSSMiB float64        `json:"max_rss_mib"`
}

// find returns the row of one command, or nil.
func (r *results) find(scenario string, k kind, n int, command string, parallelism int) *row {
	for i := range r.Rows {
		x := &r.Rows[i]
		if x.Scenario == scenario && x.Kind == k && x.N == n && x.Command == command && x.Parallelism == parallelism {
			return x
		}
	}
	return nil
}

func ok(x *row) bool { return x != nil && x.Error == "" && x.Skipped == "" && x.WallSec > 0 }

func ratio(a, b *row, get func(*row) float64) string {
	if !ok(a) || !ok(b) || get(b) == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2fx", get(a)/get(b))
}

func wall(x *row) float64 { return x.WallSec }
func cpu(x *row) float64  { return x.CPUSec }

func cell(x *row, f string, get func(*row) float64) string {
	switch {
	case x == nil:
		return "–"
	case x.Skipped != "":
		return "skipped"
	case x.Error != "":
		return "FAILED"
	}
	return fmt.Sprintf(f, get(x))
}

// markdown renders the report: the Terraform table, the targets, the CMP
// throughput table.
func (r *results) markdown(ns []int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Run %s, %.0f s in all: `%s`\n\n", r.Started, r.DurationSec, r.Command)
	b.WriteString("| scenario | N | command | terraform_data wall (CPU) | plugin floor wall (CPU) | cmpv2 wall (CPU) | cmpv2 / plugin floor wall (CPU) | cmpv2 / terraform_data wall (CPU) | provider peak RSS floor / cmpv2 | state bytes per resource data / floor / cmpv2 |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|\n")
	type key struct {
		scenario string
		n        int
		command  string
		p        int
	}
	var keys []key
	seen := map[key]bool{}
	for _, x := range r.Rows {
		k := key{x.Scenario, x.N, x.Command, x.Parallelism}
		if !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	for _, k := range keys {
		core := r.find(k.scenario, kindCore, k.n, k.command, k.p)
		floor := r.find(k.scenario, kindPlugin, k.n, k.command, k.p)
		real := r.find(k.scenario, kindCMPv2, k.n, k.command, k.p)
		scenario := k.scenario
		if k.scenario == "parallelism" {
			scenario = fmt.Sprintf("parallelism=%d", k.p)
		}
		fmt.Fprintf(&b, "| %s | %d | %s | %s | %s | %s | %s (%s) | %s (%s) | %s / %s | %s / %s / %s |\n",
			scenario, k.n, k.command,
			wallCPU(core), wallCPU(floor), wallCPU(real),
			ratio(real, floor, wall), ratio(real, floor, cpu),
			ratio(real, core, wall), ratio(real, core, cpu),
			cell(floor, "%.0f MiB", func(x *row) float64 { return x.ProviderMaxRSSMiB }),
			cell(real, "%.0f MiB", func(x *row) float64 { return x.ProviderMaxRSSMiB }),
			cell(core, "%.0f", func(x *row) float64 { return x.StateBytesPerResource }),
			cell(floor, "%.0f", func(x *row) float64 { return x.StateBytesPerResource }),
			cell(real, "%.0f", func(x *row) float64 { return x.StateBytesPerResource }))
	}
	b.WriteString("\nWall: elapsed seconds of the terraform command. CPU: user + system seconds of terraform and the plugin processes it waited for. " +
		"Provider peak RSS: largest ru_maxrss of one provider process during the command, measured by a wrapper that starts the provider as its child. " +
		"State bytes: terraform.tfstate after the command, divided by N.\n")
	for _, x := range r.Rows {
		if x.Note != "" {
			fmt.Fprintf(&b, "\nNote: %s %s N=%d %s: %s\n", x.Scenario, x.Kind, x.N, x.Command, x.Note)
		}
	}
	if len(r.TerraformCA.Failures) > 0 {
		fmt.Fprintf(&b, "\nCA-side failures during the Terraform runs: %d, e.g. `%s`\n", len(r.TerraformCA.Failures), r.TerraformCA.Failures[0])
	} else if r.TerraformCA.Events > 0 {
		fmt.Fprintf(&b, "\nThe devca logged %d messages during the Terraform runs (%v), none of them a refusal or error; its peak RSS was %.0f MiB.\n",
			r.TerraformCA.Events, r.TerraformCA.ByOp, r.TerraformCA.MaxRSSMiB)
	}

	b.WriteString("\n" + r.tlsMarkdown(ns))
	b.WriteString("\n" + r.targets(ns))

	e := r.Enroll
	if e.Seconds == 0 {
		return b.String()
	}
	b.WriteString("\n| CMP enrollment (ir + certConf, ECDSA P-256, PBM, loopback HTTP, devca process) | result |\n|---|---|\n")
	fmt.Fprintf(&b, "| cmpclient, one client, sequential | %.0f enrollments/s (%d in %.0f s) |\n", e.CMPClientPerSec, e.CMPClientCount, e.Seconds)
	fmt.Fprintf(&b, "| `openssl cmp -cmd ir`, one process per enrollment, sequential | %.1f enrollments/s (%d) |\n", e.OpenSSLPerSec, e.OpenSSLCount)
	fmt.Fprintf(&b, "| cmpclient / openssl | %.1fx |\n", e.Ratio)
	fmt.Fprintf(&b, "| cmpclient Go benchmark (BenchmarkEnrollIR, CA in another process) | %.0f µs/enrollment, %.0f allocs/enrollment, %.0f B/enrollment |\n",
		e.GoBench.NsPerOp/1e3, e.GoBench.AllocsPerOp, e.GoBench.BytesPerOp)
	for _, c := range e.Concurrency {
		fmt.Fprintf(&b, "| devca with %d concurrent cmpclient clients | %.0f requests/s (%.0f enrollments/s, %d client errors) |\n",
			c.Clients, c.RequestsPerSec, c.EnrollPerSec, c.Errors)
	}
	fmt.Fprintf(&b, "| devca peak RSS over this section | %.0f MiB |\n", e.DevCAMaxRSSMiB)
	fmt.Fprintf(&b, "| CA-side failures in this section | %d |\n", len(e.CAFailures))
	for _, msg := range e.Errors {
		fmt.Fprintf(&b, "\nError: %s\n", firstLine(msg)[3:])
	}
	for _, msg := range e.Notes {
		fmt.Fprintf(&b, "\nNote: %s\n", msg)
	}
	return b.String()
}

func wallCPU(x *row) string {
	switch {
	case x == nil:
		return "–"
	case x.Skipped != "":
		return "skipped"
	case x.Error != "":
		return "FAILED"
	}
	return fmt.Sprintf("%.2f s (%.2f s)", x.WallSec, x.CPUSec)
}

// targets checks the targets against this run.
func (r *results) targets(ns []int) string {
	var b strings.Builder
	b.WriteString("| target | measured | met |\n|---|---|---|\n")
	num := func(v float64, f string, have bool) string {
		if !have {
			return "–"
		}
		return fmt.Sprintf(f, v)
	}
	verdict := func(good bool, have bool) string {
		switch {
		case !have:
			return "not measured"
		case good:
			return "yes"
		}
		return "**no**"
	}
	// Ratios are judged on wall time and on CPU time: on a shared
	// machine the wall clock also measures the neighbours.
	ratioOf := func(scenario string, n int, command string) (wallR, cpuR float64, have bool) {
		a, f := r.find(scenario, kindCMPv2, n, command, 10), r.find(scenario, kindPlugin, n, command, 10)
		if !ok(a) || !ok(f) || f.CPUSec == 0 {
			return 0, 0, false
		}
		return a.WallSec / f.WallSec, a.CPUSec / f.CPUSec, true
	}
	both := func(w, c float64, have bool) string {
		if !have {
			return "–"
		}
		return fmt.Sprintf("wall %.2fx, CPU %.2fx", w, c)
	}
	verdict2 := func(w, c, limit float64, have bool) string {
		if !have {
			return "not measured"
		}
		yes := func(v float64) string {
			if v <= limit {
				return "yes"
			}
			return "**no**"
		}
		return "wall " + yes(w) + ", CPU " + yes(c)
	}
	for _, c := range []struct {
		command string
		limit   float64
	}{{"apply", 1.5}, {"plan", 1.1}} {
		for _, n := range ns {
			w, cp, have := ratioOf("scale", n, c.command)
			fmt.Fprintf(&b, "| %s <= %.1fx plugin floor, N=%d | %s | %s |\n", c.command, c.limit, n, both(w, cp, have), verdict2(w, cp, c.limit, have))
		}
		if len(ns) > 1 {
			lw, lc, h1 := ratioOf("scale", ns[0], c.command)
			hw, hc, h2 := ratioOf("scale", ns[len(ns)-1], c.command)
			flat := func(lo, hi float64) bool { return hi/lo <= 1.25 && hi/lo >= 0.8 }
			v := "not measured"
			if h1 && h2 {
				v = "wall " + map[bool]string{true: "yes", false: "**no**"}[flat(lw, hw)] + ", CPU " + map[bool]string{true: "yes", false: "**no**"}[flat(lc, hc)]
			}
			fmt.Fprintf(&b, "| %s ratio flat from N=%d to N=%d (within 1.25x) | wall %s -> %s, CPU %s -> %s | %s |\n",
				c.command, ns[0], ns[len(ns)-1], num(lw, "%.2fx", h1), num(hw, "%.2fx", h2), num(lc, "%.2fx", h1), num(hc, "%.2fx", h2), v)
		}
	}
	big := ns[len(ns)-1]
	var peak, floorPeak float64
	for _, x := range r.Rows {
		switch {
		case x.Kind == kindCMPv2 && x.N == big && ok(&x):
			peak = max(peak, x.ProviderMaxRSSMiB)
		case x.Kind == kindPlugin && x.N == big && ok(&x):
			floorPeak = max(floorPeak, x.ProviderMaxRSSMiB)
		}
	}
	fmt.Fprintf(&b, "| provider peak memory < 150 MiB at N=%d | %s (plugin floor: %s) | %s |\n", big,
		num(peak, "%.0f MiB", peak > 0), num(floorPeak, "%.0f MiB", floorPeak > 0), verdict(peak < 150, peak > 0))
	for _, command := range []string{"plan", "apply"} {
		limit := map[string]float64{"plan": 1.1, "apply": 1.5}[command]
		w, cp, have := ratioOf("renewal", big, command)
		fmt.Fprintf(&b, "| renewal %s (a tenth of N=%d renewed) <= %.1fx plugin floor | %s | %s |\n", command, big, limit, both(w, cp, have), verdict2(w, cp, limit, have))
	}
	for _, p := range []int{10, 50} {
		scenario := "parallelism"
		if p == 10 {
			scenario = "scale"
		}
		x := r.find(scenario, kindCMPv2, big, "apply", p)
		have := x != nil && x.Skipped == ""
		good := ok(x) && len(x.CAFailures) == 0
		msg := "–"
		if x != nil && have {
			msg = fmt.Sprintf("%s, %d CA messages, %d CA-side failures", map[bool]string{true: "completed", false: "FAILED"}[x.Error == ""], x.CAEvents, len(x.CAFailures))
		}
		fmt.Fprintf(&b, "| apply -parallelism=%d of N=%d completes, no CA-side failure | %s | %s |\n", p, big, msg, verdict(good, have))
	}
	b.WriteString(r.tlsTargets(ns))
	e := r.Enroll
	if e.Seconds == 0 {
		return b.String()
	}
	fmt.Fprintf(&b, "| cmpclient >= 20x `openssl cmp` enrollments/s | %s | %s |\n", num(e.Ratio, "%.1fx", e.Ratio > 0), verdict(e.Ratio >= 20, e.Ratio > 0))
	return b.String()
}

// tsv is one line per Terraform row.
func (r *results) tsv() string {
	var b strings.Builder
	b.WriteString("scenario\tkind\tn\tcommand\tparallelism\trepeats\twall_s\tcpu_s\tprovider_cpu_s\tprovider_max_rss_mib\tterraform_max_rss_mib\tstate_bytes_per_resource\tca_events\tca_failures\terror\n")
	for _, x := range r.Rows {
		status := x.Skipped
		if x.Error != "" {
			status = firstLine(x.Error)[3:]
		}
		fmt.Fprintf(&b, "%s\t%s\t%d\t%s\t%d\t%d\t%.3f\t%.3f\t%.3f\t%.1f\t%.1f\t%.0f\t%d\t%d\t%s\n",
			x.Scenario, x.Kind, x.N, x.Command, x.Parallelism, x.Repeats, x.WallSec, x.CPUSec, x.ProviderCPUSec,
			x.ProviderMaxRSSMiB, x.TerraformMaxRSSMiB, x.StateBytesPerResource, x.CAEvents, len(x.CAFailures), status)
	}
	return b.String()
}

func writeFiles(dir, stamp string, files map[string][]byte) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var paths []string
	for ext, data := range files {
		p := filepath.Join(dir, "bench-"+stamp+"."+ext)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			return paths, err
		}
		paths = append(paths, p)
	}
	return paths, nil
}
