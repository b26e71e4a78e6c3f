package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// row is one measured Terraform command.
type row struct {
	// Scenario: "scale" (create N, then a plan with no changes),
	// "renewal" (a tenth of N renewed), "parallelism".
	Scenario    string `json:"scenario"`
	Kind        kind   `json:"kind"`
	N           int    `json:"n"`
	Command     string `json:"command"`
	Parallelism int    `json:"parallelism"`
	Repeats     int    `json:"repeats"`
	measurement
	// StateBytesPerResource is the state file size divided by N.
	StateBytesPerResource float64 `json:"state_bytes_per_resource"`
	// CAEvents and CAFailures are the devca's JSON lines during the
	// command (cmpv2 only): how many, and the refusals or errors among them.
	CAEvents   int      `json:"ca_events"`
	CAFailures []string `json:"ca_failures,omitempty"`
	Error      string   `json:"error,omitempty"`
	Skipped    string   `json:"skipped,omitempty"`
	// Note flags a plan that did not show what the scenario expects.
	Note string `json:"note,omitempty"`
}

// scaleRunner runs the Terraform scenarios.
type scaleRunner struct {
	lab     *lab
	ca      *devca
	renewal renewalMode
	logf    func(string, ...any)
	// chainMax is the largest N at which the tls chain runs; above it the
	// tls resource types run one at a time (BENCH_TLS_CHAIN_MAX).
	chainMax int
	// cmpv2Missing is set once the provider turns out not to have
	// cmpv2_certificate; the remaining cmpv2 rows are skipped.
	cmpv2Missing string
	rows         []row
	// applyEnded is when the last create apply of each kind ended.
	applyEnded map[kind]time.Time
}

// step is one command of a scenario.
type step struct {
	label, command string
	args           []string
	env            []string
}

// measure runs the steps in the workspace and returns one row per step.
func (s *scaleRunner) measure(ws *workspace, scenario string, n, parallelism int, steps []step) []row {
	var out []row
	for _, st := range steps {
		r := row{Scenario: scenario, Kind: ws.kind, N: n, Command: st.command, Parallelism: parallelism, Repeats: 1}
		if ws.kind == kindCMPv2 && s.cmpv2Missing != "" {
			r.Skipped = s.cmpv2Missing
			out = append(out, r)
			continue
		}
		if isTLS(ws.kind) && s.lab.tlsSkip != "" {
			r.Skipped = s.lab.tlsSkip
			out = append(out, r)
			continue
		}
		var eventsBefore, failuresBefore int
		if ws.kind == kindCMPv2 && s.ca != nil {
			var f []string
			eventsBefore, _, f = s.ca.counts()
			failuresBefore = len(f)
		}
		saved := ws.env
		ws.env = append(append([]string(nil), ws.env...), st.env...)
		m, err := ws.run(st.label, st.args...)
		ws.env = saved
		if st.command == "apply" {
			if s.applyEnded == nil {
				s.applyEnded = map[kind]time.Time{}
			}
			s.applyEnded[ws.kind] = time.Now()
		}
		r.measurement = m
		if n > 0 {
			r.StateBytesPerResource = float64(m.StateBytes) / float64(n)
		}
		if ws.kind == kindCMPv2 && s.ca != nil {
			after, _, failures := s.ca.counts()
			r.CAEvents = after - eventsBefore
			if len(failures) > failuresBefore {
				r.CAFailures = failures[failuresBefore:]
			}
		}
		if want := expectedPlan(scenario, st.command, n); want != "" && err == nil && m.Summary != want {
			r.Note = fmt.Sprintf("expected %q, got %q", want, m.Summary)
		}
		if err != nil {
			r.Error = err.Error()
			switch {
			case ws.kind != kindCMPv2:
			case strings.Contains(err.Error(), "Invalid resource type"):
				s.cmpv2Missing = "the provider has no cmpv2_certificate resource yet"
			case strings.Contains(err.Error(), "not implemented yet"):
				s.cmpv2Missing = "cmpv2_certificate does not enroll over CMP yet"
			}
			if ws.kind == kindCMPv2 && s.cmpv2Missing != "" {
				r.Error, r.Skipped = "", s.cmpv2Missing
			}
		}
		s.logf("  %-18s n=%-5d %-7s p=%-3d wall %6.2fs cpu %6.2fs provider %5.1f MiB state %6.0f B/res %s%s",
			ws.kind, n, st.command, parallelism, m.WallSec, m.CPUSec, m.ProviderMaxRSSMiB, r.StateBytesPerResource, m.Summary, firstLine(r.Error+r.Skipped+r.Note))
		out = append(out, r)
		if r.Error != "" || r.Skipped != "" {
			break
		}
	}
	return out
}

// expectedPlan is the summary line a plan of the scenario must end with.
func expectedPlan(scenario, command string, n int) string {
	switch {
	case command != "plan":
		return ""
	case scenario == "scale":
		return "No changes. Your infrastructure matches the configuration."
	case scenario == "renewal":
		return fmt.Sprintf("Plan: 0 to add, %d to change, 0 to destroy.", n/10)
	}
	return ""
}

func firstLine(s string) string {
	if s == "" {
		return ""
	}
	line, _, _ := strings.Cut(s, "\n")
	return " | " + line
}

func applyStep(label string, parallelism int, env ...string) step {
	return step{label: label, command: "apply", env: env,
		args: []string{"apply", "-auto-approve", "-input=false", "-no-color", fmt.Sprintf("-parallelism=%d", parallelism)}}
}

func planStep(label string, parallelism int, env ...string) step {
	return step{label: label, command: "plan", env: env,
		args: []string{"plan", "-input=false", "-no-color", "-detailed-exitcode", fmt.Sprintf("-parallelism=%d", parallelism)}}
}

// scale creates n resources of every kind (apply), then plans with no
// changes (refresh included), `repeats` times in fresh workspaces with the
// kinds interleaved; the row holds the median of each figure. With
// renewal, the last repetition's workspaces then go through the renewal
// scenario.
func (s *scaleRunner) scale(n, repeats int, renewal bool) {
	runs := map[kind][][]row{}
	last := map[kind]*workspace{}
	kinds := kindsAt(n, s.chainMax, s.lab.baseline != "")
	for rep := range repeats {
		for _, k := range kinds {
			ws, err := s.prepare(fmt.Sprintf("%s-%d-r%d", k, n, rep), k, n, s.renewal.base(k, n))
			if err != nil {
				runs[k] = append(runs[k], []row{{Scenario: "scale", Kind: k, N: n, Error: err.Error()}})
				continue
			}
			runs[k] = append(runs[k], s.measure(ws, "scale", n, 10, []step{applyStep("apply", 10), planStep("plan", 10)}))
			last[k] = ws
		}
	}
	for _, k := range kinds {
		s.rows = append(s.rows, medianRows(runs[k])...)
	}
	if !renewal {
		return
	}
	for _, k := range renewalKinds {
		ws := last[k]
		if ws == nil {
			continue
		}
		if err := os.WriteFile(filepath.Join(ws.dir, "main.tf"), []byte(configuration(k, n, s.renewal.renew(k, n), s.lab.tlsFixtures)), 0o644); err != nil {
			s.rows = append(s.rows, row{Scenario: "renewal", Kind: k, N: n, Error: err.Error()})
			continue
		}
		env := s.renewal.env(k)
		s.rows = append(s.rows, s.measure(ws, "renewal", n, 10, []step{planStep("renew-plan", 10, env...), applyStep("renew-apply", 10, env...)})...)
	}
}

// parallelism applies n resources of the plugin floor and of cmpv2 with
// -parallelism=p in fresh workspaces.
func (s *scaleRunner) parallelism(n, p int) {
	for _, k := range []kind{kindPlugin, kindCMPv2} {
		ws, err := s.prepare(fmt.Sprintf("%s-%d-p%d", k, n, p), k, n, s.renewal.base(k, n))
		if err != nil {
			s.rows = append(s.rows, row{Scenario: "parallelism", Kind: k, N: n, Parallelism: p, Error: err.Error()})
			continue
		}
		s.rows = append(s.rows, s.measure(ws, "parallelism", n, p, []step{applyStep("apply", p)})...)
	}
}

func (s *scaleRunner) prepare(name string, k kind, n int, v variant) (*workspace, error) {
	var env []string
	if (k == kindCMPv2 || k == kindBaseline) && s.ca != nil {
		env = s.ca.env()
	}
	ws, err := s.lab.workspace(name, k, env)
	if err != nil {
		return nil, err
	}
	return ws, os.WriteFile(filepath.Join(ws.dir, "main.tf"), []byte(configuration(k, n, v, s.lab.tlsFixtures)), 0o644)
}

// medianRows merges repetitions of the same steps: each figure is the
// median over the repetitions that completed.
func medianRows(reps [][]row) []row {
	if len(reps) == 0 {
		return nil
	}
	if len(reps) == 1 {
		return reps[0]
	}
	var out []row
	for i := range reps[0] {
		var ok []row
		for _, rep := range reps {
			if i < len(rep) && rep[i].Error == "" && rep[i].Skipped == "" {
				ok = append(ok, rep[i])
			}
		}
		if len(ok) == 0 {
			out = append(out, reps[0][i])
			continue
		}
		r := ok[len(ok)/2]
		med := func(get func(row) float64) float64 {
			vals := make([]float64, len(ok))
			for j, x := range ok {
				vals[j] = get(x)
			}
			sort.Float64s(vals)
			if len(vals)%2 == 1 {
				return vals[len(vals)/2]
			}
			return (vals[len(vals)/2-1] + vals[len(vals)/2]) / 2
		}
		r.WallSec = med(func(x row) float64 { return x.WallSec })
		r.CPUSec = med(func(x row) float64 { return x.CPUSec })
		r.ProviderCPUSec = med(func(x row) float64 { return x.ProviderCPUSec })
		r.ProviderMaxRSSMiB = med(func(x row) float64 { return x.ProviderMaxRSSMiB })
		r.TerraformMaxRSSMiB = med(func(x row) float64 { return x.TerraformMaxRSSMiB })
		r.Repeats = len(ok)
		for _, x := range ok {
			r.CAFailures = append(r.CAFailures, x.CAFailures...)
		}
		out = append(out, r)
	}
	return out
}
