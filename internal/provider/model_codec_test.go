package provider

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// TestModelCodecMatchesFramework: the codec reads every generated value
// into the model the framework's Get makes, fails where Get fails, and
// writes every model back as the value the framework's Set makes.
func TestModelCodecMatchesFramework(t *testing.T) {
	ctx := context.Background()
	b := newNoChangeBench(t)
	sch := certificateSchema(t)
	rng := rand.New(rand.NewPCG(15, 7))
	names := slices.Sorted(func(yield func(string) bool) {
		for n := range b.typ.(tftypes.Object).AttributeTypes {
			if !yield(n) {
				return
			}
		}
	})
	var read, failed int
	for i := range 600 {
		var what []string
		v := b.state(rng, &what)
		// Vary any attribute, nested ones included: null, unknown, another
		// value, or an object with one attribute unknown.
		for range rng.IntN(4) {
			name := names[rng.IntN(len(names))]
			typ := attrType(b.typ, name)
			var nv tftypes.Value
			switch rng.IntN(4) {
			case 0:
				nv = tftypes.NewValue(typ, nil)
			case 1:
				nv = tftypes.NewValue(typ, tftypes.UnknownValue)
			case 2:
				nv = otherValue(typ, rng)
			default:
				obj, ok := typ.(tftypes.Object)
				if !ok {
					continue
				}
				inner := slices.Sorted(func(yield func(string) bool) {
					for n := range obj.AttributeTypes {
						if !yield(n) {
							return
						}
					}
				})
				in := inner[rng.IntN(len(inner))]
				v = withPath(v, tftypes.NewAttributePath().WithAttributeName(name).WithAttributeName(in),
					tftypes.NewValue(obj.AttributeTypes[in], tftypes.UnknownValue))
				what = append(what, "unknown "+name+"."+in)
				continue
			}
			v = withAttr(v, name, nv)
			what = append(what, fmt.Sprintf("%s=%v", name, nv))
		}
		switch rng.IntN(40) {
		case 0:
			v = tftypes.NewValue(b.typ, nil)
			what = append(what, "null object")
		case 1:
			v = tftypes.NewValue(b.typ, tftypes.UnknownValue)
			what = append(what, "unknown object")
		}
		name := fmt.Sprintf("case %d (%s)", i, strings.Join(what, ", "))

		var want, got certificateModel
		wantDiags := tfsdk.State{Raw: v, Schema: sch}.Get(ctx, &want)
		gotDiags := readCertificate(ctx, v, &got)
		if wantDiags.HasError() != gotDiags.HasError() {
			t.Fatalf("%s: framework Get errors %v, codec errors %v", name, wantDiags, gotDiags)
		}
		if wantDiags.HasError() {
			failed++
			continue
		}
		read++
		if !reflect.DeepEqual(want, got) {
			t.Fatalf("%s: the codec read another model than the framework's Get", name)
		}
		frameworkSet := tfsdk.State{Schema: sch}
		if d := frameworkSet.Set(ctx, &want); d.HasError() {
			t.Fatalf("%s: framework Set: %v", name, d)
		}
		codecSet := tfsdk.State{Schema: sch}
		if d := writeCertificate(ctx, want, &codecSet.Raw); d.HasError() {
			t.Fatalf("%s: codec write: %v", name, d)
		}
		if !frameworkSet.Raw.Equal(codecSet.Raw) {
			t.Fatalf("%s: the codec wrote\n%v\nthe framework's Set\n%v", name, codecSet.Raw, frameworkSet.Raw)
		}
		if !codecSet.Raw.Equal(v) {
			t.Fatalf("%s: read and written back, the value changed", name)
		}
	}
	if read < 400 || failed < 10 {
		t.Fatalf("%d values read and %d refused: both paths must be taken often", read, failed)
	}
	t.Logf("%d values read alike, %d refused alike", read, failed)
}

// TestModelCodecRefusesWhatSetRefuses: a model holding a value of another
// type than its attribute's is refused by both, never written.
func TestModelCodecRefusesWhatSetRefuses(t *testing.T) {
	ctx := context.Background()
	sch := certificateSchema(t)
	cases := map[string]func(*certificateModel){
		"subject of another object type": func(m *certificateModel) {
			m.Subject = types.ObjectNull(map[string]attr.Type{"common_name": types.StringType})
		},
		"dns_names of numbers": func(m *certificateModel) { m.DNSNames = types.ListNull(types.Int64Type) },
		"rotation_triggers of bools": func(m *certificateModel) {
			m.RotationTriggers = types.MapNull(types.BoolType)
		},
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			m := issuedState()
			mutate(&m)
			framework := tfsdk.State{Schema: sch}
			codec := tfsdk.State{Schema: sch}
			wantDiags := framework.Set(ctx, &m)
			gotDiags := writeCertificate(ctx, m, &codec.Raw)
			if !wantDiags.HasError() || !gotDiags.HasError() {
				t.Fatalf("framework Set errors %v, codec errors %v: both must refuse", wantDiags, gotDiags)
			}
			if !codec.Raw.Equal(tftypes.Value{}) {
				t.Fatalf("the codec wrote %v after refusing", codec.Raw)
			}
		})
	}
}

// TestModelCodecMatchesStruct: a model that is not the schema field for
// field is refused when the codec is built.
func TestModelCodecMatchesStruct(t *testing.T) {
	ctx := context.Background()
	objType := certificateSchema(t).Type().(attr.TypeWithAttributeTypes)
	type extra struct {
		certificateModel
		Extra types.String `tfsdk:"extra"`
	}
	type missing struct {
		ID types.String `tfsdk:"id"`
	}
	for name, model := range map[string]any{"extra field": extra{}, "missing fields": missing{}} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatal("newModelCodec accepted a model that does not match the schema")
				}
			}()
			newModelCodec(ctx, objType, model)
		})
	}
	if c := newModelCodec(ctx, objType, &certificateModel{}); len(c.fields) != len(objType.AttributeTypes()) {
		t.Fatalf("codec of certificateModel has %d fields, the schema %d", len(c.fields), len(objType.AttributeTypes()))
	}
}

// BenchmarkModelCodec: reading and writing the model of an issued
// certificate with the framework and with the codec.
func BenchmarkModelCodec(b *testing.B) {
	ctx := context.Background()
	sch := certificateSchema(b)
	raw := rawOf(b, sch, issuedState())
	b.Run("framework/get", func(b *testing.B) {
		for b.Loop() {
			var m certificateModel
			if d := (tfsdk.State{Raw: raw, Schema: sch}).Get(ctx, &m); d.HasError() {
				b.Fatal(d)
			}
		}
	})
	b.Run("codec/get", func(b *testing.B) {
		for b.Loop() {
			var m certificateModel
			if d := readCertificate(ctx, raw, &m); d.HasError() {
				b.Fatal(d)
			}
		}
	})
	m := issuedState()
	b.Run("framework/set", func(b *testing.B) {
		for b.Loop() {
			s := tfsdk.State{Schema: sch}
			if d := s.Set(ctx, &m); d.HasError() {
				b.Fatal(d)
			}
		}
	})
	b.Run("codec/set", func(b *testing.B) {
		for b.Loop() {
			s := tfsdk.State{Schema: sch}
			if d := writeCertificate(ctx, m, &s.Raw); d.HasError() {
				b.Fatal(d)
			}
		}
	})
}
