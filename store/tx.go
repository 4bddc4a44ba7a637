package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/incidentbot/incidentbot/incident"
)

// Tx is a transaction. Values are decoded inside it, so what a method returns
// stays valid after the transaction ends.
type Tx struct {
	tx      *bolt.Tx
	db      *DB
	pending []Job
	// ws records the writes when the transaction is captured for
	// replication (replicate.go); nil in local mode.
	ws *writeSet
	// views are the incidents IncidentView decoded in this transaction.
	views map[int64]incidentView
}

type incidentView struct {
	raw []byte
	inc *incident.Incident
}

func (t *Tx) put(bucket []byte, key []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s: %w", bucket, err)
	}
	return t.bucket(bucket).Put(key, data)
}

func get[T any](b bucket, key []byte) (*T, error) {
	data := b.Get(key)
	if data == nil {
		return nil, incident.ErrNotFound
	}
	v := new(T)
	if err := json.Unmarshal(data, v); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	return v, nil
}

// NextIncidentID allocates the next incident number. Numbers are never
// reused, even when the transaction that allocated one is the last to commit.
func (t *Tx) NextIncidentID() (int64, error) {
	n, err := t.bucket(bucketIncidents).NextSequence()
	return int64(n), err
}

// PutIncident writes an incident and indexes it: its channel, and whether it
// is open or paging with the counters /metrics reads (index.go).
func (t *Tx) PutIncident(inc *incident.Incident) error {
	if inc.ID <= 0 {
		return fmt.Errorf("put incident: id %d: %w", inc.ID, incident.ErrInvalidInput)
	}
	if err := t.put(bucketIncidents, u64(uint64(inc.ID)), inc); err != nil {
		return err
	}
	if inc.ChannelID != "" {
		if err := t.bucket(bucketChannels).Put([]byte(inc.ChannelID), u64(uint64(inc.ID))); err != nil {
			return err
		}
	}
	return t.index(inc)
}

// Incident returns incident id, or an error matching incident.ErrNotFound.
func (t *Tx) Incident(id int64) (*incident.Incident, error) {
	inc, err := get[incident.Incident](t.bucket(bucketIncidents), u64(uint64(id)))
	if err != nil {
		return nil, fmt.Errorf("incident %s: %w", incident.Ref(id), err)
	}
	return inc, nil
}

// IncidentByChannel returns the incident whose channel is channelID.
func (t *Tx) IncidentByChannel(channelID string) (*incident.Incident, error) {
	v := t.bucket(bucketChannels).Get([]byte(channelID))
	if v == nil {
		return nil, fmt.Errorf("incident for channel %s: %w", channelID, incident.ErrNotFound)
	}
	return t.Incident(int64(binary.BigEndian.Uint64(v)))
}

// IncidentView is IncidentByChannel for a caller that only reads the
// incident: it is decoded once per transaction while its stored bytes stay
// the same, and shared, so it must not be modified. A storm of pins applies
// dozens of reactions in one transaction, each needing only the incident's
// number and members; decoding the incident for each was most of what
// applying a pin cost.
func (t *Tx) IncidentView(channelID string) (*incident.Incident, error) {
	v := t.bucket(bucketChannels).Get([]byte(channelID))
	if v == nil {
		return nil, fmt.Errorf("incident for channel %s: %w", channelID, incident.ErrNotFound)
	}
	id := int64(binary.BigEndian.Uint64(v))
	raw := t.bucket(bucketIncidents).Get(u64(uint64(id)))
	if raw == nil {
		return nil, fmt.Errorf("incident %s: %w", incident.Ref(id), incident.ErrNotFound)
	}
	if c, ok := t.views[id]; ok && bytes.Equal(c.raw, raw) {
		return c.inc, nil
	}
	inc := new(incident.Incident)
	if err := json.Unmarshal(raw, inc); err != nil {
		return nil, fmt.Errorf("incident %s: decode: %w", incident.Ref(id), err)
	}
	if t.views == nil {
		t.views = map[int64]incidentView{}
	}
	t.views[id] = incidentView{raw: bytes.Clone(raw), inc: inc}
	return inc, nil
}

// EachIncident calls fn for every incident in number order until fn returns
// an error.
func (t *Tx) EachIncident(fn func(*incident.Incident) error) error {
	return t.bucket(bucketIncidents).ForEach(func(k, v []byte) error {
		var inc incident.Incident
		if err := json.Unmarshal(v, &inc); err != nil {
			return fmt.Errorf("decode incident %d: %w", binary.BigEndian.Uint64(k), err)
		}
		return fn(&inc)
	})
}

// Incidents returns every incident, in number order. It reads them all:
// OpenIncidents reads only the open ones.
func (t *Tx) Incidents() ([]*incident.Incident, error) {
	var all []*incident.Incident
	err := t.EachIncident(func(inc *incident.Incident) error {
		all = append(all, inc)
		return nil
	})
	return all, err
}

// MarkSeen records a dedupe key (an event or envelope id). It reports false
// when the key was already recorded: the envelope is a redelivery.
func (t *Tx) MarkSeen(key string, at time.Time) (isNew bool, err error) {
	seen := t.bucket(bucketSeen)
	if seen.Get([]byte(key)) != nil {
		return false, nil
	}
	stamp := u64(uint64(at.UnixNano()))
	if err := seen.Put([]byte(key), stamp); err != nil {
		return false, err
	}
	return true, appending(t.bucket(bucketSeenAt)).Put(append(stamp, key...), nil)
}

// ExpireSeen forgets dedupe keys recorded before cutoff and returns how many.
// Slack stops redelivering an event within minutes, so keys need not live
// for ever; the time index makes this a range delete.
func (t *Tx) ExpireSeen(cutoff time.Time) (int, error) {
	seen, byTime := t.bucket(bucketSeen), appending(t.bucket(bucketSeenAt))
	limit := uint64(cutoff.UnixNano())
	// Collect first: deleting under a bbolt cursor skips the next key.
	var old [][]byte
	c := byTime.Cursor()
	for k, _ := c.First(); k != nil && binary.BigEndian.Uint64(k[:8]) < limit; k, _ = c.Next() {
		old = append(old, append([]byte(nil), k...))
	}
	for i, k := range old {
		if err := seen.Delete(k[8:]); err != nil {
			return i, err
		}
		if err := byTime.Delete(k); err != nil {
			return i, err
		}
	}
	return len(old), nil
}

// SeenCount returns how many dedupe keys are held. It counts with a cursor
// because bucket stats do not see writes of the open transaction.
func (t *Tx) SeenCount() int { return count(t.bucket(bucketSeen)) }

// DeadLetter is an envelope the bot could not apply, kept for an operator.
type DeadLetter struct {
	Type     string          `json:"type"`
	Envelope string          `json:"envelope_id"`
	Payload  json.RawMessage `json:"payload"`
	Error    string          `json:"error"`
	At       time.Time       `json:"at"`
}

// PutDeadLetter keeps an envelope that failed to apply.
func (t *Tx) PutDeadLetter(d DeadLetter) error {
	b := appending(t.bucket(bucketDead))
	seq, err := b.NextSequence()
	if err != nil {
		return err
	}
	return t.put(bucketDead, u64(seq), d)
}

// DeadLetters returns every kept envelope, oldest first.
func (t *Tx) DeadLetters() ([]DeadLetter, error) {
	var out []DeadLetter
	err := t.bucket(bucketDead).ForEach(func(_, v []byte) error {
		var d DeadLetter
		if err := json.Unmarshal(v, &d); err != nil {
			return err
		}
		out = append(out, d)
		return nil
	})
	return out, err
}

// Probe records the time of a health probe: the smallest write there is,
// to learn whether the database accepts writes again.
func (t *Tx) Probe(at time.Time) error {
	return t.bucket(bucketMeta).Put([]byte("probe"), u64(uint64(at.UnixNano())))
}
