package provider

import (
	"context"
	"fmt"
	"reflect"
	"sort"
	"sync"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/attr/xattr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// modelCodec reads a resource model from its Terraform value and writes
// it back. The model is a struct whose fields are attr.Value types tagged
// `tfsdk:"name"` (embedded untagged structs are flattened), one field per
// attribute and block of the schema. Each field is converted with its own
// attribute type, as the framework's Get and Set do
// (TestModelCodecMatchesFramework), but the struct is reflected once, not
// on every call, and no value is looked up again by path from the schema
// root: the framework's Get and Set cost several times what the resource
// does with the model in a plan or an apply (performance guide).
type modelCodec struct {
	model  reflect.Type
	typ    tftypes.Object
	fields []codecField
}

// codecField is one attribute: where it sits in the struct and its type.
type codecField struct {
	name  string
	index []int
	typ   attr.Type
	tf    tftypes.Type
}

// newModelCodec builds the codec of model (a struct value or a pointer to
// one) for the object type objType (a schema's Type()). A struct that does
// not match the schema field for field is a programming error: it panics,
// and the codec tests build every codec.
func newModelCodec(ctx context.Context, objType attr.TypeWithAttributeTypes, model any) *modelCodec {
	t := reflect.TypeOf(model)
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	c := &modelCodec{model: t, typ: objType.TerraformType(ctx).(tftypes.Object)}
	types := objType.AttributeTypes()
	seen := map[string]bool{}
	var walk func(t reflect.Type, index []int)
	walk = func(t reflect.Type, index []int) {
		for i := range t.NumField() {
			f := t.Field(i)
			at := append(append([]int(nil), index...), i)
			name := f.Tag.Get("tfsdk")
			if name == "" && f.Anonymous && f.Type.Kind() == reflect.Struct {
				walk(f.Type, at)
				continue
			}
			typ, ok := types[name]
			if !ok || seen[name] {
				panic(fmt.Sprintf("model %s: field %s (tfsdk %q) is not an attribute of the schema, or twice", t, f.Name, name))
			}
			seen[name] = true
			c.fields = append(c.fields, codecField{name: name, index: at, typ: typ, tf: typ.TerraformType(ctx)})
		}
	}
	walk(t, nil)
	for name := range types {
		if !seen[name] {
			panic(fmt.Sprintf("model %s has no field for the schema's attribute %q", t, name))
		}
	}
	sort.Slice(c.fields, func(i, j int) bool { return c.fields[i].name < c.fields[j].name })
	return c
}

// get reads raw, a known object of the schema's type, into target, a
// pointer to the model.
func (c *modelCodec) get(ctx context.Context, raw tftypes.Value, target any) diag.Diagnostics {
	var diags diag.Diagnostics
	dst := reflect.ValueOf(target)
	if dst.Kind() != reflect.Pointer || dst.Elem().Type() != c.model {
		diags.AddError("Value Conversion Error", fmt.Sprintf("An unexpected error was encountered trying to "+
			"convert the value. This is always an error in the provider: the target is %T, not *%s.", target, c.model))
		return diags
	}
	var values map[string]tftypes.Value
	if !raw.IsKnown() || raw.IsNull() || !raw.Type().Equal(c.typ) || raw.As(&values) != nil {
		diags.AddError("Value Conversion Error", fmt.Sprintf("An unexpected error was encountered trying to "+
			"convert the value. This is always an error in the provider: a known, non-null object of the "+
			"resource's type is needed, got %s.", raw))
		return diags
	}
	out := reflect.New(c.model).Elem()
	for _, f := range c.fields {
		p := path.Root(f.name)
		v, err := f.typ.ValueFromTerraform(ctx, values[f.name])
		if err != nil {
			diags.AddAttributeError(p, "Value Conversion Error", "An unexpected error was encountered "+
				"trying to convert the value. This is always an error in the provider: "+err.Error())
			continue
		}
		diags.Append(validateAttributeValue(ctx, v, p)...)
		field := out.FieldByIndex(f.index)
		if reflect.TypeOf(v) != field.Type() {
			diags.AddAttributeError(p, "Value Conversion Error", fmt.Sprintf("An unexpected error was "+
				"encountered trying to convert the value. This is always an error in the provider: the "+
				"attribute's type makes %T, the model's field is %s.", v, field.Type()))
			continue
		}
		field.Set(reflect.ValueOf(v))
	}
	if !diags.HasError() {
		dst.Elem().Set(out)
	}
	return diags
}

// value writes model (the struct or a pointer to it) as a Terraform value
// of the schema's type, for tfsdk.State.Set and tfsdk.Plan.Set.
func (c *modelCodec) value(ctx context.Context, model any) (tftypes.Value, diag.Diagnostics) {
	var diags diag.Diagnostics
	src := reflect.ValueOf(model)
	if src.Kind() == reflect.Pointer {
		src = src.Elem()
	}
	if src.Type() != c.model {
		diags.AddError("Value Conversion Error", fmt.Sprintf("An unexpected error was encountered trying to "+
			"convert from the model. This is always an error in the provider: %T is not %s.", model, c.model))
		return tftypes.Value{}, diags
	}
	values := make(map[string]tftypes.Value, len(c.fields))
	for _, f := range c.fields {
		p := path.Root(f.name)
		v, ok := src.FieldByIndex(f.index).Interface().(attr.Value)
		if !ok || v == nil {
			diags.AddAttributeError(p, "Value Conversion Error", "An unexpected error was encountered trying "+
				"to convert from the model. This is always an error in the provider: the field holds no value.")
			continue
		}
		if !f.tf.Equal(v.Type(ctx).TerraformType(ctx)) {
			diags.AddAttributeError(p, "Value Conversion Error", fmt.Sprintf("An unexpected error was "+
				"encountered while verifying an attribute value matched its expected type. This is always an "+
				"error in the provider: expected %s, got %s.", f.tf, v.Type(ctx).TerraformType(ctx)))
			continue
		}
		diags.Append(validateAttributeValue(ctx, v, p)...)
		tv, err := v.ToTerraformValue(ctx)
		if err != nil {
			diags.AddAttributeError(p, "Value Conversion Error", "An unexpected error was encountered trying "+
				"to convert from the model. This is always an error in the provider: "+err.Error())
			continue
		}
		values[f.name] = tv
	}
	if diags.HasError() {
		return tftypes.Value{}, diags
	}
	return tftypes.NewValue(c.typ, values), diags
}

// validateAttributeValue runs a value's own validation, as the framework
// does whenever it converts one.
func validateAttributeValue(ctx context.Context, v attr.Value, p path.Path) diag.Diagnostics {
	va, ok := v.(xattr.ValidateableAttribute)
	if !ok {
		return nil
	}
	var resp xattr.ValidateAttributeResponse
	va.ValidateAttribute(ctx, xattr.ValidateAttributeRequest{Path: p}, &resp)
	return resp.Diagnostics
}

// certificateCodec converts certificateModel, built once from the schema.
var certificateCodec = sync.OnceValue(func() *modelCodec {
	ctx := context.Background()
	var resp resource.SchemaResponse
	(&certificateResource{}).Schema(ctx, resource.SchemaRequest{}, &resp)
	return newModelCodec(ctx, resp.Schema.Type().(attr.TypeWithAttributeTypes), certificateModel{})
})

// readCertificate reads the certificate model of a configuration, plan or
// state value.
func readCertificate(ctx context.Context, raw tftypes.Value, m *certificateModel) diag.Diagnostics {
	return certificateCodec().get(ctx, raw, m)
}

// writeCertificate writes m as the Raw value of a plan or state: what
// their Set does with a value of the schema's type, which the codec makes.
func writeCertificate(ctx context.Context, m certificateModel, raw *tftypes.Value) diag.Diagnostics {
	v, diags := certificateCodec().value(ctx, m)
	if !diags.HasError() {
		*raw = v
	}
	return diags
}
