// Package pluginlog keeps the plugin SDKs quiet when nobody asked for logs.
//
// terraform-plugin-go and terraform-plugin-framework log at TRACE unless
// TF_LOG_SDK, TF_LOG_SDK_PROTO or TF_LOG_SDK_FRAMEWORK say otherwise, and
// write every line as JSON to the plugin's standard error, where Terraform
// parses it only to drop it when TF_LOG is unset
// (hashicorp/terraform-plugin-framework#1269). With the wide schema of
// cmpv2_certificate that costs about a quarter of the CPU of a plan or an
// apply of many certificates (docs/guides/performance.md).
package pluginlog

import (
	"os"
	"strings"
)

// sdkVariables are the SDK log levels QuietSDK sets.
var sdkVariables = []string{"TF_LOG_SDK", "TF_LOG_SDK_PROTO", "TF_LOG_SDK_FRAMEWORK"}

// QuietSDK turns the SDK loggers off unless logs may be wanted: when any
// TF_LOG* or TF_ACC_LOG* variable is set to something (Terraform passes its environment
// to the plugin, so TF_LOG=debug still shows everything), or when debug is
// true (a provider run with -debug prints its logs to the terminal).
func QuietSDK(debug bool) {
	quietSDK(debug, os.Environ(), os.Setenv)
}

func quietSDK(debug bool, environ []string, setenv func(name, value string) error) {
	if debug || logsWanted(environ) {
		return
	}
	for _, name := range sdkVariables {
		_ = setenv(name, "OFF")
	}
}

// logsWanted reports whether the environment asks for any log; an empty
// value asks for none, as for Terraform.
func logsWanted(environ []string) bool {
	for _, kv := range environ {
		name, value, _ := strings.Cut(kv, "=")
		if value != "" && (strings.HasPrefix(name, "TF_LOG") || strings.HasPrefix(name, "TF_ACC_LOG")) {
			return true
		}
	}
	return false
}
