package provider

import (
	"net/http"
	"strings"
	"testing"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/devca"
	"github.com/hashicorp/terraform-plugin-testing/config"
)

// ejbcaAlias serves the development CA at EJBCA's CMP path: a request to
// /ejbca/publicweb/cmp/<alias> reaches /.well-known/cmp/p/<alias>, so the
// alias is the event's profile; any other path is HTTP 404, as EJBCA
// answers a URL that names no alias.
func ejbcaAlias(ca http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		alias, ok := strings.CutPrefix(r.URL.Path, "/ejbca/publicweb/cmp/")
		if !ok || alias == "" || strings.Contains(alias, "/") {
			http.NotFound(w, r)
			return
		}
		r.URL.Path = "/.well-known/cmp/p/" + alias
		ca.ServeHTTP(w, r)
	})
}

// TestAccGuideEJBCA: the EJBCA guide's configuration (an RA-mode alias
// with the HMAC authentication module, update_protection = "mac") through
// create, CR, KUR and destroy against the development CA at EJBCA's path.
// Every message is MAC-protected; the KUR revokes the certificate it
// pushes out of the state and destroy the two left.
func TestAccGuideEJBCA(t *testing.T) {
	e := startCA(t, devca.Config{})
	e.url = serveAt(t, e, ejbcaAlias) + "/ejbca/publicweb/cmp/web-ra"
	files := writeFiles(t, map[string]string{"ca.pem": e.caPEM})
	vars := config.Variables{
		"cmp_url":             config.StringVariable(e.url),
		"cmp_reference":       config.StringVariable(e.reference),
		"cmp_secret":          config.StringVariable(e.secret),
		"ca_certificate_file": config.StringVariable(files["ca.pem"]),
	}
	g := &guideLifecycle{
		e: e, config: guideExample(t, "ejbca"), vars: withVars(vars),
		create:       []string{"ir:accepted:mac", "certConf:confirmed:mac"},
		cr:           []string{"cr:accepted:mac", "certConf:confirmed:mac"},
		kur:          []string{"kur:accepted:mac", "certConf:confirmed:mac", "rr:accepted:mac"},
		destroy:      []string{"rr:accepted:mac", "rr:accepted:mac"},
		revokedAtEnd: true,
		profile:      "web-ra",
	}
	g.run(t)
}
