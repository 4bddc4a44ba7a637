package store

// The live index and the counters: what /metrics and `/incident list` read
// instead of decoding every incident. Both are derived from the incidents
// bucket and kept in step with it by PutIncident, in the transaction that
// writes the incident, so they are exactly as durable as the records.
//
//	live:   incident id → liveRecord, for each incident that is open or
//	        still has an escalation paging (nothing else is ever listed or
//	        counted, so a resolved incident with no paging costs nothing)
//	counts: "open/<severity>" and "escalations" → uint64
//
// PutIncident compares the incident's new liveRecord with the stored one (a
// few bytes, not the old incident's JSON) and applies the difference to the
// counters. Schema 3 builds both for an existing file (migrate.go).

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"

	bolt "go.etcd.io/bbolt"

	"github.com/incidentbot/incidentbot/incident"
)

var (
	bucketLive   = []byte("live")
	bucketCounts = []byte("counts")

	keyEscalations = []byte("escalations")
)

// liveRecord is what the index keeps of an incident.
type liveRecord struct {
	Open        bool
	Private     bool
	Severity    incident.Severity
	Escalations int // escalations still paging
}

func liveOf(inc *incident.Incident) liveRecord {
	return liveRecord{Open: inc.Open(), Private: inc.Private, Severity: inc.Severity,
		Escalations: len(inc.ActiveEscalations())}
}

// indexed reports whether the record belongs in the live bucket.
func (r liveRecord) indexed() bool { return r.Open || r.Escalations > 0 }

const (
	liveFormat  = 1
	flagOpen    = 1 << 0
	flagPrivate = 1 << 1
)

// encode is format byte, flags byte, then severity and escalations as
// uvarints: four bytes for any real incident.
func (r liveRecord) encode() []byte {
	var flags byte
	if r.Open {
		flags |= flagOpen
	}
	if r.Private {
		flags |= flagPrivate
	}
	b := []byte{liveFormat, flags}
	b = binary.AppendUvarint(b, uint64(max(0, int(r.Severity))))
	return binary.AppendUvarint(b, uint64(max(0, r.Escalations)))
}

func decodeLive(b []byte) (liveRecord, error) {
	if len(b) < 2 || b[0] != liveFormat {
		return liveRecord{}, errors.New("unknown live index record")
	}
	sev, n := binary.Uvarint(b[2:])
	if n <= 0 {
		return liveRecord{}, errors.New("bad live index record")
	}
	esc, m := binary.Uvarint(b[2+n:])
	if m <= 0 {
		return liveRecord{}, errors.New("bad live index record")
	}
	return liveRecord{Open: b[1]&flagOpen != 0, Private: b[1]&flagPrivate != 0,
		Severity: incident.Severity(sev), Escalations: int(esc)}, nil
}

func openKey(sev incident.Severity) []byte { return []byte("open/" + strconv.Itoa(int(sev))) }

// index brings the live bucket and the counters in step with inc, which is
// being written in this transaction.
func (t *Tx) index(inc *incident.Incident) error {
	live, counts := t.bucket(bucketLive), t.bucket(bucketCounts)
	key := u64(uint64(inc.ID))
	var old liveRecord
	if v := live.Get(key); v != nil {
		var err error
		if old, err = decodeLive(v); err != nil {
			return fmt.Errorf("incident %s: %w", incident.Ref(inc.ID), err)
		}
	}
	cur := liveOf(inc)
	if cur == old {
		return nil
	}
	if err := applyCounts(counts, old, -1); err != nil {
		return err
	}
	if err := applyCounts(counts, cur, +1); err != nil {
		return err
	}
	if !cur.indexed() {
		return live.Delete(key)
	}
	return live.Put(key, cur.encode())
}

// applyCounts adds (sign +1) or removes (sign -1) r's share of the counters.
// A counter never goes below zero, so a file whose counters were damaged
// (by hand: every write keeps them exact) stays usable.
func applyCounts(counts bucket, r liveRecord, sign int) error {
	if r.Open {
		if err := addCount(counts, openKey(r.Severity), sign); err != nil {
			return err
		}
	}
	if r.Escalations > 0 {
		return addCount(counts, keyEscalations, sign*r.Escalations)
	}
	return nil
}

func addCount(counts bucket, key []byte, delta int) error {
	n := int64(readCount(counts, key)) + int64(delta)
	if n <= 0 {
		return counts.Delete(key)
	}
	return counts.Put(key, u64(uint64(n)))
}

func readCount(counts bucket, key []byte) uint64 {
	v := counts.Get(key)
	if len(v) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(v)
}

// Counts is the state /metrics reports, read from the counters.
type Counts struct {
	// Open counts open incidents by severity: Open[incident.Sev1] to
	// Open[incident.Sev4]; Open[0] those of any invalid severity.
	Open [incident.Sev4 + 1]int
	// EscalationsPending counts escalations still paging, in any incident.
	EscalationsPending int
}

// Counts returns the counters in constant time: one pass over a bucket of
// at most a key per severity and one for escalations. On a file of an
// older schema opened read-only (no counters yet) it counts by reading
// every incident.
func (t *Tx) Counts() (Counts, error) {
	var c Counts
	counts := t.bucket(bucketCounts)
	if !counts.exists() {
		err := t.EachIncident(func(inc *incident.Incident) error {
			c.add(liveOf(inc))
			return nil
		})
		return c, err
	}
	prefix := []byte("open/")
	cur := counts.Cursor()
	for k, v := cur.First(); k != nil; k, v = cur.Next() {
		if len(v) != 8 {
			continue
		}
		n := int(binary.BigEndian.Uint64(v))
		if bytes.Equal(k, keyEscalations) {
			c.EscalationsPending = n
		} else if sev, ok := bytes.CutPrefix(k, prefix); ok {
			if s, err := strconv.Atoi(string(sev)); err == nil {
				c.Open[severityIndex(incident.Severity(s))] += n
			}
		}
	}
	return c, nil
}

// severityIndex is s's place in Counts.Open: 0 for an invalid severity.
func severityIndex(s incident.Severity) int {
	if !s.Valid() {
		return 0
	}
	return int(s)
}

func (c *Counts) add(r liveRecord) {
	if r.Open {
		c.Open[severityIndex(r.Severity)]++
	}
	c.EscalationsPending += r.Escalations
}

// OpenIncidents returns the open incidents in number order, reading only
// them (through the live index). On a file of an older schema opened
// read-only it reads every incident.
func (t *Tx) OpenIncidents() ([]*incident.Incident, error) {
	var out []*incident.Incident
	live := t.bucket(bucketLive)
	if !live.exists() {
		err := t.EachIncident(func(inc *incident.Incident) error {
			if inc.Open() {
				out = append(out, inc)
			}
			return nil
		})
		return out, err
	}
	err := live.ForEach(func(k, v []byte) error {
		r, err := decodeLive(v)
		if err != nil {
			return fmt.Errorf("incident %d: %w", binary.BigEndian.Uint64(k), err)
		}
		if !r.Open {
			return nil
		}
		inc, err := t.Incident(int64(binary.BigEndian.Uint64(k)))
		if err != nil {
			return err
		}
		out = append(out, inc)
		return nil
	})
	return out, err
}

// rebuildLive (schema 3) builds the live index and the counters from the
// incidents, in one pass over them.
func rebuildLive(tx *bolt.Tx) error {
	for _, name := range [][]byte{bucketLive, bucketCounts} {
		if err := tx.DeleteBucket(name); err != nil && !errors.Is(err, bolt.ErrBucketNotFound) {
			return err
		}
		if _, err := tx.CreateBucket(name); err != nil {
			return err
		}
	}
	t := &Tx{tx: tx}
	return t.EachIncident(t.index)
}

// CheckIndex compares the live index and the counters with the incidents
// they are derived from and describes the first difference, or returns nil.
// It reads every incident: for tests and offline checks, not the hot path.
func (t *Tx) CheckIndex() error {
	var want Counts
	live := t.bucket(bucketLive)
	if !live.exists() {
		return errors.New("no live index (schema older than 3)")
	}
	seen := 0
	err := t.EachIncident(func(inc *incident.Incident) error {
		r := liveOf(inc)
		want.add(r)
		v := live.Get(u64(uint64(inc.ID)))
		if !r.indexed() {
			if v != nil {
				return fmt.Errorf("incident %s is indexed as live but is neither open nor paging", inc.Ref())
			}
			return nil
		}
		seen++
		got, err := decodeLive(v)
		if v == nil || err != nil || got != r {
			return fmt.Errorf("incident %s: live index holds %+v, want %+v", inc.Ref(), got, r)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if n := count(live); n != seen {
		return fmt.Errorf("live index holds %d incidents, want %d", n, seen)
	}
	got, err := t.Counts()
	if err != nil {
		return err
	}
	if got != want {
		return fmt.Errorf("counters say %v, the incidents %v", got, want)
	}
	return nil
}
