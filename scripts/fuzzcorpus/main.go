//go:build ignore

// Command fuzzcorpus writes the committed seed corpora of the fuzz targets
// (testdata/fuzz/<FuzzName>/ beside each target) from the messages and
// credentials OpenSSL made for the codec's tests (internal/cmp/testdata).
// Run from the repository root:
//
//	go run scripts/fuzzcorpus/main.go
//
// Every file is named after the OpenSSL-made file it comes from, so a
// rerun rewrites the same files.
package main

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/cmp"
)

// corpus collects the entries of one target.
type corpus struct {
	dir     string // package directory
	target  string
	typ     string // "[]byte" or "string"
	entries map[string]string
}

func (c *corpus) add(name string, value []byte) {
	if c.entries == nil {
		c.entries = map[string]string{}
	}
	for _, v := range c.entries {
		if v == string(value) {
			return
		}
	}
	c.entries[name] = string(value)
}

func (c *corpus) write() (int, error) {
	dir := filepath.Join(c.dir, "testdata", "fuzz", c.target)
	if err := os.RemoveAll(dir); err != nil {
		return 0, err
	}
	if len(c.entries) == 0 {
		// No OpenSSL-made input of this kind; the target's own seeds remain.
		return 0, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, err
	}
	names := make([]string, 0, len(c.entries))
	for n := range c.entries {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		v := c.entries[n]
		body := fmt.Sprintf("go test fuzz v1\n%s(%s)\n", c.typ, strconv.Quote(v))
		if err := os.WriteFile(filepath.Join(dir, "openssl-"+n), []byte(body), 0o644); err != nil {
			return 0, err
		}
	}
	return len(names), nil
}

func isRequest(t cmp.BodyType) bool {
	switch t {
	case cmp.BodyIR, cmp.BodyCR, cmp.BodyKUR, cmp.BodyP10CR, cmp.BodyRR, cmp.BodyGenM, cmp.BodyCertConf, cmp.BodyPollReq:
		return true
	}
	return false
}

func main() {
	var (
		parse    = &corpus{dir: "internal/cmp", target: "FuzzParse", typ: "[]byte"}
		itav     = &corpus{dir: "internal/cmp", target: "FuzzITAVValues", typ: "[]byte"}
		algID    = &corpus{dir: "internal/cmp", target: "FuzzAlgorithmIdentifier", typ: "[]byte"}
		pbm      = &corpus{dir: "internal/cmp", target: "FuzzPBMParameter", typ: "[]byte"}
		pss      = &corpus{dir: "internal/cmp", target: "FuzzPSSParameters", typ: "[]byte"}
		response = &corpus{dir: "cmpclient", target: "FuzzCheckResponse", typ: "[]byte"}
		handler  = &corpus{dir: "internal/devca", target: "FuzzHandler", typ: "[]byte"}
		protreq  = &corpus{dir: "internal/devca", target: "FuzzProtectedRequest", typ: "[]byte"}
		pemIn    = &corpus{dir: "internal/provider", target: "FuzzParsePEM", typ: "string"}
		dn       = &corpus{dir: "internal/provider", target: "FuzzParseDistinguishedName", typ: "string"}
	)
	var files []string
	for _, glob := range []string{"internal/cmp/testdata/golden/*.der", "internal/cmp/testdata/protection/msg/*.der"} {
		m, _ := filepath.Glob(glob)
		files = append(files, m...)
	}
	if len(files) == 0 {
		log.Fatal("no OpenSSL golden messages found; run from the repository root")
	}
	for _, path := range files {
		der, err := os.ReadFile(path)
		if err != nil {
			log.Fatal(err)
		}
		name := strings.TrimSuffix(filepath.Base(path), ".der")
		if strings.Contains(path, "protection") {
			name = "protection-" + name
		}
		m, err := cmp.Parse(der)
		if err != nil {
			log.Fatalf("%s: %v", path, err)
		}
		parse.add(name, der)
		if isRequest(m.Body.Type) {
			handler.add(name, der)
			protreq.add(name, der)
		} else {
			response.add(name, der)
		}
		algs := []*pkixAlg{}
		if a := m.Header.ProtectionAlg; a != nil {
			algs = append(algs, &pkixAlg{"protectionAlg", *a})
		}
		for i, r := range m.Body.CertReq {
			if r.POP != nil && r.POP.Signature != nil {
				algs = append(algs, &pkixAlg{"pop" + strconv.Itoa(i), r.POP.Signature.Algorithm})
			}
		}
		for _, a := range algs {
			enc, err := cmp.MarshalAlgorithmIdentifier(a.alg)
			if err != nil {
				log.Fatalf("%s %s: %v", path, a.where, err)
			}
			algID.add(name+"-"+a.where, enc)
			switch {
			case a.alg.Algorithm.Equal(cmp.OIDPasswordBasedMac):
				pbm.add(name+"-"+a.where, a.alg.Parameters.FullBytes)
			case a.alg.Algorithm.Equal(cmp.OIDRSASSAPSS):
				pss.add(name+"-"+a.where, a.alg.Parameters.FullBytes)
			}
		}
		for i, v := range append(append([]cmp.InfoTypeAndValue(nil), m.Body.GenMsg...), m.Header.GeneralInfo...) {
			itav.add(fmt.Sprintf("%s-itav%d", name, i), v.Value)
		}
		for i, raw := range m.ExtraCerts {
			c, err := x509.ParseCertificate(raw)
			if err != nil {
				continue
			}
			dn.add(fmt.Sprintf("%s-extraCert%d", name, i), []byte(c.Subject.String()))
		}
	}
	creds, _ := filepath.Glob("internal/cmp/testdata/creds/*")
	for _, path := range creds {
		data, err := os.ReadFile(path)
		if err != nil {
			log.Fatal(err)
		}
		if block, _ := pem.Decode(data); block == nil {
			continue
		}
		pemIn.add(filepath.Base(path), data)
	}
	total := 0
	for _, c := range []*corpus{parse, itav, algID, pbm, pss, response, handler, protreq, pemIn, dn} {
		n, err := c.write()
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%-40s %3d seeds\n", c.dir+" "+c.target, n)
		total += n
	}
	fmt.Printf("%d seed files written\n", total)
}

type pkixAlg struct {
	where string
	alg   pkix.AlgorithmIdentifier
}
