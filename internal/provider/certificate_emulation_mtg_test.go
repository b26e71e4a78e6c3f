package provider

import (
	"strings"
	"testing"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/devca"
	"github.com/hashicorp/terraform-plugin-testing/config"
)

// mtgEndEntity is the UUID of the end entity in the MTG CLM tests: the PBM
// reference and the basic-auth user.
const mtgEndEntity = "6f1c2a3e-8b4d-4e5f-9a0b-1c2d3e4f5a6b"

// mtgCA serves the development CA's MTG CLM emulation with basic
// authentication, and returns it with the variables of the MTG guide's
// configuration: the endpoint of policy web-server, the end entity's UUID,
// secret and password, and the CA certificate.
func mtgCA(t *testing.T) (*caEnv, config.Variables) {
	t.Helper()
	const password = "end-entity-password"
	e := startCA(t, devca.Config{Emulate: devca.EmulateMTG, Reference: mtgEndEntity, Username: mtgEndEntity, Password: password})
	e.url = strings.TrimSuffix(e.url, "/.well-known/cmp") + "/cmp/web-server"
	files := writeFiles(t, map[string]string{"ca.pem": e.caPEM})
	return e, config.Variables{
		"cmp_url":             config.StringVariable(e.url),
		"end_entity_id":       config.StringVariable(mtgEndEntity),
		"cmp_secret":          config.StringVariable(e.secret),
		"end_entity_password": config.StringVariable(password),
		"ca_certificate_file": config.StringVariable(files["ca.pem"]),
	}
}

// TestAccGuideMTG: the MTG CLM guide's configuration through create, CR,
// KUR and destroy against `devca -emulate mtg`: a PasswordBasedMac-protected
// IR under the end entity's UUID, signed CR, KUR and RR, basic
// authentication and the policy in the path. The CA sees no genm; the KUR
// revokes the certificate it pushes out of the state and destroy the two
// left, so every certificate it issued reached the state and ends revoked.
func TestAccGuideMTG(t *testing.T) {
	e, vars := mtgCA(t)
	g := &guideLifecycle{
		e: e, config: guideExample(t, "mtg"), vars: withVars(vars),
		create:       []string{"ir:accepted:mac", "certConf:confirmed:mac"},
		cr:           []string{"cr:accepted:signature", "certConf:confirmed:signature"},
		kur:          []string{"kur:accepted:signature", "certConf:confirmed:signature", "rr:accepted:signature"},
		destroy:      []string{"rr:accepted:signature", "rr:accepted:signature"},
		revokedAtEnd: true,
		profile:      "web-server",
	}
	g.run(t)
}
