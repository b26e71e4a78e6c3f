package main

import (
	"fmt"
	"strings"
)

// tlsSum is the tls comparison at one N and command: the chain's row, or
// the three tls resource types' rows summed (wall, CPU and provider CPU
// add up; peak RSS is the largest). ok is false when a part is missing.
func (r *results) tlsSum(scenario string, n int, command string) (sum row, parts []*row, have bool) {
	if x := r.find(scenario, kindTLSChain, n, command, 10); x != nil {
		return *x, []*row{x}, ok(x)
	}
	sum = row{Scenario: scenario, Kind: "tls (3 types)", N: n, Command: command, Parallelism: 10}
	have = true
	for _, k := range tlsTypes {
		x := r.find(scenario, k, n, command, 10)
		parts = append(parts, x)
		if !ok(x) {
			have = false
			continue
		}
		sum.WallSec += x.WallSec
		sum.CPUSec += x.CPUSec
		sum.ProviderCPUSec += x.ProviderCPUSec
		sum.ProviderMaxRSSMiB = max(sum.ProviderMaxRSSMiB, x.ProviderMaxRSSMiB)
		sum.StateBytesPerResource += x.StateBytesPerResource
	}
	return sum, parts, have
}

// tlsMarkdown is the comparison with the hashicorp/tls provider and the
// one-attribute floor: per N and command, wall and CPU of each, the
// cmpv2 / tls ratios, and the provider CPU per resource.
func (r *results) tlsMarkdown(ns []int) string {
	var b strings.Builder
	b.WriteString("| N | command | tls compared | plugin minimal wall (CPU) | tls wall (CPU) | cmpv2 wall (CPU) | cmpv2 / tls wall (CPU) | provider CPU ms per certificate: minimal / floor / cmpv2 / tls | provider peak RSS floor / cmpv2 / tls |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|\n")
	perRes := func(x *row, n int) string {
		if !ok(x) {
			return "–"
		}
		return fmt.Sprintf("%.1f", 1000*x.ProviderCPUSec/float64(n))
	}
	for _, n := range ns {
		for _, command := range []string{"apply", "plan"} {
			minimal := r.find("scale", kindMinimal, n, command, 10)
			floor := r.find("scale", kindPlugin, n, command, 10)
			real := r.find("scale", kindCMPv2, n, command, 10)
			sum, parts, have := r.tlsSum("scale", n, command)
			what := "chain (3 resources per certificate)"
			if len(parts) > 1 {
				var each []string
				for i, x := range parts {
					each = append(each, fmt.Sprintf("%s %s", tlsTypes[i], wallCPU(x)))
				}
				what = "sum of the 3 types, one at a time: " + strings.Join(each, "; ")
			}
			tls := &sum
			if !have {
				tls = nil
				if len(parts) == 1 {
					tls = parts[0]
				}
			}
			fmt.Fprintf(&b, "| %d | %s | %s | %s | %s | %s | %s (%s) | %s / %s / %s / %s | %s / %s / %s |\n",
				n, command, what, wallCPU(minimal), wallCPU(tls), wallCPU(real),
				ratio(real, tls, wall), ratio(real, tls, cpu),
				perRes(minimal, n), perRes(floor, n), perRes(real, n), perRes(tls, n),
				cell(floor, "%.0f MiB", func(x *row) float64 { return x.ProviderMaxRSSMiB }),
				cell(real, "%.0f MiB", func(x *row) float64 { return x.ProviderMaxRSSMiB }),
				cell(tls, "%.0f MiB", func(x *row) float64 { return x.ProviderMaxRSSMiB }))
		}
	}
	b.WriteString("\ntls: hashicorp/terraform-provider-tls with its defaults (its SDK logging on); the chain is tls_private_key + tls_cert_request + " +
		"tls_locally_signed_cert per certificate, signed by a CA given as literals; above the chain's N each type runs alone on literal inputs " +
		"and the three are summed. Provider CPU per certificate: user + system seconds of the provider processes divided by N.\n")
	if r.TLSSkipped != "" {
		fmt.Fprintf(&b, "\n**The tls comparison was SKIPPED: %s.**\n", r.TLSSkipped)
	}
	b.WriteString(r.baselineMarkdown(ns, perRes))
	return b.String()
}

// baselineMarkdown compares cmpv2 with the provider of BENCH_BASELINE_REV,
// measured in the same run; "" when there is none.
func (r *results) baselineMarkdown(ns []int, perRes func(*row, int) string) string {
	var b strings.Builder
	for _, n := range ns {
		for _, command := range []string{"apply", "plan"} {
			base := r.find("scale", kindBaseline, n, command, 10)
			if base == nil {
				continue
			}
			if b.Len() == 0 {
				b.WriteString("\n| N | command | cmpv2 at BENCH_BASELINE_REV wall (CPU) | cmpv2 wall (CPU) | cmpv2 / baseline wall (CPU) | provider CPU ms per certificate baseline / cmpv2 (ratio) |\n|---|---|---|---|---|---|\n")
			}
			real := r.find("scale", kindCMPv2, n, command, 10)
			fmt.Fprintf(&b, "| %d | %s | %s | %s | %s (%s) | %s / %s (%s) |\n", n, command, wallCPU(base), wallCPU(real),
				ratio(real, base, wall), ratio(real, base, cpu), perRes(base, n), perRes(real, n),
				ratio(real, base, func(x *row) float64 { return x.ProviderCPUSec }))
		}
	}
	return b.String()
}

// tlsTargets are the targets against the tls provider: at the smallest N
// against the chain, at the largest per certificate against the three
// types' sum, and the provider's peak memory against the plugin floor's.
func (r *results) tlsTargets(ns []int) string {
	var b strings.Builder
	line := func(name string, v float64, limit float64, have bool) {
		switch {
		case !have:
			fmt.Fprintf(&b, "| %s <= %.2fx | – | not measured |\n", name, limit)
		case v <= limit:
			fmt.Fprintf(&b, "| %s <= %.2fx | %.2fx | yes |\n", name, limit, v)
		default:
			fmt.Fprintf(&b, "| %s <= %.2fx | %.2fx | **no** |\n", name, limit, v)
		}
	}
	against := func(n int, command string, get func(*row) float64) (float64, bool) {
		real := r.find("scale", kindCMPv2, n, command, 10)
		sum, _, have := r.tlsSum("scale", n, command)
		if !ok(real) || !have || get(&sum) == 0 {
			return 0, false
		}
		return get(real) / get(&sum), true
	}
	// Against the chain: plan CPU and wall, apply wall; against the three
	// types one at a time: plan and apply CPU.
	for _, n := range ns {
		if r.find("scale", kindTLSChain, n, "plan", 10) != nil {
			v, have := against(n, "plan", cpu)
			line(fmt.Sprintf("plan CPU against the tls chain, N=%d", n), v, 0.35, have)
			v, have = against(n, "plan", wall)
			line(fmt.Sprintf("plan wall against the tls chain, N=%d", n), v, 0.4, have)
			v, have = against(n, "apply", wall)
			line(fmt.Sprintf("apply wall against the tls chain, N=%d", n), v, 0.35, have)
			continue
		}
		v, have := against(n, "plan", cpu)
		line(fmt.Sprintf("plan CPU against the 3 tls types summed, N=%d", n), v, 0.3, have)
		v, have = against(n, "apply", cpu)
		line(fmt.Sprintf("apply CPU against the 3 tls types summed, N=%d", n), v, 0.35, have)
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
	have := peak > 0 && floorPeak > 0
	verdict := "not measured"
	if have {
		verdict = map[bool]string{true: "yes", false: "**no**"}[peak <= floorPeak]
	}
	fmt.Fprintf(&b, "| provider peak RSS at or below the plugin floor's, N=%d | %.0f MiB / %.0f MiB | %s |\n", big, peak, floorPeak, verdict)
	return b.String()
}
