package pluginlog

import (
	"maps"
	"testing"
)

func TestLogsWanted(t *testing.T) {
	tests := []struct {
		name    string
		environ []string
		want    bool
	}{
		{name: "nothing set", environ: []string{"HOME=/root", "PATH=/bin"}, want: false},
		{name: "TF_LOG", environ: []string{"TF_LOG=debug"}, want: true},
		{name: "empty TF_LOG asks for nothing", environ: []string{"TF_LOG=", "TF_LOG_PATH="}, want: false},
		{name: "provider level", environ: []string{"TF_LOG_PROVIDER_CMPV2=trace"}, want: true},
		{name: "explicit SDK level", environ: []string{"TF_LOG_SDK_FRAMEWORK=debug"}, want: true},
		{name: "acceptance test log", environ: []string{"TF_ACC_LOG_PATH=/tmp/acc.log"}, want: true},
		{name: "other TF variables", environ: []string{"TF_CLI_CONFIG_FILE=/x", "TF_IN_AUTOMATION=1"}, want: false},
		{name: "name only as value", environ: []string{"NOTE=TF_LOG"}, want: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := logsWanted(tc.environ); got != tc.want {
				t.Errorf("logsWanted(%q) = %v, want %v", tc.environ, got, tc.want)
			}
		})
	}
}

func TestQuietSDK(t *testing.T) {
	tests := []struct {
		name    string
		environ []string
		debug   bool
		want    map[string]string
	}{
		{name: "no logs asked for", environ: []string{"HOME=/root"},
			want: map[string]string{"TF_LOG_SDK": "OFF", "TF_LOG_SDK_PROTO": "OFF", "TF_LOG_SDK_FRAMEWORK": "OFF"}},
		{name: "TF_LOG set", environ: []string{"TF_LOG=trace"}, want: map[string]string{}},
		{name: "debug mode", debug: true, want: map[string]string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := map[string]string{}
			quietSDK(tc.debug, tc.environ, func(name, value string) error {
				got[name] = value
				return nil
			})
			if !maps.Equal(got, tc.want) {
				t.Errorf("set %v, want %v", got, tc.want)
			}
		})
	}
}
