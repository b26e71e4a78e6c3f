// Package opensslpeer runs OpenSSL's `openssl cmp` (3.0) as a CMP peer for
// interoperability tests: as the mock CMP server (StartMock) that the client
// library and the provider talk to, and as a CMP client (RunClient) that talks
// to the development CA.
//
// It is a test-only helper: every function takes a testing.TB and reports
// problems through it.
//
// # Network isolation
//
// `openssl cmp -port N` binds every interface and has no bind-address option
// (OpenSSL 3.0 apps/lib/http_server.c binds "[::]:port"). StartMock therefore
// refuses to run outside a private network namespace, and tests that use it
// start with InNetNS:
//
//	func TestAgainstMock(t *testing.T) {
//		if !opensslpeer.InNetNS(t) {
//			return // the test ran in a child process inside `unshare -n`
//		}
//		creds := opensslpeer.NewCreds(t)
//		mock := opensslpeer.StartMock(t, creds)
//		// ... talk to mock.URL ...
//	}
//
// In the ordinary test process InNetNS re-executes the test binary for just
// this test under `unshare -n` (with the loopback interface brought up),
// streams the child's output into the test log, fails the test when the
// child fails, and returns false. In the child it returns true. Keep all
// mock-server tests of a package under one top-level test with subtests:
// that costs one re-exec.
//
// RunClient needs no namespace: the OpenSSL client only connects, and the
// development CA it talks to listens on 127.0.0.1.
package opensslpeer
