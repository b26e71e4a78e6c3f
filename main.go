// Command terraform-provider-cmpv2 serves the cmpv2 Terraform provider and,
// as `terraform-provider-cmpv2 devca ...`, runs the development CA.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/devca"
	"github.com/cmpv2/terraform-provider-cmpv2/internal/memlimit"
	"github.com/cmpv2/terraform-provider-cmpv2/internal/provider"
)

// version is set at build time: go build -ldflags "-X main.version=1.2.3".
var version = "dev"

// address is the provider's registry address (SPEC section 2, fixed).
const address = "registry.terraform.io/cmpv2/cmpv2"

func main() {
	if len(os.Args) > 1 && os.Args[1] == "devca" {
		os.Exit(devca.Main(os.Args[2:], os.Stdout, os.Stderr))
	}

	var debug bool
	flag.BoolVar(&debug, "debug", false, "run the provider with support for debuggers such as delve")
	flag.Parse()
	memlimit.Apply()

	err := providerserver.Serve(context.Background(), provider.New(version), providerserver.ServeOpts{
		Address:         address,
		Debug:           debug,
		ProtocolVersion: 6,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
