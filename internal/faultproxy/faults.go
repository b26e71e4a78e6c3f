package faultproxy

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/cmp"
)

// contentType is the media type of CMP over HTTP (RFC 6712 section 3.4).
const contentType = "application/pkixcmp"

// Pass lets the answer through unchanged (a rule that only counts).
func Pass() Fault {
	return Fault{Name: "pass", Respond: func(w http.ResponseWriter, _ *http.Request, ex *Exchange, _ []Exchange) {
		pass(w, ex)
	}}
}

// Delay holds the server's answer back for d, or until the client gives
// up: a server slower than the client's timeout. The server has acted.
func Delay(d time.Duration) Fault {
	return Fault{Name: "delay " + d.String(), Respond: func(w http.ResponseWriter, r *http.Request, ex *Exchange, _ []Exchange) {
		timer := time.NewTimer(d)
		defer timer.Stop()
		select {
		case <-timer.C:
			pass(w, ex)
		case <-r.Context().Done():
		}
	}}
}

// Refuse closes the connection without an answer, before the server sees
// the request: what a client meets when the server is gone.
func Refuse() Fault {
	return Fault{Name: "connection closed before the answer", Skip: true, Respond: func(w http.ResponseWriter, _ *http.Request, _ *Exchange, _ []Exchange) {
		if conn := hijack(w); conn != nil {
			abort(conn)
		}
	}}
}

// Reset sends the status line, the headers announcing the full length and
// the first half of the server's answer, then resets the connection: the
// answer is lost mid-way after the server acted.
func Reset() Fault {
	return Fault{Name: "connection reset mid-response", Respond: func(w http.ResponseWriter, _ *http.Request, ex *Exchange, _ []Exchange) {
		conn := hijack(w)
		if conn == nil {
			return
		}
		var head bytes.Buffer
		fmt.Fprintf(&head, "HTTP/1.1 %d %s\r\n", ex.Status, http.StatusText(ex.Status))
		fmt.Fprintf(&head, "Content-Type: %s\r\nContent-Length: %d\r\n\r\n", ex.Header.Get("Content-Type"), len(ex.Response))
		head.Write(ex.Response[:len(ex.Response)/2])
		_, _ = conn.Write(head.Bytes())
		abort(conn)
	}}
}

// HTTPStatus answers with the HTTP status code and a short text body
// instead of a CMP message, with a Retry-After header when retryAfter is
// not empty. With skip the server never sees the request (a busy front
// end); otherwise the server acted and its answer is lost.
func HTTPStatus(code int, retryAfter string, skip bool) Fault {
	name := "HTTP " + strconv.Itoa(code)
	if retryAfter != "" {
		name += " Retry-After " + retryAfter
	}
	if !skip {
		name += " after the server acted"
	}
	return Fault{Name: name, Skip: skip, Respond: func(w http.ResponseWriter, _ *http.Request, _ *Exchange, _ []Exchange) {
		if retryAfter != "" {
			w.Header().Set("Retry-After", retryAfter)
		}
		http.Error(w, "faultproxy: "+http.StatusText(code), code)
	}}
}

// ContentType sends the server's answer with another Content-Type.
func ContentType(ct string) Fault {
	return Fault{Name: "Content-Type " + ct, Respond: func(w http.ResponseWriter, _ *http.Request, ex *Exchange, _ []Exchange) {
		w.Header().Set("Content-Type", ct)
		w.WriteHeader(ex.Status)
		_, _ = w.Write(ex.Response)
	}}
}

// Truncate sends the first half of the server's answer as if it were all
// of it (a consistent Content-Length): truncated DER.
func Truncate() Fault {
	return Fault{Name: "truncated DER", Respond: func(w http.ResponseWriter, _ *http.Request, ex *Exchange, _ []Exchange) {
		writeCMP(w, ex.Response[:len(ex.Response)/2])
	}}
}

// Garbage replaces the server's answer with a DER SEQUENCE of bytes that
// are not a PKIMessage.
func Garbage() Fault {
	return Fault{Name: "garbage DER", Respond: func(w http.ResponseWriter, _ *http.Request, _ *Exchange, _ []Exchange) {
		junk := append([]byte{0x30, 0x20}, bytes.Repeat([]byte{0xa5, 0x5a}, 16)...)
		writeCMP(w, junk)
	}}
}

// Rewrite decodes the server's answer, lets edit change it (and protect it
// again, or not) and sends the re-encoding.
func Rewrite(name string, edit func(m *cmp.Message) error) Fault {
	return Fault{Name: name, Respond: func(w http.ResponseWriter, _ *http.Request, ex *Exchange, _ []Exchange) {
		m, err := cmp.Parse(ex.Response)
		if err != nil {
			http.Error(w, "faultproxy: the server's answer does not parse: "+err.Error(), http.StatusBadGateway)
			return
		}
		if err := edit(m); err != nil {
			http.Error(w, "faultproxy: "+name+": "+err.Error(), http.StatusBadGateway)
			return
		}
		der, err := m.Marshal()
		if err != nil {
			http.Error(w, "faultproxy: re-encoding: "+err.Error(), http.StatusBadGateway)
			return
		}
		writeCMP(w, der)
	}}
}

// FlipProtection inverts the last byte of the answer's protection: a MAC
// or signature that does not verify.
func FlipProtection() Fault {
	return Rewrite("protection altered", func(m *cmp.Message) error {
		if len(m.Protection) == 0 {
			return fmt.Errorf("the answer is not protected")
		}
		m.Protection = bytes.Clone(m.Protection)
		m.Protection[len(m.Protection)-1] ^= 0xff
		return nil
	})
}

// OtherTransaction sends, in place of the server's answer, the latest
// earlier answer to a request of the same type in another transaction:
// a response that belongs to someone else. The server has acted on the
// request.
func OtherTransaction() Fault {
	return Fault{Name: "response of another transaction", Respond: func(w http.ResponseWriter, _ *http.Request, ex *Exchange, history []Exchange) {
		for i := len(history) - 1; i >= 0; i-- {
			h := history[i]
			if h.RequestType == ex.RequestType && !bytes.Equal(h.TransactionID, ex.TransactionID) && h.Status == http.StatusOK && h.Fault == "" {
				writeCMP(w, h.Response)
				return
			}
		}
		http.Error(w, "faultproxy: no earlier "+ex.RequestType+" answer to replay", http.StatusBadGateway)
	}}
}

// ReplayPrevious sends the server's previous answer in the same
// transaction again (for example the ip in answer to certConf); in a
// transaction of one exchange, the latest earlier answer to the same kind
// of request. The server has acted on the request.
func ReplayPrevious() Fault {
	return Fault{Name: "replayed response", Respond: func(w http.ResponseWriter, _ *http.Request, ex *Exchange, history []Exchange) {
		for _, same := range []bool{true, false} {
			for i := len(history) - 1; i >= 0; i-- {
				h := history[i]
				ok := bytes.Equal(h.TransactionID, ex.TransactionID)
				if !same {
					ok = h.RequestType == ex.RequestType
				}
				if ok && h.Status == http.StatusOK && len(h.Response) > 0 {
					writeCMP(w, h.Response)
					return
				}
			}
		}
		http.Error(w, "faultproxy: no earlier answer to replay", http.StatusBadGateway)
	}}
}

func writeCMP(w http.ResponseWriter, der []byte) {
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(der)
}

// hijack takes over the client connection, nil when the server does not
// allow it (HTTP/2).
func hijack(w http.ResponseWriter) net.Conn {
	hj, ok := w.(http.Hijacker)
	if !ok {
		http.Error(w, "faultproxy: connection cannot be taken over", http.StatusInternalServerError)
		return nil
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		return nil
	}
	return conn
}

// abort closes conn with a TCP reset rather than an orderly close, so the
// client sees "connection reset by peer".
func abort(conn net.Conn) {
	if tcp, ok := conn.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0)
	}
	_ = conn.Close()
}
