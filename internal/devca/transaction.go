package devca

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/cmp"
)

// transactionTTL is how long the CA remembers a transaction: an open one
// waits this long for certConf or pollReq, a finished one keeps its
// transactionID reserved (a replayed request is refused with
// transactionIdInUse) for as long.
const transactionTTL = 15 * time.Minute

// maxTransactions bounds the table; beyond it new transactions are refused
// with systemUnavail until old ones expire.
const maxTransactions = 100000

// transaction is the server side of one CMP transaction (RFC 9810 5.1.1:
// all messages of a transaction share the transactionID).
type transaction struct {
	mu sync.Mutex
	id []byte
	// op is the body type that opened the transaction.
	op cmp.BodyType
	// pvno of the opening request; answers use it.
	pvno int
	// who protected the opening request; follow-up messages must be
	// protected the same way.
	who *requester
	// lastNonce is the senderNonce of our last answer: the recipNonce the
	// next message must carry.
	lastNonce []byte
	// sender is the requester's name, the recipient of our answers.
	sender cmp.GeneralName
	// implicitConfirm: the request asked for implicit confirmation.
	implicitConfirm bool
	// certReqID and request of a checked enrollment not yet delivered
	// (polling), with waitsLeft pollRep answers to give first.
	certReqID int64
	request   *certRequest
	waitsLeft int
	// delivered is the certificate sent and awaiting certConf.
	delivered *x509.Certificate
	// confirmBy (Unix nanoseconds, 0 = nothing to confirm) is when the CA
	// stops waiting for the certConf of delivered and revokes it (RFC 9810
	// 5.1.1.2). Read without mu by the sweep of unconfirmed certificates.
	confirmBy atomic.Int64
	// closed: the transaction is over; its ID stays reserved.
	closed bool
	// nonces are the senderNonces of the requester's messages so far: a
	// message that repeats one is a replay (RFC 9810 5.1.1: the nonces
	// protect against replay), refused with badSenderNonce.
	nonces map[string]struct{}
	// expires (Unix nanoseconds) is read without mu, so that sweeping the
	// table never waits for a transaction being worked on.
	expires atomic.Int64
}

func (tx *transaction) expired(now time.Time) bool { return now.UnixNano() > tx.expires.Load() }

// maxNoncesPerTransaction bounds the replay memory of one transaction; a
// client needs one nonce per message (request, polls, certConf).
const maxNoncesPerTransaction = 4096

// useNonce records the senderNonce of a requester's message and reports
// whether it is new to the transaction. Must hold tx.mu.
func (tx *transaction) useNonce(nonce []byte) bool {
	if _, seen := tx.nonces[string(nonce)]; seen {
		return false
	}
	if tx.nonces == nil {
		tx.nonces = map[string]struct{}{}
	}
	if len(tx.nonces) < maxNoncesPerTransaction {
		tx.nonces[string(nonce)] = struct{}{}
	}
	return true
}

// transactions is the table of transactions by transactionID.
type transactions struct {
	mu    sync.Mutex
	byID  map[string]*transaction
	sweep time.Time
	// pending are the transactions with a delivered certificate awaiting
	// certConf, so that finding overdue ones does not scan the table.
	pending map[*transaction]struct{}
}

// awaitConfirmation registers tx, which delivered a certificate, until
// settle. A caller may hold tx.mu (t.mu is never held while taking a
// transaction's lock).
func (t *transactions) awaitConfirmation(tx *transaction) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.pending == nil {
		t.pending = map[*transaction]struct{}{}
	}
	t.pending[tx] = struct{}{}
}

// settle removes tx from the transactions awaiting certConf.
func (t *transactions) settle(tx *transaction) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.pending, tx)
}

// awaiting returns every transaction whose certificate awaits certConf.
func (t *transactions) awaiting() []*transaction {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]*transaction, 0, len(t.pending))
	for tx := range t.pending {
		out = append(out, tx)
	}
	return out
}

// overdue returns the transactions whose certificate was not confirmed in
// time.
func (t *transactions) overdue(now time.Time) []*transaction {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []*transaction
	for tx := range t.pending {
		if now.UnixNano() > tx.confirmBy.Load() {
			out = append(out, tx)
		}
	}
	return out
}

// open registers a new transaction; it fails when the ID is known (open or
// recently finished) or the table is full.
func (t *transactions) open(id []byte, now time.Time) (*transaction, *refusal) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.byID == nil {
		t.byID = map[string]*transaction{}
	}
	if now.Sub(t.sweep) > time.Minute || len(t.byID) >= maxTransactions {
		for k, tx := range t.byID {
			if tx.expired(now) {
				delete(t.byID, k)
			}
		}
		t.sweep = now
	}
	if old, ok := t.byID[string(id)]; ok {
		if !old.expired(now) {
			return nil, refuse(cmp.FailTransactionIDInUse, "transactionID %x is already in use", id)
		}
	}
	if len(t.byID) >= maxTransactions {
		return nil, refuse(cmp.FailSystemUnavail, "too many open transactions; try again later")
	}
	tx := &transaction{id: append([]byte(nil), id...)}
	tx.expires.Store(now.Add(transactionTTL).UnixNano())
	t.byID[string(id)] = tx
	return tx, nil
}

// get returns the transaction with the ID, if known and not expired.
func (t *transactions) get(id []byte, now time.Time) *transaction {
	t.mu.Lock()
	defer t.mu.Unlock()
	tx, ok := t.byID[string(id)]
	if !ok || tx.expired(now) {
		return nil
	}
	return tx
}

// macAlg returns the MAC parameters to answer with, nil for a signature.
func (r *requester) macAlgFor() *pkix.AlgorithmIdentifier {
	if r == nil || r.protection != protectionMAC {
		return nil
	}
	alg := r.macAlg
	return &alg
}
