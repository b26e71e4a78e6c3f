package main

import "testing"

func TestParseFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		debug   bool
		wantErr bool
	}{
		{name: "none", args: nil},
		{name: "debug", args: []string{"-debug"}, debug: true},
		{name: "double dash", args: []string{"--debug"}, debug: true},
		{name: "debug=true", args: []string{"-debug=true"}, debug: true},
		{name: "debug=false", args: []string{"-debug=false"}},
		{name: "unknown flag", args: []string{"-verbose"}, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			debug, err := parseFlags(tc.args)
			if (err != nil) != tc.wantErr {
				t.Fatalf("parseFlags(%q) error = %v, want error %v", tc.args, err, tc.wantErr)
			}
			if err == nil && debug != tc.debug {
				t.Errorf("parseFlags(%q) debug = %v, want %v", tc.args, debug, tc.debug)
			}
		})
	}
}
