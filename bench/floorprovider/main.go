// Command terraform-provider-cmpv2floor is the plugin floor of the
// benchmarks (make bench): a provider whose one resource,
// cmpv2floor_certificate, has the schema of cmpv2_certificate and stores
// values of the same sizes, but generates no key and talks to no CA. What
// Terraform and the plugin protocol cost for N certificates is what this
// provider costs; the benchmarks report cmpv2_certificate as a ratio to it.
// Its second resource, cmpv2floor_minimal, has one attribute: the cost of
// a resource without the certificate schema.
//
// It is never shipped: main.go and the release configuration do not build
// it.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"

	"github.com/cmpv2/terraform-provider-cmpv2/bench/profiling"
	"github.com/cmpv2/terraform-provider-cmpv2/internal/memlimit"
	"github.com/cmpv2/terraform-provider-cmpv2/internal/pluginlog"
)

// address is where the benchmark's CLI configuration (dev_overrides) finds
// this provider.
const address = "registry.terraform.io/cmpv2/cmpv2floor"

func main() {
	// Start the way the real provider starts (main.go).
	pluginlog.QuietSDK(false)
	memlimit.Apply()
	// BENCH_PPROF_DIR: profile what the floor itself costs.
	stop := profiling.Start("floor")
	err := providerserver.Serve(context.Background(), newProvider, providerserver.ServeOpts{
		Address:         address,
		ProtocolVersion: 6,
	})
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
