package devca

import (
	"bufio"
	"bytes"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"sync"
	"time"
)

// store is the record of every certificate the CA issued and revoked. It is
// an append-only file of JSON lines, one record per line, synced to disk
// before the CA answers (so a certificate a client holds is never missing
// after a crash), and replayed on start. Records reach the file in the
// order they are applied, so a revocation always follows its issue. A torn last line (crash while
// writing) is ignored: the answer that depended on it was never sent.
type store struct {
	mu        sync.Mutex
	file      *os.File
	bySerial  map[string]*storedCert
	bySubject map[string][]*storedCert
	// written counts records appended (under mu); synced counts those
	// known to be on disk (under syncMu). Appends made while a sync runs
	// share the next one (group commit), so concurrent requests do not
	// queue for a sync each.
	written uint64
	syncMu  sync.Mutex
	synced  uint64
}

// storedCert is what the CA knows about one certificate it issued.
type storedCert struct {
	cert      *x509.Certificate
	revoked   bool
	reason    int
	revokedAt time.Time
}

// storeRecord is one line of the record file.
type storeRecord struct {
	// Kind is "issued" or "revoked".
	Kind string `json:"kind"`
	// Serial is the certificate serial number in decimal.
	Serial  string    `json:"serial"`
	Subject string    `json:"subject,omitempty"`
	Time    time.Time `json:"time"`
	// Certificate is the DER encoding (base64 in JSON) of an issued certificate.
	Certificate []byte `json:"certificate,omitempty"`
	// Reason is the CRLReason (RFC 5280 5.3.1) of a revocation.
	Reason int    `json:"reason,omitempty"`
	Op     string `json:"op,omitempty"`
}

const (
	recordIssued  = "issued"
	recordRevoked = "revoked"
)

// openStore replays the record file at path and opens it for appending.
func openStore(path string) (*store, error) {
	s := &store{bySerial: map[string]*storedCert{}, bySubject: map[string][]*storedCert{}}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("certificate record: %w", err)
	}
	end, err := s.replay(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("certificate record %s: %w", path, err)
	}
	// Cut a torn last line so the next record starts on a line of its own.
	if err := f.Truncate(end); err != nil {
		f.Close()
		return nil, fmt.Errorf("certificate record %s: %w", path, err)
	}
	if _, err := f.Seek(end, io.SeekStart); err != nil {
		f.Close()
		return nil, fmt.Errorf("certificate record %s: %w", path, err)
	}
	s.file = f
	return s, nil
}

// replay applies every complete line and returns the offset after the last one.
func (s *store) replay(r io.Reader) (int64, error) {
	br := bufio.NewReader(r)
	var offset int64
	for lineNo := 1; ; lineNo++ {
		line, err := br.ReadBytes('\n')
		if errors.Is(err, io.EOF) {
			// No newline: a torn write, or nothing at all.
			return offset, nil
		}
		if err != nil {
			return 0, err
		}
		offset += int64(len(line))
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		var rec storeRecord
		if err := json.Unmarshal(line, &rec); err != nil {
			return 0, fmt.Errorf("line %d: %w", lineNo, err)
		}
		if err := s.apply(rec); err != nil {
			return 0, fmt.Errorf("line %d: %w", lineNo, err)
		}
	}
}

func (s *store) apply(rec storeRecord) error {
	switch rec.Kind {
	case recordIssued:
		cert, err := x509.ParseCertificate(rec.Certificate)
		if err != nil {
			return fmt.Errorf("issued certificate %s: %w", rec.Serial, err)
		}
		sc := &storedCert{cert: cert}
		serial := cert.SerialNumber.String()
		s.bySerial[serial] = sc
		subject := string(cert.RawSubject)
		s.bySubject[subject] = append(s.bySubject[subject], sc)
	case recordRevoked:
		sc, ok := s.bySerial[rec.Serial]
		if !ok {
			return fmt.Errorf("revocation of unknown serial %s", rec.Serial)
		}
		sc.revoked, sc.reason, sc.revokedAt = true, rec.Reason, rec.Time
	default:
		return fmt.Errorf("unknown record kind %q", rec.Kind)
	}
	return nil
}

// append writes one record and applies it; it returns the record's
// sequence number for waitSynced. Must hold s.mu.
func (s *store) append(rec storeRecord) (uint64, error) {
	line, err := json.Marshal(rec)
	if err != nil {
		return 0, err
	}
	if _, err := s.file.Write(append(line, '\n')); err != nil {
		return 0, fmt.Errorf("certificate record: %w", err)
	}
	if err := s.apply(rec); err != nil {
		return 0, err
	}
	s.written++
	return s.written, nil
}

// waitSynced returns once record seq is on disk, syncing the file unless
// a sync that started after the record was written covered it already.
// Must not hold s.mu.
func (s *store) waitSynced(seq uint64) error {
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	if s.synced >= seq {
		return nil
	}
	s.mu.Lock()
	upTo := s.written
	s.mu.Unlock()
	if err := s.file.Sync(); err != nil {
		return fmt.Errorf("certificate record: %w", err)
	}
	s.synced = upTo
	return nil
}

// serialTaken says whether a serial number was already used.
func (s *store) serialTaken(serial *big.Int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.bySerial[serial.String()]
	return ok
}

// addIssued records a certificate the CA is about to hand out.
// It returns once the record is on disk.
func (s *store) addIssued(cert *x509.Certificate, op string, now time.Time) error {
	s.mu.Lock()
	seq, err := s.append(storeRecord{
		Kind:        recordIssued,
		Serial:      cert.SerialNumber.String(),
		Subject:     cert.Subject.String(),
		Time:        now.UTC(),
		Certificate: cert.Raw,
		Op:          op,
	})
	s.mu.Unlock()
	if err != nil {
		return err
	}
	return s.waitSynced(seq)
}

// errAlreadyRevoked is returned by revoke for a certificate revoked before.
var errAlreadyRevoked = errors.New("certificate already revoked")

// errUnknownSerial is returned for a serial number this CA never issued.
var errUnknownSerial = errors.New("certificate not issued by this CA")

// revoke records the revocation of a certificate and returns once the
// record is on disk.
func (s *store) revoke(serial *big.Int, reason int, now time.Time) error {
	s.mu.Lock()
	sc, ok := s.bySerial[serial.String()]
	if !ok {
		s.mu.Unlock()
		return errUnknownSerial
	}
	if sc.revoked {
		s.mu.Unlock()
		return errAlreadyRevoked
	}
	seq, err := s.append(storeRecord{
		Kind:    recordRevoked,
		Serial:  serial.String(),
		Subject: sc.cert.Subject.String(),
		Time:    now.UTC(),
		Reason:  reason,
	})
	s.mu.Unlock()
	if err != nil {
		return err
	}
	return s.waitSynced(seq)
}

// lookup returns what the store knows of a serial number; the copy is safe
// to read without the lock.
func (s *store) lookup(serial *big.Int) (storedCert, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sc, ok := s.bySerial[serial.String()]
	if !ok {
		return storedCert{}, false
	}
	return *sc, true
}

// liveForSubject returns a certificate for the subject (DER of the Name)
// that is neither revoked nor expired, if there is one.
func (s *store) liveForSubject(rawSubject []byte, now time.Time) (*x509.Certificate, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sc := range s.bySubject[string(rawSubject)] {
		if !sc.revoked && now.Before(sc.cert.NotAfter) {
			return sc.cert, true
		}
	}
	return nil, false
}

// counts returns how many certificates were issued and how many revoked.
func (s *store) counts() (issued, revoked int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sc := range s.bySerial {
		issued++
		if sc.revoked {
			revoked++
		}
	}
	return issued, revoked
}

func (s *store) close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.file.Close()
}
