package main

import "fmt"

// renewalMode is how the renewal scenario puts a tenth of the
// certificates inside their renewal window.
//
// With a clock the provider reads from the environment (clockEnv), the
// first tenth are requested with a 24 h validity and the rest with 90
// days; the renewal plan and apply run with the clock 20 h ahead, where
// the 24 h certificates have less than a third of their validity left (the
// default window) and the others are far from theirs: plan shows KUR
// updates for exactly a tenth, without touching the configuration.
//
// Without such a clock, the first tenth get a new rotation_triggers value,
// which SPEC section 2 also maps to an in-place KUR.
//
// The floors do the equivalent: a tenth of their resources get an in-place
// update.
type renewalMode struct {
	clockEnv string
	// clockValue formats "now + 20 h" for clockEnv.
	clockValue func() string
}

func (m renewalMode) describe() string {
	if m.clockEnv == "" {
		return "a tenth of the certificates get a new rotation_triggers value (in-place KUR)"
	}
	return fmt.Sprintf("a tenth of the certificates (24 h validity) are inside their renewal window with %s 20 h ahead (KUR)", m.clockEnv)
}

func (m renewalMode) base(k kind, n int) variant {
	if k == kindCMPv2 && m.clockEnv != "" {
		return variant{validity: fmt.Sprintf("count.index < %d ? 24 : 2160", n/10)}
	}
	return variant{}
}

func (m renewalMode) renew(k kind, n int) variant {
	if k == kindCMPv2 && m.clockEnv != "" {
		return m.base(k, n)
	}
	return variant{renew: true}
}

func (m renewalMode) env(k kind) []string {
	if k == kindCMPv2 && m.clockEnv != "" {
		return []string{m.clockEnv + "=" + m.clockValue()}
	}
	return nil
}
