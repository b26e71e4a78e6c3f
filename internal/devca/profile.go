package devca

import (
	"strings"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/cmp"
)

// requestedProfile is the certProfile of a request's generalInfo (RFC 9483
// section 4.1.1), the names joined by ",", for the event's profile field;
// "" when there is none or it does not decode. It is logged only: issuance
// does not depend on it.
func requestedProfile(h cmp.Header) string {
	itav := cmp.FindITAV(h.GeneralInfo, cmp.OIDCertProfile)
	if itav == nil {
		return ""
	}
	names, err := cmp.ParseCertProfile(itav.Value)
	if err != nil {
		return ""
	}
	return strings.Join(names, ",")
}
