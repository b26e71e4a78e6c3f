package devca

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"net"
	"time"
)

// serverCertLifetime is the validity of the HTTPS server certificate the
// CA makes for itself at start-up.
const serverCertLifetime = 30 * 24 * time.Hour

// ServerTLSConfig returns a TLS configuration for serving the CA over HTTPS
// (RFC 6712 section 3.1 allows CMP over TLS): a server certificate for hosts
// (DNS names or IP addresses) issued on the spot by the development CA and
// not recorded, and client certificates chaining to the CA verified when a
// client presents one, or always when requireClientCert is set (mutual TLS).
// Under EmulateVault a client certificate is always required, and may also
// chain to Config.Trusted.
//
//	srv := httptest.NewUnstartedServer(ca)
//	srv.TLS, _ = ca.ServerTLSConfig(false, "127.0.0.1")
//	srv.StartTLS()
func (ca *CA) ServerTLSConfig(requireClientCert bool, hosts ...string) (*tls.Config, error) {
	if len(hosts) == 0 {
		return nil, fmt.Errorf("devca: a server certificate needs at least one host")
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("devca: TLS key: %w", err)
	}
	serial, err := ca.newSerial()
	if err != nil {
		return nil, err
	}
	now := ca.cfg.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject: pkix.Name{
			Organization: []string{"terraform-provider-cmpv2 development CA"},
			CommonName:   hosts[0],
		},
		NotBefore:             now.Add(-time.Minute),
		NotAfter:              now.Add(serverCertLifetime),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	if tmpl.NotAfter.After(ca.st.caCert.NotAfter) {
		tmpl.NotAfter = ca.st.caCert.NotAfter
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.st.caCert, key.Public(), ca.st.caKey)
	if err != nil {
		return nil, fmt.Errorf("devca: TLS server certificate: %w", err)
	}
	chain := append([][]byte{der}, ca.st.chainDER()...)
	clientCAs := x509.NewCertPool()
	clientCAs.AddCert(ca.st.caCert)
	if ca.cfg.Emulate == EmulateVault {
		// Vault's cert auth method: every client presents a certificate
		// that chains to this CA or to a configured anchor.
		requireClientCert = true
		for _, c := range ca.cfg.Trusted {
			clientCAs.AddCert(c)
		}
	}
	auth := tls.VerifyClientCertIfGiven
	if requireClientCert {
		auth = tls.RequireAndVerifyClientCert
	}
	return &tls.Config{
		Certificates: []tls.Certificate{{Certificate: chain, PrivateKey: key}},
		ClientCAs:    clientCAs,
		ClientAuth:   auth,
		MinVersion:   tls.VersionTLS12,
	}, nil
}

// tlsHosts are the names a server certificate for a listen address
// covers: the address itself and the loopback names.
func tlsHosts(addr string) []string {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	hosts := []string{}
	if host != "" && !net.ParseIP(host).IsUnspecified() {
		hosts = append(hosts, host)
	}
	for _, h := range []string{"localhost", "127.0.0.1", "::1"} {
		if h != host {
			hosts = append(hosts, h)
		}
	}
	return hosts
}
