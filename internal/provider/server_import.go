package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
)

var _ resource.ResourceWithImportState = (*serverResource)(nil)

// ImportState adopts a CMP endpoint by its URL (the id); the refresh that
// follows asks the server for its CA certificates.
func (r *serverResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	if err := checkURL(req.ID); err != nil {
		resp.Diagnostics.AddError("Invalid import id", "The id of a cmpv2_server is its CMP URL: "+err.Error())
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), req.ID)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("url"), req.ID)...)
}
