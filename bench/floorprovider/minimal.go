package main

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
)

// minimalResource is cmpv2floor_minimal: one required string attribute,
// stored as given. Beside cmpv2floor_certificate it shows what the
// certificate schema itself costs: the plugin protocol and Terraform's
// per-resource work are the same for both.
type minimalResource struct{}

func newMinimalResource() resource.Resource { return minimalResource{} }

func (minimalResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_minimal"
}

func (minimalResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		Description: "A no-op resource with one attribute, for benchmarks.",
		Attributes: map[string]schema.Attribute{
			"input": schema.StringAttribute{Required: true},
		},
	}
}

func (minimalResource) Create(_ context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	resp.State.Raw = req.Plan.Raw
}

func (minimalResource) Read(context.Context, resource.ReadRequest, *resource.ReadResponse) {}

func (minimalResource) Update(_ context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	resp.State.Raw = req.Plan.Raw
}

func (minimalResource) Delete(context.Context, resource.DeleteRequest, *resource.DeleteResponse) {}
