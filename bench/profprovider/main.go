// Command profprovider is the cmpv2 provider with CPU and allocation
// profiling, for `make bench` (BENCH_SECTIONS=profile): it serves the same
// protocol server main.go serves (provider.NewServer) and writes
// $BENCH_PPROF_DIR/provider-<pid>.{cpu,heap}.pprof when Terraform stops it.
// It is never shipped.
package main

import (
	"fmt"
	"os"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6/tf6server"

	"github.com/cmpv2/terraform-provider-cmpv2/bench/profiling"
	"github.com/cmpv2/terraform-provider-cmpv2/internal/pluginlog"
	"github.com/cmpv2/terraform-provider-cmpv2/internal/provider"
)

func main() {
	// Start the way the real provider starts (main.go).
	pluginlog.QuietSDK(false)
	stop := profiling.Start("provider")
	err := tf6server.Serve("registry.terraform.io/cmpv2/cmpv2", provider.NewServer("bench"))
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
