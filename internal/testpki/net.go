package testpki

import (
	"net"
	"testing"
)

// ClosedAddr returns a 127.0.0.1 address ("host:port") nobody listens on,
// so a connection to it is refused: a CA that is down. The port was free
// a moment ago; the kernel hands out ephemeral ports in turn, so it is
// unlikely to be taken again during the test.
func ClosedAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

// ClosedURL is an http URL with path on ClosedAddr.
func ClosedURL(t testing.TB, path string) string {
	t.Helper()
	return "http://" + ClosedAddr(t) + path
}
