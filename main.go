// Command terraform-provider-cmpv2 serves the cmpv2 Terraform provider and,
// as `terraform-provider-cmpv2 devca ...`, runs the development CA.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6/tf6server"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/devca"
	"github.com/cmpv2/terraform-provider-cmpv2/internal/memlimit"
	"github.com/cmpv2/terraform-provider-cmpv2/internal/pluginlog"
	"github.com/cmpv2/terraform-provider-cmpv2/internal/provider"
)

// version is set at build time: go build -ldflags "-X main.version=1.2.3".
var version = "dev"

// address is the provider's registry address. It is public interface:
// configurations say source = "cmpv2/cmpv2" and dev_overrides name it.
const address = "registry.terraform.io/cmpv2/cmpv2"

func main() {
	if len(os.Args) > 1 && os.Args[1] == "devca" {
		os.Exit(devca.Main(os.Args[2:], os.Stdout, os.Stderr))
	}

	debug, err := parseFlags(os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		os.Exit(2) // the flag package has printed the problem and the usage
	}
	// Process settings, before the SDKs read the environment in Serve:
	// the plugin SDKs' TRACE logging is off unless a log is asked for
	// (internal/pluginlog), since Terraform would parse and drop every
	// line; a provider started with -debug keeps its logs, since they go
	// to the developer's terminal.
	pluginlog.QuietSDK(debug)
	memlimit.Apply()

	// The framework's protocol 6 server, behind the provider's answers to
	// calls that change nothing (provider.NewServer).
	var opts []tf6server.ServeOpt
	if debug {
		opts = append(opts, tf6server.WithManagedDebug())
	}
	err = tf6server.Serve(address, provider.NewServer(version), opts...)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// parseFlags reads the provider's command line: -debug (also --debug,
// -debug=true) serves the provider for a debugger such as delve.
func parseFlags(args []string) (debug bool, err error) {
	fs := flag.NewFlagSet("terraform-provider-cmpv2", flag.ContinueOnError)
	fs.BoolVar(&debug, "debug", false, "run the provider with support for debuggers such as delve")
	err = fs.Parse(args)
	return debug, err
}
