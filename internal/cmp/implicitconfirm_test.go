package cmp

import "testing"

// TestImplicitConfirmValue: id-it-implicitConfirm counts only with its
// NULL value (RFC 9810 section 5.1.1.1) or no value.
func TestImplicitConfirmValue(t *testing.T) {
	tests := []struct {
		name  string
		items []InfoTypeAndValue
		want  bool
	}{
		{"absent", nil, false},
		{"NULL", []InfoTypeAndValue{ImplicitConfirmITAV()}, true},
		{"no value", []InfoTypeAndValue{{Type: OIDImplicitConfirm}}, true},
		{"BOOLEAN FALSE", []InfoTypeAndValue{{Type: OIDImplicitConfirm, Value: []byte{0x01, 0x01, 0x00}}}, false},
		{"NULL with content", []InfoTypeAndValue{{Type: OIDImplicitConfirm, Value: []byte{0x05, 0x01, 0x00}}}, false},
		{"another item only", []InfoTypeAndValue{{Type: OIDConfirmWaitTime, Value: []byte{0x05, 0x00}}}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := Header{GeneralInfo: tc.items}
			if got := h.ImplicitConfirm(); got != tc.want {
				t.Fatalf("ImplicitConfirm() = %v, want %v", got, tc.want)
			}
		})
	}
}
