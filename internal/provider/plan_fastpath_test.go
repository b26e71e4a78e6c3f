package provider

import (
	"context"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

func certificateSchema(t testing.TB) schema.Schema {
	t.Helper()
	var resp resource.SchemaResponse
	(&certificateResource{}).Schema(context.Background(), resource.SchemaRequest{}, &resp)
	return resp.Schema
}

// rawOf encodes a model as the object value Terraform would send.
func rawOf(t testing.TB, sch schema.Schema, m certificateModel) tftypes.Value {
	t.Helper()
	ctx := context.Background()
	s := tfsdk.State{Schema: sch, Raw: tftypes.NewValue(sch.Type().TerraformType(ctx), nil)}
	if d := s.Set(ctx, m); d.HasError() {
		t.Fatal(d)
	}
	return s.Raw
}

// TestModifyPlanFastPath checks that the no-change rule the protocol
// server asks (planStandsAsProposed) lets exactly the plans it should
// stand, and that ModifyPlan on the whole model leaves those as proposed.
func TestModifyPlanFastPath(t *testing.T) {
	ctx := context.Background()
	renewAt := t0.Add(60 * 24 * time.Hour)
	defaults := &Defaults{URL: "http://127.0.0.1:8829/", Reference: "ref", Secret: "pw"}
	cases := []struct {
		name     string
		now      time.Time
		state    func(m *certificateModel) // the prior state, from issuedState
		plan     func(m *certificateModel) // the proposed change; nil: none
		wantFast bool
	}{
		{name: "nothing changed before the window", now: t0.Add(time.Hour), wantFast: true},
		{name: "nothing changed, a second before the window", now: renewAt.Add(-time.Second), wantFast: true},
		{name: "nothing changed, window open", now: renewAt},
		{name: "nothing changed, expired", now: t1.Add(time.Minute)},
		{name: "renew_before_expiry set, window not open", now: t0.Add(time.Hour), wantFast: true,
			state: func(m *certificateModel) {
				m.RenewBeforeExpiry = types.StringValue("720h")
				m.RenewalTime = types.StringValue(t1.Add(-720 * time.Hour).Format(time.RFC3339))
			}},
		{name: "renew_after_issue set, window open", now: t0.Add(48 * time.Hour),
			state: func(m *certificateModel) {
				m.RenewAfterIssue = types.StringValue("24h")
				m.RenewalTime = types.StringValue(t0.Add(24 * time.Hour).Format(time.RFC3339))
			}},
		{name: "window longer than the validity: warns", now: t0.Add(time.Hour),
			state: func(m *certificateModel) { m.RenewBeforeExpiry = types.StringValue("2400h") }},
		{name: "renewal_time in state differs from the window", now: t0.Add(time.Hour),
			state: func(m *certificateModel) { m.RenewalTime = types.StringValue(t0.Format(time.RFC3339)) }},
		{name: "ready_for_renewal true in state", now: t0.Add(time.Hour),
			state: func(m *certificateModel) { m.ReadyForRenewal = types.BoolValue(true) }},
		{name: "state-only change", now: t0.Add(time.Hour),
			plan: func(m *certificateModel) { m.RevokeOnDestroy = types.BoolValue(false) }},
		{name: "rotation trigger changed", now: t0.Add(time.Hour),
			plan: func(m *certificateModel) { m.RotationTriggers = types.MapNull(types.StringType) }},
	}
	sch := certificateSchema(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			prior := issuedState()
			if tc.state != nil {
				tc.state(&prior)
			}
			planned := prior
			if tc.plan != nil {
				tc.plan(&planned)
			}
			req := resource.ModifyPlanRequest{
				Config: tfsdk.Config{Schema: sch, Raw: rawOf(t, sch, configOf(planned, false))},
				Plan:   tfsdk.Plan{Schema: sch, Raw: rawOf(t, sch, planned)},
				State:  tfsdk.State{Schema: sch, Raw: rawOf(t, sch, prior)},
			}
			if got := planStandsAsProposed(req.Plan.Raw, req.State.Raw, tc.now); got != tc.wantFast {
				t.Errorf("planStandsAsProposed = %v, want %v", got, tc.wantFast)
			}
			r := &certificateResource{defaults: defaults, clock: fixedClock(tc.now)}
			full := resource.ModifyPlanResponse{Plan: req.Plan}
			r.ModifyPlan(ctx, req, &full)
			if !tc.wantFast {
				return
			}
			// A plan the rule lets stand is one the whole model leaves as
			// proposed, with no diagnostic and no replacement.
			if !full.Plan.Raw.Equal(req.Plan.Raw) {
				t.Errorf("ModifyPlan planned\n%v\nthe rule lets stand\n%v", full.Plan.Raw, req.Plan.Raw)
			}
			if len(full.Diagnostics) != 0 {
				t.Errorf("ModifyPlan diagnostics %v on a plan the rule lets stand", full.Diagnostics)
			}
			if len(full.RequiresReplace) != 0 {
				t.Errorf("ModifyPlan requires replace %v on a plan the rule lets stand", full.RequiresReplace)
			}
		})
	}
}

// TestReadMovesOnlyReadyForRenewal checks that Read changes
// ready_for_renewal with the clock and nothing else.
func TestReadMovesOnlyReadyForRenewal(t *testing.T) {
	ctx := context.Background()
	renewAt := t0.Add(60 * 24 * time.Hour)
	cases := []struct {
		name      string
		now       time.Time
		state     func(m *certificateModel)
		wantReady types.Bool
	}{
		{name: "before the window", now: t0.Add(time.Hour), wantReady: types.BoolValue(false)},
		{name: "window opens", now: renewAt, wantReady: types.BoolValue(true)},
		{name: "clock back before the window", now: t0.Add(time.Hour), wantReady: types.BoolValue(false),
			state: func(m *certificateModel) { m.ReadyForRenewal = types.BoolValue(true) }},
		{name: "ready_for_renewal null, window open", now: renewAt, wantReady: types.BoolValue(true),
			state: func(m *certificateModel) { m.ReadyForRenewal = types.BoolNull() }},
		{name: "no renewal_time: left as it is", now: renewAt, wantReady: types.BoolValue(false),
			state: func(m *certificateModel) { m.RenewalTime = types.StringNull() }},
	}
	sch := certificateSchema(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			prior := issuedState()
			if tc.state != nil {
				tc.state(&prior)
			}
			req := resource.ReadRequest{State: tfsdk.State{Schema: sch, Raw: rawOf(t, sch, prior)}}
			resp := resource.ReadResponse{State: req.State}
			(&certificateResource{clock: fixedClock(tc.now)}).Read(ctx, req, &resp)
			if resp.Diagnostics.HasError() {
				t.Fatal(resp.Diagnostics)
			}
			want := prior
			want.ReadyForRenewal = tc.wantReady
			if wantRaw := rawOf(t, sch, want); !resp.State.Raw.Equal(wantRaw) {
				t.Errorf("state after Read\n%v\nwant\n%v", resp.State.Raw, wantRaw)
			}
		})
	}
}

// BenchmarkModifyPlan measures ModifyPlan on a plan that changes nothing
// (which the protocol server answers before ModifyPlan) and on a
// state-only change.
func BenchmarkModifyPlan(b *testing.B) {
	ctx := context.Background()
	sch := certificateSchema(b)
	prior := issuedState()
	for _, bc := range []struct {
		name string
		plan func(m *certificateModel)
	}{
		{"unchanged", func(*certificateModel) {}},
		{"state-only change", func(m *certificateModel) { m.RevokeOnDestroy = types.BoolValue(false) }},
	} {
		planned := prior
		bc.plan(&planned)
		req := resource.ModifyPlanRequest{
			Config: tfsdk.Config{Schema: sch, Raw: rawOf(b, sch, configOf(planned, false))},
			Plan:   tfsdk.Plan{Schema: sch, Raw: rawOf(b, sch, planned)},
			State:  tfsdk.State{Schema: sch, Raw: rawOf(b, sch, prior)},
		}
		r := &certificateResource{defaults: &Defaults{URL: "http://127.0.0.1:8829/", Reference: "ref", Secret: "pw"},
			clock: fixedClock(t0.Add(time.Hour))}
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				resp := resource.ModifyPlanResponse{Plan: req.Plan}
				r.ModifyPlan(ctx, req, &resp)
				if resp.Diagnostics.HasError() {
					b.Fatal(resp.Diagnostics)
				}
			}
		})
	}
}
