package devca

import (
	"encoding/hex"
	"time"

	"github.com/cmpv2/terraform-provider-cmpv2/internal/cmp"
)

// A certificate the CA delivered but the client never confirmed must not
// stay valid: RFC 9810 5.1.1.2 has the CA revoke it once the confirmation
// wait time is over, and RFC 9483 4.1.1 makes a certificate without
// certConf (unless implicitly confirmed) one the end entity never
// accepted. The CA announces the deadline in the response's generalInfo
// (id-it-confirmWaitTime), sweeps overdue transactions before every request
// and on a timer, revokes their certificates (reason cessationOfOperation,
// recorded like any revocation) and reports each with an Event
// {op: certConf, status: expired}. Transactions live in memory only, so
// when the CA stops (Close) it revokes the certificates still waiting: no
// certConf could confirm them after a restart.

// confirmDeadline is when a certificate delivered now stops waiting for
// its certConf.
func (ca *CA) confirmDeadline(now time.Time) time.Time {
	return now.Add(ca.cfg.ConfirmWaitTime)
}

// awaitConfirmation starts the confirmation wait of the certificate tx
// delivered at now. Must hold tx.mu.
func (ca *CA) awaitConfirmation(tx *transaction, deadline time.Time) {
	tx.confirmBy.Store(deadline.UnixNano())
	// The transaction must outlive its confirmation wait, or a late
	// certConf would be taken for one of an unknown transaction.
	if deadline.UnixNano() > tx.expires.Load() {
		tx.expires.Store(deadline.UnixNano())
	}
	ca.txs.awaitConfirmation(tx)
}

// settleConfirmation ends the confirmation wait of tx (confirmed, rejected
// or aborted). Must hold tx.mu.
func (ca *CA) settleConfirmation(tx *transaction) {
	tx.confirmBy.Store(0)
	ca.txs.settle(tx)
}

// expireUnconfirmed revokes the certificates whose confirmation wait is
// over at now.
func (ca *CA) expireUnconfirmed(now time.Time) {
	for _, tx := range ca.txs.overdue(now) {
		ca.expire(tx, now)
	}
}

// abandonUnconfirmed revokes every certificate still awaiting its
// certConf when the CA stops: transactions live in memory only, so such a
// certConf could never be accepted after a restart.
func (ca *CA) abandonUnconfirmed(now time.Time) {
	ca.expireUnconfirmed(now) // those whose wait is over anyway
	for _, tx := range ca.txs.awaiting() {
		ca.revokeUnconfirmed(tx, now, true)
	}
}

// expire revokes the unconfirmed certificate of tx and closes it. A failed
// revocation leaves the transaction pending, so the next sweep tries again.
func (ca *CA) expire(tx *transaction, now time.Time) { ca.revokeUnconfirmed(tx, now, false) }

// revokeUnconfirmed revokes the certificate tx awaits a certConf for, when
// its wait is over or, with stopping, because the CA stops.
func (ca *CA) revokeUnconfirmed(tx *transaction, now time.Time, stopping bool) {
	tx.mu.Lock()
	defer tx.mu.Unlock()
	cert := tx.delivered
	if cert == nil || tx.closed {
		ca.settleConfirmation(tx)
		return
	}
	if by := tx.confirmBy.Load(); by == 0 || !stopping && now.UnixNano() <= by {
		return // confirmed, or given more time, meanwhile
	}
	ev := Event{
		Op:            cmp.BodyCertConf.String(),
		TransactionID: hex.EncodeToString(tx.id),
		Serial:        cert.SerialNumber.String(),
		Subject:       cert.Subject.String(),
	}
	if err := ca.store.revoke(cert.SerialNumber, int(cmp.ReasonCessationOfOperation), now); err != nil && err != errAlreadyRevoked {
		ev.Status = "error"
		ev.StatusString = "the CA could not record the revocation of an unconfirmed certificate; retrying"
		ca.emit(ev)
		return
	}
	tx.closed, tx.delivered = true, nil
	ca.settleConfirmation(tx)
	ev.Status = "expired"
	ev.StatusString = "no certConf within the confirmation wait time; certificate revoked"
	if stopping {
		ev.StatusString = "the CA stopped before the certConf came; certificate revoked"
	}
	ca.emit(ev)
}

// expiryInterval is how often the timer sweeps for overdue confirmations.
func (ca *CA) expiryInterval() time.Duration {
	return min(max(ca.cfg.ConfirmWaitTime/4, time.Second), 30*time.Second)
}

// expiryLoop sweeps on a timer until stop is closed, so an idle CA revokes
// unconfirmed certificates too.
func (ca *CA) expiryLoop(stop <-chan struct{}) {
	ticker := time.NewTicker(ca.expiryInterval())
	defer ticker.Stop()
	for {
		select {
		case <-stop:
			return
		case <-ticker.C:
			ca.expireUnconfirmed(ca.cfg.Now())
		}
	}
}
