// Package faultproxy is a test-only HTTP handler that sits between a CMP
// client and a CMP server and breaks the server's answers on purpose: it
// delays, drops, truncates, garbles, rewrites and replays them, or answers
// in the server's place with an HTTP error. Tests use it to show what a
// client does when the network or the server misbehaves.
//
// The server is an http.Handler: an in-process CA (devca.New), or
// httputil.NewSingleHostReverseProxy for a CA in another process. Serve the
// Proxy with httptest.NewServer, which listens on 127.0.0.1.
//
//	p := faultproxy.New(ca)
//	p.Set(faultproxy.Rule{On: "certConf", Fault: faultproxy.Reset()})
//	srv := httptest.NewServer(p)
package faultproxy

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/cmp"
)

// maxBody caps what the proxy reads of a request, like a CMP server does.
const maxBody = cmp.MaxMessageSize + 1

// Exchange is one request and the answer the server gave to it, before any
// fault was applied.
type Exchange struct {
	// Request is the request body; RequestType its PKIBody type ("ir",
	// "certConf", ...), or "" when it is not a PKIMessage.
	Request     []byte
	RequestType string
	// TransactionID of the request (nil when it did not parse).
	TransactionID []byte
	// Nth counts the requests of RequestType the proxy has seen, from 1.
	Nth int
	// Status, Header and Response are the server's answer; Status is 0
	// when the fault kept the request from the server.
	Status   int
	Header   http.Header
	Response []byte
	// Fault names the fault applied, "" when the answer went through.
	Fault string
}

// Fault is one way to break an exchange.
type Fault struct {
	// Name says what the fault does, for test output and Exchange.Fault.
	Name string
	// Skip keeps the request from the server: the fault answers in its
	// place (the server never acts on the request).
	Skip bool
	// Respond writes what the client receives. ex holds the server's
	// answer unless Skip; history holds the earlier exchanges.
	Respond func(w http.ResponseWriter, r *http.Request, ex *Exchange, history []Exchange)
}

// Rule applies a Fault to requests of one type.
type Rule struct {
	// On is the request's PKIBody type ("ir", "cr", "kur", "rr", "genm",
	// "certConf", "pollReq", ...); "" matches every request.
	On string
	// Nth applies the fault only to the Nth request of that type (from 1);
	// 0 applies it to every one.
	Nth int
	// Times, when positive, ends the rule after so many applications.
	Times int
	Fault Fault
}

// Proxy is an http.Handler that passes requests to Next and applies the
// first matching Rule to each answer.
type Proxy struct {
	// Next is the CMP server.
	Next http.Handler

	mu      sync.Mutex
	rules   []Rule
	applied []int
	history []Exchange
	counts  map[string]int
}

// New returns a Proxy in front of next with no rules: every answer goes
// through unchanged until Set is called.
func New(next http.Handler) *Proxy {
	return &Proxy{Next: next, counts: map[string]int{}}
}

// Set replaces the rules and restarts the per-type counts, so Nth counts
// from the next request on. The history is kept (replay faults use it).
func (p *Proxy) Set(rules ...Rule) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rules = append([]Rule(nil), rules...)
	p.applied = make([]int, len(rules))
	p.counts = map[string]int{}
}

// Exchanges returns a copy of every exchange so far, oldest first.
func (p *Proxy) Exchanges() []Exchange {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Exchange(nil), p.history...)
}

// Applied returns how many exchanges were broken by a fault so far.
func (p *Proxy) Applied() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, ex := range p.history {
		if ex.Fault != "" {
			n++
		}
	}
	return n
}

// ServeHTTP reads the request, asks Next (unless the fault skips it) and
// writes the answer through the matching fault.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		http.Error(w, "faultproxy: reading the request failed", http.StatusBadRequest)
		return
	}
	ex := Exchange{Request: body}
	if m, err := cmp.Parse(body); err == nil {
		ex.RequestType = m.Body.Type.String()
		ex.TransactionID = m.Header.TransactionID
	}

	p.mu.Lock()
	p.counts[ex.RequestType]++
	ex.Nth = p.counts[ex.RequestType]
	fault, ok := p.match(ex)
	history := append([]Exchange(nil), p.history...)
	p.mu.Unlock()

	if !ok || !fault.Skip {
		rec := httptest.NewRecorder()
		r2 := r.Clone(r.Context())
		r2.Body = io.NopCloser(bytes.NewReader(body))
		p.Next.ServeHTTP(rec, r2)
		ex.Status, ex.Header, ex.Response = rec.Code, rec.Header().Clone(), rec.Body.Bytes()
	}
	if ok {
		ex.Fault = fault.Name
	}
	p.mu.Lock()
	p.history = append(p.history, ex)
	p.mu.Unlock()

	if !ok {
		pass(w, &ex)
		return
	}
	fault.Respond(w, r, &ex, history)
}

// match returns the fault of the first rule that applies to ex and counts
// the application; p.mu is held.
func (p *Proxy) match(ex Exchange) (Fault, bool) {
	for i, rule := range p.rules {
		if rule.On != "" && rule.On != ex.RequestType {
			continue
		}
		if rule.Nth != 0 && rule.Nth != ex.Nth {
			continue
		}
		if rule.Times > 0 && p.applied[i] >= rule.Times {
			continue
		}
		p.applied[i]++
		return rule.Fault, true
	}
	return Fault{}, false
}

// pass writes the server's answer unchanged.
func pass(w http.ResponseWriter, ex *Exchange) {
	for k, v := range ex.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(ex.Status)
	_, _ = w.Write(ex.Response)
}
