package devca

import "github.com/cmpv2/terraform-provider-cmpv2/internal/cmp"

// unprotectedSupport is the requester of an unprotected request that the
// CA answers anyway: a genm, whose support messages (RFC 9483 section 4.3)
// publish what the CA tells anyone (its certificates, a root CA update, its
// request template). RFC 9810 section 5.1.3.4 allows a request without
// protection; the answer is signed by the CMP signer, so the client can
// verify it. Every other unprotected request is refused.
func unprotectedSupport(msg *cmp.Message) (*requester, bool) {
	if msg.Body.Type != cmp.BodyGenM {
		return nil, false
	}
	return &requester{protection: protectionNone}, true
}
