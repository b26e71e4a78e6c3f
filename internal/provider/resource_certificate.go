package provider

import (
	"context"
	"maps"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/setvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// certificateResource is `cmpv2_certificate`: one certificate enrolled and
// maintained over CMP. Create sends an IR, an update a CR or KUR (or
// nothing, for state-only changes; see certificate_plan.go), Delete an RR.
type certificateResource struct {
	defaults *Defaults
	clock    clock
}

var (
	_ resource.Resource                   = (*certificateResource)(nil)
	_ resource.ResourceWithConfigure      = (*certificateResource)(nil)
	_ resource.ResourceWithValidateConfig = (*certificateResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*certificateResource)(nil)
)

// certificateModel is the `cmpv2_certificate` configuration, plan and state.
type certificateModel struct {
	// Inputs (fixed names: they are the documented interface).
	Server              types.Object   `tfsdk:"server"`
	Enrollment          types.Object   `tfsdk:"enrollment"`
	Subject             types.Object   `tfsdk:"subject"`
	DNSNames            types.List     `tfsdk:"dns_names"`
	IPAddresses         types.List     `tfsdk:"ip_addresses"`
	URIs                types.List     `tfsdk:"uris"`
	EmailAddresses      types.List     `tfsdk:"email_addresses"`
	KeyUsages           types.Set      `tfsdk:"key_usages"`
	ExtendedKeyUsages   types.Set      `tfsdk:"extended_key_usages"`
	ValidityPeriodHours types.Int64    `tfsdk:"validity_period_hours"`
	CertificateProfile  types.String   `tfsdk:"certificate_profile"`
	KeyAlgorithm        types.String   `tfsdk:"key_algorithm"`
	RSABits             types.Int64    `tfsdk:"rsa_bits"`
	ECDSACurve          types.String   `tfsdk:"ecdsa_curve"`
	PrivateKeyPEM       types.String   `tfsdk:"private_key_pem"`
	RenewBeforeExpiry   types.String   `tfsdk:"renew_before_expiry"`
	RenewAfterIssue     types.String   `tfsdk:"renew_after_issue"`
	RotationTriggers    types.Map      `tfsdk:"rotation_triggers"`
	RevokeOnDestroy     types.Bool     `tfsdk:"revoke_on_destroy"`
	RevokeSuperseded    types.Bool     `tfsdk:"revoke_superseded"`
	RevocationReason    types.String   `tfsdk:"revocation_reason"`
	UpdateProtection    types.String   `tfsdk:"update_protection"`
	UseRequestTemplate  types.Bool     `tfsdk:"use_request_template"`
	Timeouts            timeouts.Value `tfsdk:"timeouts"`

	// Where the key lives instead (key_custody.go).
	CertificateRequestPEM types.String `tfsdk:"certificate_request_pem"`
	PrivateKeyWO          types.String `tfsdk:"private_key_wo"`
	PrivateKeyWOVersion   types.Int64  `tfsdk:"private_key_wo_version"`
	PreviousPrivateKeyWO  types.String `tfsdk:"previous_private_key_wo"`

	// Computed (fixed names). What is derivable from certificate_pem
	// (issuer, public key, fingerprint, the served chain) is not stored:
	// the functions certificate_info and certificate_chain give it.
	ID                     types.String `tfsdk:"id"`
	CertificatePEM         types.String `tfsdk:"certificate_pem"`
	CAChainPEM             types.String `tfsdk:"ca_chain_pem"`
	SerialNumber           types.String `tfsdk:"serial_number"`
	NotBefore              types.String `tfsdk:"not_before"`
	NotAfter               types.String `tfsdk:"not_after"`
	PreviousCertificatePEM types.String `tfsdk:"previous_certificate_pem"`
	PreviousPrivateKeyPEM  types.String `tfsdk:"previous_private_key_pem"`
	LastOperation          types.String `tfsdk:"last_operation"`
	ReadyForRenewal        types.Bool   `tfsdk:"ready_for_renewal"`
	RenewalTime            types.String `tfsdk:"renewal_time"`
	TrustAnchorSHA256      types.String `tfsdk:"trust_anchor_sha256"`

	// PKCS#12 output, inputs and computed (certificate_p12.go).
	p12Model
}

// enrollmentModel is the `enrollment` object: credentials for IR only.
type enrollmentModel struct {
	Reference      types.String `tfsdk:"reference"`
	Secret         types.String `tfsdk:"secret"`
	SecretWO       types.String `tfsdk:"secret_wo"`
	CertificatePEM types.String `tfsdk:"certificate_pem"`
	PrivateKeyPEM  types.String `tfsdk:"private_key_pem"`
	MACAlgorithm   types.String `tfsdk:"mac_algorithm"`
	SecretEncoding types.String `tfsdk:"secret_encoding"`
}

// Defaults of the key attributes: a generated key is ECDSA P-256 unless
// configured otherwise.
const (
	defaultKeyAlgorithm     = keyAlgorithmECDSA
	defaultRSABits          = 2048
	defaultECDSACurve       = "P256"
	defaultRevocationReason = "unspecified"
)

func (r *certificateResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_certificate"
}

func (r *certificateResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	computed := func(desc string) schema.StringAttribute {
		return schema.StringAttribute{Description: desc, Computed: true}
	}
	resp.Schema = schema.Schema{
		Version: certificateSchemaVersion,
		Description: "An X.509 certificate enrolled over CMP and kept current: create sends an initialization " +
			"request (IR); a change of subject, SANs, usages or requested validity sends a certification request " +
			"(CR); a due renewal, " +
			"a changed `rotation_triggers`, a new `private_key_pem` or a new `private_key_wo_version` sends a key update request (KUR); destroy " +
			"revokes (RR). Other changes touch the state only. Refreshing never contacts the CA. A certificate " +
			"that expired before an apply renewed it is replaced by a new IR without an RR (it can sign no " +
			"request): destroy-then-create by default, so the state holds no certificate until the IR succeeds " +
			"and none at all if it fails; with `lifecycle { create_before_destroy = true }` the IR runs first " +
			"and the expired certificate leaves the state only once the new one is in it.",
		Attributes: map[string]schema.Attribute{
			"server": schema.SingleNestedAttribute{
				Description: "The CMP server, in the shape of `cmpv2_server.endpoint` (pass that object as is). " +
					"Unset attributes fall back to the provider's.",
				Optional:   true,
				Attributes: connectionAttributes(false),
			},
			"enrollment": schema.SingleNestedAttribute{
				Description: "Credentials for the initialization request (IR) only: `reference` with `secret` or " +
					"`secret_wo` (MAC protection), or `certificate_pem` with `private_key_pem` of an externally issued " +
					"certificate (signature protection). Unset, the provider's `reference` and `secret` protect the IR; a secret set here without `reference` goes with the provider's `reference` (`CMPV2_REFERENCE`). " +
					"Later requests are signed with the certificate this resource holds (unless `update_protection = " +
					"\"mac\"`), so changing these is a state-only update.",
				Optional:   true,
				Attributes: enrollmentAttributes(),
			},
			"subject": schema.SingleNestedAttribute{
				Description: "Subject distinguished name to request. A change sends a CR.",
				Optional:    true,
				// Computed for use_request_template only: null when unset without it.
				Computed:   true,
				Attributes: subjectAttributes(),
			},
			"use_request_template": schema.BoolAttribute{
				Description: "Fill what the configuration leaves unset from the CA's certificate request template " +
					"(genm id-it-certReqTemplate, RFC 9483 section 4.3.3), asked once, at the plan that creates the " +
					"certificate: `key_algorithm` with `ecdsa_curve` or `rsa_bits` of a generated key (the first key " +
					"type the template names that agrees with what is configured) and `subject` (the template's " +
					"attributes that have values). The plan shows the values taken; configured values always win; " +
					"state keeps the values taken, so later plans ask nothing. Default false: no genm is sent.",
				Optional: true,
			},
			"dns_names": schema.ListAttribute{
				Description: "DNS names for the subject alternative name extension. A change sends a CR.",
				Optional:    true,
				ElementType: types.StringType,
				Validators:  []validator.List{listvalidator.ValueStringsAre(dnsNameValidator())},
			},
			"ip_addresses": schema.ListAttribute{
				Description: "IP addresses for the subject alternative name extension. A change sends a CR.",
				Optional:    true,
				ElementType: types.StringType,
				Validators:  []validator.List{listvalidator.ValueStringsAre(ipAddressValidator())},
			},
			"uris": schema.ListAttribute{
				Description: "URIs for the subject alternative name extension. A change sends a CR.",
				Optional:    true,
				ElementType: types.StringType,
				Validators:  []validator.List{listvalidator.ValueStringsAre(uriValidator())},
			},
			"email_addresses": schema.ListAttribute{
				Description: "Email addresses for the subject alternative name extension. A change sends a CR.",
				Optional:    true,
				ElementType: types.StringType,
				Validators:  []validator.List{listvalidator.ValueStringsAre(emailValidator())},
			},
			"key_usages": schema.SetAttribute{
				Description: "Key usages to request, named as terraform-provider-tls names them: " +
					quotedList(sortedNames(keyUsages)) + ". A change sends a CR.",
				Optional:    true,
				ElementType: types.StringType,
				Validators:  []validator.Set{setvalidator.ValueStringsAre(stringvalidator.OneOf(sortedNames(keyUsages)...))},
			},
			"extended_key_usages": schema.SetAttribute{
				Description: "Extended key usages to request: " + quotedList(sortedNames(extendedKeyUsages)) +
					". A change sends a CR.",
				Optional:    true,
				ElementType: types.StringType,
				Validators: []validator.Set{
					setvalidator.ValueStringsAre(stringvalidator.OneOf(sortedNames(extendedKeyUsages)...)),
				},
			},
			"validity_period_hours": schema.Int64Attribute{
				Description: "Requested validity in hours. The CA may grant less, which is not drift. A change " +
					"sends a CR.",
				Optional:   true,
				Validators: []validator.Int64{int64validator.AtLeast(1)},
			},
			"certificate_profile": schema.StringAttribute{
				Description: "Certificate profile to issue under, sent as the certProfile (id-it-certProfile, RFC 9483 " +
					"section 4.1.1) in the generalInfo of every IR, CR and KUR, for CAs that choose the profile by " +
					"request rather than by URL path. A change sends a CR.",
				Optional:   true,
				Validators: []validator.String{stringvalidator.LengthAtLeast(1)},
			},
			"key_algorithm": schema.StringAttribute{
				Description: "Algorithm of the generated key: `RSA`, `ECDSA` or `ED25519`. Default `ECDSA`. " +
					"A change generates a new key and sends a KUR.",
				Optional:   true,
				Computed:   true,
				Default:    stringdefault.StaticString(defaultKeyAlgorithm),
				Validators: []validator.String{stringvalidator.OneOf(keyAlgorithms...)},
			},
			"rsa_bits": schema.Int64Attribute{
				Description: "Size of a generated RSA key: 2048, 3072 or 4096. Default 2048.",
				Optional:    true,
				Computed:    true,
				Default:     int64default.StaticInt64(defaultRSABits),
				Validators:  []validator.Int64{int64validator.OneOf(rsaKeySizes...)},
			},
			"ecdsa_curve": schema.StringAttribute{
				Description: "Curve of a generated ECDSA key: `P256`, `P384` or `P521`. Default `P256`.",
				Optional:    true,
				Computed:    true,
				Default:     stringdefault.StaticString(defaultECDSACurve),
				Validators:  []validator.String{stringvalidator.OneOf(sortedNames(ecdsaCurves)...)},
			},
			"private_key_pem": schema.StringAttribute{
				Description: "Private key of the certificate, PEM. Set it to bring your own key (for example from " +
					"`tls_private_key`); a new key with the same subject and extensions sends a KUR. Left unset, the " +
					"provider generates the key, keeps it here (sensitive) and generates a new one for every KUR.",
				Optional:      true,
				Computed:      true,
				Sensitive:     true,
				Validators:    []validator.String{privateKeyPEMValidator()},
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"certificate_request_pem": schema.StringAttribute{
				Description: "A PKCS#10 certification request (CSR), PEM, made where the key lives (a host, an HSM, " +
					"another tool): the key never reaches the provider and `private_key_pem` stays null. Create " +
					"sends it as is in a p10cr (RFC 9483 section 4.1.4); a changed CSR, `rotation_triggers` or an open " +
					"renewal window sends a new p10cr in place (the plan warns with its protection), since the provider " +
					"holds no key to sign a KUR. Every p10cr is protected as the IR is, by `enrollment` (with `secret_wo`, " +
					"give it again for each one) or the provider's credentials; a plan with none fails. Subject, SANs and " +
					"extensions come from the CSR, so it cannot be set with `subject`, the SAN lists, `key_usages`, " +
					"`extended_key_usages`, `validity_period_hours`, `certificate_profile`, `private_key_pem` or the key " +
					"attributes. An RR must be signed by the certificate it revokes (RFC 9483 section 4.2): a replaced or " +
					"destroyed certificate is revoked only with `update_protection = \"mac\"`, for a CA that accepts a " +
					"MAC-protected RR; otherwise it stays valid until it expires, and a warning names its serial. Setting " +
					"or removing it replaces the certificate.",
				Optional:   true,
				Validators: []validator.String{csrValidator()},
			},
			"private_key_wo":          keyWOAttribute(),
			"private_key_wo_version":  keyWOVersionAttribute(),
			"previous_private_key_wo": previousKeyWOAttribute(),
			"renew_before_expiry": schema.StringAttribute{
				Description: "Renew (KUR) this long before `not_after`, as a Go duration such as `720h`. With " +
					"neither this nor `renew_after_issue` set, renewal is due when one third of the granted " +
					"validity remains. A window counts only when it opens once half of the validity the CA " +
					"granted has passed (CAs backdate `not_before`, so a window as long as the validity would " +
					"make every apply renew); one longer than that is set aside with a warning, and one as long " +
					"as `validity_period_hours` is an error.",
				Optional:   true,
				Validators: []validator.String{durationValidator()},
			},
			"renew_after_issue": schema.StringAttribute{
				Description: "Renew (KUR) this long after `not_before`, as a Go duration such as `1440h`. With " +
					"both renewal settings set, the earlier time wins. It counts only when it is at least half of " +
					"the validity the CA granted and less than all of it (else the certificate would expire " +
					"first); otherwise it is set aside with a warning, and one as long as `validity_period_hours` " +
					"is an error. To renew more often, request a shorter validity or change `rotation_triggers`.",
				Optional:   true,
				Validators: []validator.String{durationValidator()},
			},
			"rotation_triggers": schema.MapAttribute{
				Description: "Arbitrary values; any change sends a KUR with a new key, in place.",
				Optional:    true,
				ElementType: types.StringType,
			},
			"revoke_on_destroy": schema.BoolAttribute{
				Description: "Revoke the certificate (RR) when the resource is destroyed. Default `true`.",
				Optional:    true,
				Computed:    true,
				Default:     booldefault.StaticBool(true),
			},
			"revoke_superseded": schema.BoolAttribute{
				Description: "Revoke (RR, reason superseded) the certificate a CR or KUR replaced when it leaves " +
					"the state: at the next CR or KUR, and on destroy (with `revoke_on_destroy`) the one " +
					"`previous_certificate_pem` holds. Default `true`. Set `false` for a CA that offers no " +
					"revocation (it then never sees an RR for a replaced certificate): replaced certificates " +
					"then stay valid until they expire. A change is a state-only update.",
				Optional: true,
				Computed: true,
				Default:  booldefault.StaticBool(true),
			},
			"revocation_reason": schema.StringAttribute{
				Description: "RFC 5280 CRLReason sent with the revocation, in snake_case: " +
					quotedList(sortedNames(revocationReasons)) + ". Default `" + defaultRevocationReason + "`.",
				Optional:   true,
				Computed:   true,
				Default:    stringdefault.StaticString(defaultRevocationReason),
				Validators: []validator.String{stringvalidator.OneOf(sortedNames(revocationReasons)...)},
			},
			"update_protection": schema.StringAttribute{
				Description: "How a CR, KUR or RR is protected: `signature` (default), signed with the certificate " +
					"it is about (RFC 9483 sections 4.1.2, 4.1.3, 4.2), or `mac`, with the enrollment's `reference` and " +
					"`secret` (else the provider's), as the IR, for CAs and RAs that want MAC-protected updates " +
					"(RFC 9483 section 4.1.5). With `mac`, `enrollment.secret_wo` (never stored) must be given again " +
					"in the configuration of every apply that sends a CR or KUR, and the RR of a destroy (which has " +
					"no configuration) needs `enrollment.secret` or the provider's secret; a plan without them fails " +
					"and names this setting. A change is a state-only update.",
				Optional:   true,
				Computed:   true,
				Default:    stringdefault.StaticString(updateProtectionSignature),
				Validators: []validator.String{stringvalidator.OneOf(updateProtectionSignature, updateProtectionMAC)},
			},

			"id": schema.StringAttribute{
				Description:   "Identifier of the resource, stable across CR and KUR.",
				Computed:      true,
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"certificate_pem": computed("The issued certificate, PEM. `provider::cmpv2::certificate_info(certificate_pem)` " +
				"decodes it (issuer, public key, SHA-256 fingerprint, SANs)."),
			"ca_chain_pem": computed("The issuer chain of the certificate, PEM, nearest issuer first: the first " +
				"certificate issued `certificate_pem`, each next one issued the one before it. With trust anchors " +
				"(`trusted_ca_pem`) it is the verified chain and ends with the anchor it verified to, usually the root; " +
				"without, it goes as far as the certificates the CA sent (extraCerts, caPubs) allow, and ends with the " +
				"root when the CA sent it. When the CA sent no certificate that issued it, it holds the CA's caPubs as sent. " +
				"`provider::cmpv2::certificate_chain(certificate_pem, ca_chain_pem)` is the chain a TLS server sends: the " +
				"certificate and this chain without its root."),
			"serial_number": computed("Serial number of the certificate, decimal."),
			"not_before":    computed("Start of the granted validity, RFC 3339."),
			"not_after":     computed("End of the granted validity, RFC 3339."),
			"previous_certificate_pem": computed("The certificate the last CR or KUR replaced, PEM, for overlapping deployments. " +
				"The next CR or KUR revokes it (reason superseded), so at most two certificates of the resource are valid; " +
				"with `revoke_superseded = false` it is not revoked and stays valid until it expires."),
			"previous_private_key_pem": schema.StringAttribute{
				Description: "The private key of `previous_certificate_pem`, PEM (sensitive), for rollovers that " +
					"deploy both halves of the old and the new credential for an overlap. Null when the previous " +
					"certificate has the current key (a CR that kept it), and when `private_key_pem` is configured " +
					"(the keys are yours, and the provider does not hand them back).",
				Computed:  true,
				Sensitive: true,
			},
			"last_operation": computed("The CMP operation that produced the current certificate: `ir` (create), " +
				"`cr` (a change of subject or extensions), `kur` (renewal, rotation, a new key) or `p10cr` (every enrollment " +
				"of `certificate_request_pem`); null for an imported certificate."),
			"ready_for_renewal": schema.BoolAttribute{
				Description: "Whether the renewal window is open: the next plan shows an in-place KUR.",
				Computed:    true,
			},
			"renewal_time": computed("When the renewal window opens, RFC 3339: by `renew_before_expiry` or " +
				"`renew_after_issue` where they fit the granted validity, else when one third of it remains."),
			"trust_anchor_sha256": computed("SHA-256 fingerprint (lower-case hex) of the root CA certificate this " +
				"resource adopted as its trust anchor, which is the last certificate of `ca_chain_pem` (stored once). " +
				"When no trust anchor is configured (no `trusted_ca_pem` or `server_certificate_pem` in `server`, the " +
				"provider or `CMPV2_TRUSTED_CA_PEM`) and the CA answers the IR under the shared secret, the CA " +
				"certificate it sends in caPubs that the new certificate chains to is adopted (RFC 9810 section " +
				"5.3.2: the MAC authenticates it); certificates in extraCerts never are, since the MAC does not cover " +
				"them. Every later CR, KUR and RR of this resource verifies the CA's signed answers against it. " +
				"Configured trust anchors win: with them this is null, and it is null after an import. Without " +
				"either, a plan that would send a CR, KUR or RR signed with the certificate fails and names " +
				"`trusted_ca_pem` (with `update_protection = \"mac\"` the shared secret authenticates the answer)."),
		},
		Blocks: map[string]schema.Block{
			"timeouts": timeouts.Block(ctx, timeouts.Opts{Create: true, Update: true, Delete: true}),
		},
	}
	maps.Copy(resp.Schema.Attributes, p12Attributes())
}

func (r *certificateResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	configureDefaults(&r.defaults, req, resp)
}

func quotedList(names []string) string {
	return "`" + strings.Join(names, "`, `") + "`"
}

// Create enrolls the certificate with an IR (certificate_enroll.go).
func (r *certificateResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	r.enroll(ctx, req, resp)
}

// Read never talks to the CA: a plan over many
// certificates costs what Terraform itself costs. Only the clock moves
// ready_for_renewal.
//
// resp.State starts as the prior state, so Read reads only the two
// attributes it needs and writes ready_for_renewal only when it changes:
// the whole-model Get and Set cost more than the rest of a plan's
// provider work (plan_fastpath.go).
func (r *certificateResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	attrs, err := stateAttributesOf(req.State.Raw)
	if err != nil {
		resp.Diagnostics.AddError("Unreadable certificate state", err.Error())
		return
	}
	ready, moves := readyForRenewalMoves(attrs, r.clock.now())
	if !moves {
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("ready_for_renewal"), ready)...)
}

// Update sends a CR or KUR, or nothing for a state-only change
// (certificate_update.go).
func (r *certificateResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	r.update(ctx, req, resp)
}

// Delete revokes the certificate with an RR unless revoke_on_destroy is
// false (certificate_revoke.go).
func (r *certificateResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	r.revoke(ctx, req, resp)
}
