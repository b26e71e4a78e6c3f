package main

import (
	"fmt"
	"time"
)

// renewalMode is how the renewal scenario puts a tenth of the
// certificates inside their renewal window. The floors always do the
// equivalent: the same tenth of their resources get an in-place update.
type renewalMode struct {
	// name is one of:
	//
	// "window" (default): the first tenth get renew_before_expiry =
	// windowBefore, so that with their 2160 h validity the window opened
	// windowOpen after they were issued; the harness waits until then.
	// The provider's plan modifier finds the window open and plans a KUR,
	// as it would for a certificate that aged into its window.
	//
	// "clock": the provider reads its clock from the environment
	// variable clockEnv; the first tenth are requested with a 24 h
	// validity and the rest with 90 days, and the renewal plan and apply
	// run with the clock 20 h ahead, inside the default window (a third of
	// the validity left) of exactly the 24 h certificates.
	//
	// "trigger": the first tenth get a new rotation_triggers value,
	// which the provider maps to an in-place KUR too.
	name     string
	clockEnv string
}

const (
	windowBefore = "2159h59m30s"
	windowOpen   = 30 * time.Second
)

func (m renewalMode) describe() string {
	switch m.name {
	case "clock":
		return fmt.Sprintf("a tenth of the certificates (24 h validity) are inside their renewal window with %s 20 h ahead; plan and apply KUR them", m.clockEnv)
	case "trigger":
		return "a tenth of the certificates get a new rotation_triggers value; plan and apply KUR them"
	}
	return "a tenth of the certificates (2160 h validity) get renew_before_expiry = " + windowBefore +
		", which opened their renewal window 30 s after issue; plan and apply KUR them"
}

func (m renewalMode) base(k kind, n int) variant {
	if k == kindCMPv2 && m.name == "clock" {
		return variant{validity: fmt.Sprintf("count.index < %d ? 24 : 2160", n/10)}
	}
	return variant{}
}

func (m renewalMode) renew(k kind, n int) variant {
	switch {
	case k == kindCMPv2 && m.name == "clock":
		return m.base(k, n)
	case k != kindCore && m.name == "window":
		return variant{renewBefore: windowBefore}
	}
	return variant{renew: true}
}

func (m renewalMode) env(k kind) []string {
	if k == kindCMPv2 && m.name == "clock" {
		return []string{m.clockEnv + "=" + time.Now().Add(20*time.Hour).UTC().Format(time.RFC3339)}
	}
	return nil
}
