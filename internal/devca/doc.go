// Package devca is the project's development CMP certificate authority: an
// http.Handler that answers CMP (RFC 4210/9810, Lightweight CMP Profile
// RFC 9483) over HTTP (RFC 6712), and the `devca` command that serves it.
//
//	ca, err := devca.New(devca.Config{Dir: dir})
//	srv := httptest.NewServer(ca) // CMP endpoint: srv.URL + "/.well-known/cmp"
//
// It keeps its root CA, CMP signer, PBM credential and a record of every
// issued and revoked certificate in Config.Dir (see README.md), verifies
// every request in full (protection, POP, nonces, transactions, oldCertID,
// that cr/kur/rr signers hold a live certificate of this CA) and answers
// each refusal with a protected error message or a rejection status whose
// failInfo says what was wrong. Policies (duplicate-IR rejection,
// validities, implicit confirmation, polling) and fault modes for testing
// clients are fields of Config.
//
// It uses only internal/cmp, the wire codec; it shares no code with the
// client library, so interoperability is proven against OpenSSL.
package devca
