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
	// "trigger" (default): the first tenth get a new rotation_triggers
	// value, which the provider maps to an in-place KUR. A renewal window
	// cannot be made to open right after issue any more: a window that
	// opens before half the granted validity has passed is set aside, so
	// that no certificate is due when it is issued.
	//
	// "clock": the provider reads its clock from the environment
	// variable clockEnv; the first tenth are requested with a 24 h
	// validity and the rest with 90 days, and the renewal plan and apply
	// run with the clock 20 h ahead, inside the default window (a third of
	// the validity left) of exactly the 24 h certificates.
	name     string
	clockEnv string
}

func (m renewalMode) describe() string {
	switch m.name {
	case "clock":
		return fmt.Sprintf("a tenth of the certificates (24 h validity) are inside their renewal window with %s 20 h ahead; plan and apply KUR them", m.clockEnv)
	}
	return "a tenth of the certificates get a new rotation_triggers value; plan and apply KUR them"
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
	}
	return variant{renew: true}
}

func (m renewalMode) env(k kind) []string {
	if k == kindCMPv2 && m.name == "clock" {
		return []string{m.clockEnv + "=" + time.Now().Add(20*time.Hour).UTC().Format(time.RFC3339)}
	}
	return nil
}
