package devca

import (
	"bufio"
	"bytes"
	"crypto/sha256"
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
	// end is the size of the record file: where the next record starts.
	end int64
	// written counts records appended (under mu); synced counts those
	// known to be on disk (under syncMu). Appends made while a sync runs
	// share the next one (group commit), so concurrent requests do not
	// queue for a sync each.
	written uint64
	syncMu  sync.Mutex
	synced  uint64
}

// storedCert is what the CA keeps in memory of one certificate it issued:
// what its lookups need. The certificate itself stays in the record file,
// where at and n find it again (certificate), so the memory of a CA that
// issued many certificates grows by this small record per certificate, not
// by the certificate and its parsed form (about 10 kB).
type storedCert struct {
	serial string // decimal, as the bySerial key
	// subject is the certificate's subject in RFC 2253 form, for messages.
	subject  string
	notAfter time.Time
	// fingerprint is the SHA-256 of the DER: a request's signer certificate
	// is this one when its DER hashes the same (is).
	fingerprint [sha256.Size]byte
	// reference is the PBM reference (senderKID) of the end entity the
	// certificate belongs to: the one whose shared secret protected its
	// enrollment, or the reference of the certificate that signed it; empty
	// for a certificate enrolled with an externally issued certificate.
	reference string
	// at and n are the offset and length of the issued record's line.
	at        int64
	n         int
	revoked   bool
	reason    int
	revokedAt time.Time
}

// is reports whether cert is this certificate, byte for byte.
func (sc storedCert) is(cert *x509.Certificate) bool {
	return cert != nil && sha256.Sum256(cert.Raw) == sc.fingerprint
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
	// Reference is the end entity's PBM reference an issued certificate
	// belongs to (storedCert.reference).
	Reference string `json:"reference,omitempty"`
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
	s.file, s.end = f, end
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
		at := offset
		offset += int64(len(line))
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var rec storeRecord
		if err := json.Unmarshal(line, &rec); err != nil {
			return 0, fmt.Errorf("line %d: %w", lineNo, err)
		}
		if err := s.apply(rec, nil, at, len(line)); err != nil {
			return 0, fmt.Errorf("line %d: %w", lineNo, err)
		}
	}
}

// apply applies the record found at offset at, n bytes long, in the record
// file. For an issued record, cert is the parsed certificate when the
// caller has it (nil: parse rec.Certificate).
func (s *store) apply(rec storeRecord, cert *x509.Certificate, at int64, n int) error {
	switch rec.Kind {
	case recordIssued:
		if cert == nil {
			var err error
			if cert, err = x509.ParseCertificate(rec.Certificate); err != nil {
				return fmt.Errorf("issued certificate %s: %w", rec.Serial, err)
			}
		}
		sc := &storedCert{
			serial:      cert.SerialNumber.String(),
			subject:     cert.Subject.String(),
			notAfter:    cert.NotAfter,
			fingerprint: sha256.Sum256(cert.Raw),
			reference:   rec.Reference,
			at:          at,
			n:           n,
		}
		s.bySerial[sc.serial] = sc
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

// append writes one record and applies it (cert: as for apply); it
// returns the record's sequence number for waitSynced. Must hold s.mu.
func (s *store) append(rec storeRecord, cert *x509.Certificate) (uint64, error) {
	line, err := json.Marshal(rec)
	if err != nil {
		return 0, err
	}
	line = append(line, '\n')
	if _, err := s.file.Write(line); err != nil {
		return 0, fmt.Errorf("certificate record: %w", err)
	}
	at := s.end
	s.end += int64(len(line))
	if err := s.apply(rec, cert, at, len(line)); err != nil {
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

// addIssued records a certificate the CA is about to hand out, as
// belonging to the end entity with the PBM reference (empty: none).
// It returns once the record is on disk.
func (s *store) addIssued(cert *x509.Certificate, op, reference string, now time.Time) error {
	s.mu.Lock()
	seq, err := s.append(storeRecord{
		Kind:        recordIssued,
		Serial:      cert.SerialNumber.String(),
		Subject:     cert.Subject.String(),
		Time:        now.UTC(),
		Certificate: cert.Raw,
		Op:          op,
		Reference:   reference,
	}, cert)
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
		Subject: sc.subject,
		Time:    now.UTC(),
		Reason:  reason,
	}, nil)
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
func (s *store) liveForSubject(rawSubject []byte, now time.Time) (storedCert, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sc := range s.bySubject[string(rawSubject)] {
		if !sc.revoked && now.Before(sc.notAfter) {
			return *sc, true
		}
	}
	return storedCert{}, false
}

// certificate reads the certificate of sc back from the record file.
func (s *store) certificate(sc storedCert) (*x509.Certificate, error) {
	line := make([]byte, sc.n)
	if _, err := s.file.ReadAt(line, sc.at); err != nil {
		return nil, fmt.Errorf("certificate record of serial %s: %w", sc.serial, err)
	}
	var rec storeRecord
	if err := json.Unmarshal(line, &rec); err != nil {
		return nil, fmt.Errorf("certificate record of serial %s: %w", sc.serial, err)
	}
	if rec.Kind != recordIssued || rec.Serial != sc.serial {
		return nil, fmt.Errorf("certificate record of serial %s: found a %s record of serial %s", sc.serial, rec.Kind, rec.Serial)
	}
	cert, err := x509.ParseCertificate(rec.Certificate)
	if err != nil {
		return nil, fmt.Errorf("certificate record of serial %s: %w", sc.serial, err)
	}
	return cert, nil
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
