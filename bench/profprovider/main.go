// Command profprovider is the cmpv2 provider with CPU and allocation
// profiling, for `make bench` (BENCH_SECTIONS=profile): it serves the same
// provider package main.go serves and writes
// $BENCH_PPROF_DIR/provider-<pid>.{cpu,heap}.pprof when Terraform stops it.
// It is never shipped.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"

	"github.com/cmpv2/terraform-provider-cmpv2/bench/profiling"
	"github.com/cmpv2/terraform-provider-cmpv2/internal/pluginlog"
	"github.com/cmpv2/terraform-provider-cmpv2/internal/provider"
)

func main() {
	// Start the way the real provider starts (main.go).
	pluginlog.QuietSDK(false)
	stop := profiling.Start("provider")
	err := providerserver.Serve(context.Background(), provider.New("bench"), providerserver.ServeOpts{
		Address:         "registry.terraform.io/cmpv2/cmpv2",
		ProtocolVersion: 6,
	})
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
