package cmpclient

import (
	"net/http"
	"testing"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/cmp"
)

func TestErrorText(t *testing.T) {
	tx := []byte{0x3f, 0x2a, 0x01}
	code := int64(42)
	tests := []struct {
		name string
		err  error
		want string
	}{
		{
			name: "rejection_with_every_bit_and_text",
			err: &Error{Op: "kur", TransactionID: tx, Status: cmp.StatusRejection, FailInfo: cmp.FailBadPOP | cmp.FailBadRequest,
				StatusString: []string{"signature does not verify"}, Body: "kup"},
			want: `cmp kur (transaction 3f2a01): rejection: badRequest, badPOP: "signature does not verify"`,
		},
		{
			name: "error_message_with_code_details_http",
			err: &Error{Op: "ir", TransactionID: tx, Status: cmp.StatusRejection, FailInfo: cmp.FailTransactionIDInUse,
				ErrorCode: &code, ErrorDetails: []string{"retry later"}, Body: "error", HTTPStatus: 400, Unprotected: true},
			want: `cmp ir (transaction 3f2a01): error message: rejection: transactionIdInUse (errorCode 42) "retry later" [unprotected: not authenticated] (HTTP 400 Bad Request)`,
		},
		{
			name: "http_only",
			err:  &Error{Op: "rr", TransactionID: tx, HTTPStatus: http.StatusBadGateway, Detail: "upstream down"},
			want: `cmp rr (transaction 3f2a01): HTTP 502 Bad Gateway: upstream down`,
		},
		{
			name: "later_message_of_the_transaction",
			err:  &Error{Op: "ir", Request: "certConf", TransactionID: tx, Status: cmp.StatusRejection, FailInfo: cmp.FailSystemUnavail, Body: "error"},
			want: `cmp ir (transaction 3f2a01): certConf: error message: rejection: systemUnavail`,
		},
		{
			name: "protocol_later_message",
			err:  &ProtocolError{Op: "ir", Request: "pollReq", TransactionID: tx, Cause: ErrUnexpectedBody},
			want: `cmp ir (transaction 3f2a01): invalid response to pollReq: unexpected body type`,
		},
		{
			name: "protocol",
			err:  &ProtocolError{Op: "cr", TransactionID: tx, Cause: ErrRecipNonce},
			want: `cmp cr (transaction 3f2a01): invalid response: recipNonce does not match the request's senderNonce`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}
