package provider

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/cmp"
	"github.com/cmpv2/terraform-provider-cmpv2/internal/faultproxy"
	"github.com/cmpv2/terraform-provider-cmpv2/internal/testpki"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
)

// The full provider-level fault matrix: every CMP operation the two
// resources perform (IR at create, CR and KUR at update, RR at destroy of
// cmpv2_certificate, genm at create of cmpv2_server) through every fault of
// the library-level suite (internal/devca TestFaultInjection), with
// Terraform. It takes minutes, so it runs only with
// CMPV2_FAULT_MATRIX=full (make reliability); TestAccCertificateFaults is
// the short selection make test runs.

// matrixOp is one operation of a resource's lifecycle.
type matrixOp struct {
	// name is the PKIBody type of the operation's first request.
	name string
	// enrolls: the operation issues a certificate (certConf, polling).
	enrolls bool
}

var matrixOps = []matrixOp{{"ir", true}, {"cr", true}, {"kur", true}, {"rr", false}, {"genm", false}}

// matrixOutcome is what the failed (or survived) apply must leave.
type matrixOutcome int

const (
	// beforeIssue: the fault hits the operation's answer; no certificate
	// reached the provider. IR and genm leave nothing, CR and KUR the old
	// certificate and key, RR the resource.
	beforeIssue matrixOutcome = iota
	// afterIssue: the certificate arrived and its confirmation failed. IR
	// leaves a tainted resource holding it, CR and KUR the old certificate
	// or the new one with the old one as previous_certificate_pem.
	afterIssue
	// rejectedIssue: the provider refused the issued certificate with a
	// certConf rejection; the CA revokes it; the state is as beforeIssue.
	rejectedIssue
	// survived: the operation gets through the fault and succeeds.
	survived
)

// matrixFault is one fault. Rules with On "" hit the operation's first
// request.
type matrixFault struct {
	name string
	rule func(e *matrixEnv) faultproxy.Rule
	// refused points the configuration at a port nobody listens on.
	refused bool
	// more are further rules applied with rule (for example the pollRep
	// of a forged waiting status).
	more func(e *matrixEnv) []faultproxy.Rule
	// enrollOnly: the fault needs a certConf, a polling step or an issued
	// certificate, which rr and genm do not have.
	enrollOnly bool
	// history: the fault replays an answer of an earlier transaction of
	// the same operation, so one is made first.
	history bool
	// deadline sets the resource's operation timeouts (the fault lasts for
	// ever otherwise).
	deadline bool
	outcome  matrixOutcome
	// want matches the diagnostic: the cause, named.
	want string
}

// matrixFailInfos are the PKIFailureInfo bits a CA commonly answers with
// (the library suite's list).
var matrixFailInfos = []cmp.FailureInfo{
	cmp.FailBadAlg, cmp.FailBadMessageCheck, cmp.FailBadRequest, cmp.FailBadTime, cmp.FailBadCertID,
	cmp.FailBadDataFormat, cmp.FailWrongAuthority, cmp.FailIncorrectData, cmp.FailBadPOP, cmp.FailCertRevoked,
	cmp.FailWrongIntegrity, cmp.FailBadRecipientNonce, cmp.FailBadSenderNonce, cmp.FailBadCertTemplate,
	cmp.FailSignerNotTrusted, cmp.FailTransactionIDInUse, cmp.FailUnsupportedVersion, cmp.FailNotAuthorized,
	cmp.FailSystemUnavail, cmp.FailSystemFailure, cmp.FailDuplicateCertReq,
}

func on(f faultproxy.Fault) func(*matrixEnv) faultproxy.Rule {
	return func(*matrixEnv) faultproxy.Rule { return faultproxy.Rule{Fault: f} }
}

func onCertConf(f faultproxy.Fault) func(*matrixEnv) faultproxy.Rule {
	return func(*matrixEnv) faultproxy.Rule { return faultproxy.Rule{On: "certConf", Fault: f} }
}

// matrixFaults lists the faults of the issue, in the library suite's
// order and names.
func matrixFaults() []matrixFault {
	faults := []matrixFault{
		{name: "connection_refused", refused: true, want: `connection refused`},
		{name: "reset_mid_response", rule: on(faultproxy.Reset()), want: `connection reset by peer|unexpected EOF`},
		{name: "closed_before_answer", rule: on(faultproxy.Refuse()), want: `EOF|connection reset by peer`},
		{name: "slower_than_timeout", rule: on(faultproxy.Delay(time.Minute)), want: `no (complete )?answer within the message timeout 2s`},
		{name: "http_500", rule: on(faultproxy.HTTPStatus(500, "", false)), want: `HTTP 500 Internal Server Error`},
		{name: "http_500_retry_after", rule: on(faultproxy.HTTPStatus(500, "1", false)), want: `HTTP 500 Internal Server Error`},
		{name: "http_503", rule: on(faultproxy.HTTPStatus(503, "", true)), want: `HTTP 503 Service Unavailable`},
		{name: "http_503_retry_after_once", rule: func(*matrixEnv) faultproxy.Rule {
			return faultproxy.Rule{Times: 1, Fault: faultproxy.HTTPStatus(503, "1", true)}
		}, outcome: survived},
		{name: "http_503_retry_after_always", rule: on(faultproxy.HTTPStatus(503, "1", true)), deadline: true,
			want: `HTTP 503 Service Unavailable.*(Retry-After 1s is past the deadline|still busy after \d+ retries)`},
		{name: "http_503_retry_after_too_long", rule: on(faultproxy.HTTPStatus(503, "86400", true)), want: `Retry-After 24h0m0s is longer than`},
		{name: "content_type_html", rule: on(faultproxy.ContentType("text/html")), want: `wrong Content-Type`},
		{name: "truncated_der", rule: on(faultproxy.Truncate()), want: `malformed CMP message`},
		{name: "garbage_der", rule: on(faultproxy.Garbage()), want: `malformed CMP message`},
		{name: "other_transaction", rule: on(faultproxy.OtherTransaction()), history: true, want: `transactionID does not match the request`},
		{name: "replayed_earlier_response", rule: on(faultproxy.ReplayPrevious()), history: true, want: `transactionID does not match the request`},
		{name: "wrong_mac", rule: func(e *matrixEnv) faultproxy.Rule {
			return faultproxy.Rule{Fault: faultproxy.Rewrite("wrong MAC", e.wrongMAC)}
		}, want: `protection does not verify`},
		{name: "wrong_signature", rule: func(e *matrixEnv) faultproxy.Rule {
			return faultproxy.Rule{Fault: faultproxy.Rewrite("wrong signature", e.wrongSignature)}
		}, want: `protection does not verify`},
		{name: "untrusted_signer", rule: func(e *matrixEnv) faultproxy.Rule {
			return faultproxy.Rule{Fault: faultproxy.Rewrite("untrusted signer", e.untrusted)}
		}, want: `response signer is not trusted`},
		{name: "unprotected_answer", rule: on(faultproxy.Rewrite("protection removed", func(m *cmp.Message) error {
			m.Header.ProtectionAlg, m.Protection = nil, nil
			return nil
		})), want: `missing protection`},
		{name: "pvno_downgrade", rule: func(e *matrixEnv) faultproxy.Rule {
			return faultproxy.Rule{Fault: faultproxy.Rewrite("pvno 1", func(m *cmp.Message) error {
				m.Header.PVNO = 1
				return e.reprotect(m)
			})}
		}, want: `unsupported pvno 1`},

		// After the certificate arrived.
		{name: "replayed_response", enrollOnly: true, outcome: afterIssue, rule: onCertConf(faultproxy.ReplayPrevious()), want: `recipNonce does not match`},
		{name: "certconf_reset", enrollOnly: true, outcome: afterIssue, rule: onCertConf(faultproxy.Reset()), want: `connection reset by peer|unexpected EOF`},
		{name: "certconf_slow", enrollOnly: true, outcome: afterIssue, rule: onCertConf(faultproxy.Delay(time.Minute)), want: `message timeout`},
		{name: "certconf_http_500", enrollOnly: true, outcome: afterIssue, rule: onCertConf(faultproxy.HTTPStatus(500, "", false)), want: `HTTP 500`},
		{name: "certconf_garbage", enrollOnly: true, outcome: afterIssue, rule: onCertConf(faultproxy.Garbage()), want: `malformed CMP message`},
		{name: "certconf_wrong_mac", enrollOnly: true, outcome: afterIssue, rule: func(e *matrixEnv) faultproxy.Rule {
			return faultproxy.Rule{On: "certConf", Fault: faultproxy.Rewrite("wrong MAC", e.wrongMAC)}
		}, want: `protection does not verify`},
		// The next three are what the CA's fault modes FaultCertConfError,
		// FaultWrongCertificate and Polls do in the library suite, made by
		// the proxy here: a CR or KUR needs a first IR that works and every
		// case ends with a clean apply, so the CA must behave outside the
		// faulted step.
		{name: "certconf_answered_with_error", enrollOnly: true, outcome: afterIssue,
			rule: func(e *matrixEnv) faultproxy.Rule {
				return faultproxy.Rule{On: "certConf", Fault: e.reject(cmp.FailSystemFailure, "certConf refused")}
			}, want: `rejection: systemFailure`},
		{name: "certificate_for_another_key", enrollOnly: true, outcome: rejectedIssue,
			rule: func(e *matrixEnv) faultproxy.Rule {
				return faultproxy.Rule{Fault: faultproxy.Rewrite("certificate for another key", e.anotherKey)}
			}, want: `public key differs from the requested key`},
		{name: "waiting_forever", enrollOnly: true, deadline: true,
			rule: func(e *matrixEnv) faultproxy.Rule {
				return faultproxy.Rule{Fault: faultproxy.Rewrite("waiting", e.waiting)}
			},
			more: func(e *matrixEnv) []faultproxy.Rule {
				return []faultproxy.Rule{{On: "pollReq", Fault: faultproxy.Rewrite("waiting for ever", e.pollAgain)}}
			},
			want: `still processing and asks to poll again in 1s.*deadline exceeded`},
	}
	for _, fi := range matrixFailInfos {
		name := fi.Names()[0]
		faults = append(faults, matrixFault{
			name: "rejection_" + name,
			rule: func(e *matrixEnv) faultproxy.Rule {
				return faultproxy.Rule{Fault: e.reject(fi, "refused by the fault proxy")}
			},
			want: `rejection: ` + name + `: "refused by the fault proxy"`,
		})
	}
	return faults
}

// matrixOutcomeFor is the outcome f requires of op.
func matrixOutcomeFor(op matrixOp, f matrixFault) matrixOutcome {
	// A revocation answered with certRevoked counts as done: the
	// certificate is revoked, which is what was asked.
	if op.name == "rr" && f.name == "rejection_certRevoked" {
		return survived
	}
	return f.outcome
}

// matrixExclusion says why a combination cannot apply, "" when it does.
func matrixExclusion(op matrixOp, f matrixFault) string {
	if f.enrollOnly && !op.enrolls {
		return op.name + " issues no certificate: no certConf, no polling, no certificate to check"
	}
	return ""
}

// matrixTally counts the combinations, for the summary line.
type matrixTally struct {
	mu                     sync.Mutex
	tried, passed          int
	excluded               map[string][]string // reason -> combinations
	survivedOK, failedCase []string
}

// TestAccFaultMatrix applies every fault to every operation of the two
// resources through Terraform and checks, after each apply, that the
// diagnostic names the cause and the transaction, that the state holds
// what the operation's outcome requires, and that every certificate the CA
// issued and the provider received is in state or revoked.
func TestAccFaultMatrix(t *testing.T) {
	if os.Getenv("CMPV2_FAULT_MATRIX") != "full" {
		t.Skip("full provider fault matrix (5 operations x 50 faults through Terraform, minutes): skipped; run make reliability (CMPV2_FAULT_MATRIX=full)")
	}
	if os.Getenv("TF_ACC") == "" {
		t.Fatal("full provider fault matrix: TF_ACC must be set (make reliability sets it)")
	}
	clearProviderEnv(t)
	tally := &matrixTally{excluded: map[string][]string{}}
	t.Cleanup(func() {
		tally.mu.Lock()
		defer tally.mu.Unlock()
		nExcluded := 0
		var reasons []string
		for reason, combos := range tally.excluded {
			nExcluded += len(combos)
			reasons = append(reasons, fmt.Sprintf("%d excluded: %s", len(combos), reason))
		}
		sort.Strings(reasons)
		sort.Strings(tally.failedCase)
		t.Logf("full provider fault matrix: %d operations x %d faults = %d combinations; %d excluded (%s); %d tried, %d passed (%d of them survived the fault), %d failed %v",
			len(matrixOps), len(matrixFaults()), len(matrixOps)*len(matrixFaults()), nExcluded, strings.Join(reasons, "; "),
			tally.tried, tally.passed, len(tally.survivedOK), len(tally.failedCase), tally.failedCase)
	})
	for _, op := range matrixOps {
		for _, f := range matrixFaults() {
			name := op.name + "/" + f.name
			if reason := matrixExclusion(op, f); reason != "" {
				tally.excluded[reason] = append(tally.excluded[reason], name)
				continue
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				tally.mu.Lock()
				tally.tried++
				tally.mu.Unlock()
				t.Cleanup(func() {
					tally.mu.Lock()
					defer tally.mu.Unlock()
					if t.Failed() {
						tally.failedCase = append(tally.failedCase, name)
						return
					}
					tally.passed++
					if matrixOutcomeFor(op, f) == survived {
						tally.survivedOK = append(tally.survivedOK, name)
					}
				})
				e := startMatrixEnv(t)
				if op.name == "genm" {
					runServerMatrixCase(t, e, f)
					return
				}
				runCertificateMatrixCase(t, e, op, f)
			})
		}
	}
}

// diagnosticPattern matches a diagnostic naming the cause and the
// transaction; Terraform wraps diagnostics, so any space may be a line
// break.
func diagnosticPattern(want string) *regexp.Regexp {
	return regexp.MustCompile(strings.ReplaceAll(`(?s)`+want+`.*transaction|(?s)transaction.*`+want, " ", `\s+`))
}

func runCertificateMatrixCase(t *testing.T, e *matrixEnv, op matrixOp, f matrixFault) {
	const timeouts = "\ntimeouts {\n  create = \"4s\"\n  update = \"4s\"\n  delete = \"4s\"\n}"
	base := `subject = { common_name = "matrix.example" }
dns_names = ["matrix.example"]`
	if f.deadline {
		base += timeouts
	}
	change := map[string]string{
		"ir":  base,
		"cr":  strings.Replace(base, `["matrix.example"]`, `["matrix.example", "www.matrix.example"]`, 1),
		"kur": base + "\nrotation_triggers = { epoch = \"2\" }",
	}[op.name]
	config := e.config
	faultedConfig := e.config
	if f.refused {
		dead := e.hcl()
		dead.url = testpki.ClosedURL(t, "/.well-known/cmp")
		faultedConfig = func(body string) string {
			c := dead
			c.body = body
			return c.String()
		}
	}
	type held struct{ serial, cert, key string }
	var first held
	var steps []resource.TestStep
	if op.name != "ir" {
		steps = append(steps, resource.TestStep{
			Config: config(base),
			Check: func(s *terraform.State) error {
				cur, _, rs := serialsInState(s)
				if rs == nil {
					return fmt.Errorf("no resource after the first apply")
				}
				first = held{cur, rs.Primary.Attributes["certificate_pem"], rs.Primary.Attributes["private_key_pem"]}
				return e.nothingLost(s)
			},
		})
	}
	var rules []faultproxy.Rule
	if f.rule != nil {
		rule := f.rule(e)
		if rule.On == "" {
			rule.On = op.name
		}
		rules = append(rules, rule)
		if f.more != nil {
			rules = append(rules, f.more(e)...)
		}
	}
	outcome := matrixOutcomeFor(op, f)
	faulted := resource.TestStep{
		PreConfig: func() {
			if f.history {
				if err := e.warmUp(op.name); err != nil {
					t.Fatalf("warm-up before the replay fault: %v; CA events: %s", err, e.describe())
				}
			}
			if len(rules) > 0 {
				e.proxy.Set(rules...)
			}
		},
		Config: faultedConfig(change),
	}
	if op.name == "rr" {
		faulted.Config, faulted.Destroy = faultedConfig(base), true
	}
	if outcome != survived {
		faulted.ExpectError = diagnosticPattern(f.want)
	} else if op.name != "rr" {
		faulted.Check = func(s *terraform.State) error {
			cur, _, rs := serialsInState(s)
			if rs == nil || cur == "" || cur == first.serial {
				return fmt.Errorf("the operation survived the fault but state holds no new certificate (serial %q, first %q)", cur, first.serial)
			}
			if e.proxy.Applied() == 0 {
				return fmt.Errorf("the fault was never applied")
			}
			return e.nothingLost(s)
		}
	}
	steps = append(steps, faulted)
	if outcome != survived {
		steps = append(steps, resource.TestStep{
			PreConfig:          func() { e.proxy.Set() },
			RefreshState:       true,
			ExpectNonEmptyPlan: true,
			Check: func(s *terraform.State) error {
				if err := e.nothingLost(s); err != nil {
					return err
				}
				cur, _, rs := serialsInState(s)
				switch {
				case op.name == "ir" && outcome == afterIssue:
					if rs == nil || !rs.Primary.Tainted || cur == "" || rs.Primary.Attributes["private_key_pem"] == "" {
						return fmt.Errorf("want a tainted resource holding the issued certificate and its key, got %v", rs)
					}
				case op.name == "ir":
					if rs != nil {
						return fmt.Errorf("a resource is in state after an IR whose certificate never reached the provider (serial %q)", cur)
					}
				case outcome == afterIssue:
					if rs == nil {
						return fmt.Errorf("the resource is gone")
					}
					if cur != first.serial && !strings.Contains(rs.Primary.Attributes["previous_certificate_pem"], strings.TrimSpace(first.cert)) {
						return fmt.Errorf("state holds a new certificate %s without the old one as previous_certificate_pem", cur)
					}
					if cur == first.serial && rs.Primary.Attributes["private_key_pem"] != first.key {
						return fmt.Errorf("the old certificate is in state with another key")
					}
				default:
					if rs == nil || cur != first.serial || rs.Primary.Attributes["certificate_pem"] != first.cert ||
						rs.Primary.Attributes["private_key_pem"] != first.key {
						return fmt.Errorf("the old certificate and key are not in state untouched (serial %q, first %q)", cur, first.serial)
					}
				}
				return nil
			},
		})
	}
	// A clean apply afterwards converges.
	final := change
	if op.name == "rr" {
		final = base
	}
	steps = append(steps, resource.TestStep{
		PreConfig: func() { e.proxy.Set() },
		Config:    config(final),
		Check: func(s *terraform.State) error {
			if op.name == "rr" && outcome == survived {
				if _, revoked := e.ledger(); !revoked[first.serial] {
					return fmt.Errorf("the destroy succeeded but certificate %s is not revoked at the CA", first.serial)
				}
			}
			return e.nothingLost(s)
		},
	})
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProviders,
		Steps:                    steps,
		CheckDestroy:             e.deliveredAllRevoked,
	})
}

// runServerMatrixCase breaks the genm of a second cmpv2_server's create
// (the first one succeeds, so answers of other transactions exist).
func runServerMatrixCase(t *testing.T, e *matrixEnv, f matrixFault) {
	server, second := e.serverConfig("test", e.url), e.serverConfig("second", e.url)
	faultedConfig := second
	if f.refused {
		faultedConfig = e.serverConfig("second", testpki.ClosedURL(t, "/.well-known/cmp"))
	}
	faulted := resource.TestStep{
		PreConfig: func() {
			if f.rule != nil {
				rule := f.rule(e)
				if rule.On == "" {
					rule.On = "genm"
				}
				e.proxy.Set(rule)
			}
		},
		Config: faultedConfig,
	}
	steps := []resource.TestStep{{Config: server}, faulted}
	if f.outcome == survived {
		steps[1].Check = func(s *terraform.State) error {
			if rs := s.RootModule().Resources["cmpv2_server.second"]; rs == nil {
				return fmt.Errorf("cmpv2_server.second is not in state after surviving the fault")
			}
			if e.proxy.Applied() == 0 {
				return errors.New("the fault was never applied")
			}
			return nil
		}
	} else {
		steps[1].ExpectError = diagnosticPattern(f.want)
		steps = append(steps, resource.TestStep{
			PreConfig:          func() { e.proxy.Set() },
			RefreshState:       true,
			ExpectNonEmptyPlan: true,
			Check: func(s *terraform.State) error {
				if rs := s.RootModule().Resources["cmpv2_server.second"]; rs != nil {
					return fmt.Errorf("cmpv2_server.second is in state after its genm failed")
				}
				return nil
			},
		})
	}
	steps = append(steps, resource.TestStep{PreConfig: func() { e.proxy.Set() }, Config: second})
	resource.Test(t, resource.TestCase{ProtoV6ProviderFactories: testAccProviders, Steps: steps})
}
