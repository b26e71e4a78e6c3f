package main

import (
	"os"
	"slices"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/pluginlog"
)

// init turns the plugin SDKs' TRACE logging off before the provider
// serves, unless a log is asked for (see internal/pluginlog): Terraform
// would parse and drop every line. A provider started with -debug keeps
// its logs, since they go to the developer's terminal.
func init() {
	pluginlog.QuietSDK(slices.ContainsFunc(os.Args[1:], isDebugFlag))
}

func isDebugFlag(arg string) bool {
	switch arg {
	case "-debug", "--debug", "-debug=true", "--debug=true":
		return true
	}
	return false
}
