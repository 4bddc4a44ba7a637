package store

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/incidentbot/incidentbot/incident"
)

// On-call state that lives in the database rather than the escalation file:
// overrides (made from Slack), and for each schedule the last handoff
// announced, so a handoff is announced once — also across a restart.
var (
	bucketOverrides = []byte("overrides")
	bucketHandoffs  = []byte("handoffs")
)

func init() { allBuckets = append(allBuckets, bucketOverrides, bucketHandoffs) }

// errNoBucket is a write to a file from before on-call state existed that
// was opened read-only (a writable open creates the buckets).
var errNoBucket = errors.New("the database has no on-call state yet (opened read-only?)")

// AddOverride records an override and gives it the next id.
func (t *Tx) AddOverride(o *incident.Override) error {
	b := t.bucket(bucketOverrides)
	if !b.exists() {
		return fmt.Errorf("add override: %w", errNoBucket)
	}
	seq, err := b.NextSequence()
	if err != nil {
		return err
	}
	o.ID = int(seq)
	return appending(b).putJSON(u64(seq), o)
}

// Overrides returns the overrides of a schedule (every schedule for ""),
// newest last, that end after since (zero: all).
func (t *Tx) Overrides(schedule string, since time.Time) ([]incident.Override, error) {
	b := t.bucket(bucketOverrides)
	if !b.exists() {
		return nil, nil // a file from before overrides existed, opened read-only
	}
	var out []incident.Override
	err := b.ForEach(func(k, v []byte) error {
		var o incident.Override
		if err := json.Unmarshal(v, &o); err != nil {
			return fmt.Errorf("override %d: %w", binary.BigEndian.Uint64(k), err)
		}
		if (schedule == "" || strings.EqualFold(o.Schedule, schedule)) && (since.IsZero() || o.To.After(since)) {
			out = append(out, o)
		}
		return nil
	})
	sort.SliceStable(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, err
}

// Override returns override id.
func (t *Tx) Override(id int) (*incident.Override, error) {
	b := t.bucket(bucketOverrides)
	if !b.exists() || id <= 0 {
		return nil, fmt.Errorf("override %d: %w", id, incident.ErrNotFound)
	}
	v := b.Get(u64(uint64(id)))
	if v == nil {
		return nil, fmt.Errorf("override %d: %w", id, incident.ErrNotFound)
	}
	var o incident.Override
	if err := json.Unmarshal(v, &o); err != nil {
		return nil, fmt.Errorf("override %d: %w", id, err)
	}
	return &o, nil
}

// RemoveOverride deletes override id; it reports whether it was there.
func (t *Tx) RemoveOverride(id int) (bool, error) {
	b := t.bucket(bucketOverrides)
	if !b.exists() || id <= 0 || b.Get(u64(uint64(id))) == nil {
		return false, nil
	}
	return true, b.Delete(u64(uint64(id)))
}

// Handoff is the last handoff announced for a schedule.
type Handoff struct {
	Who   string    `json:"who"`
	Start time.Time `json:"start"`
}

// LastHandoff returns the last handoff announced for schedule, if any.
func (t *Tx) LastHandoff(schedule string) (Handoff, bool, error) {
	b := t.bucket(bucketHandoffs)
	if !b.exists() {
		return Handoff{}, false, nil
	}
	v := b.Get([]byte(strings.ToLower(schedule)))
	if v == nil {
		return Handoff{}, false, nil
	}
	var h Handoff
	if err := json.Unmarshal(v, &h); err != nil {
		return Handoff{}, false, fmt.Errorf("handoff of %s: %w", schedule, err)
	}
	return h, true, nil
}

// SetHandoff records that a schedule's handoff was announced.
func (t *Tx) SetHandoff(schedule string, h Handoff) error {
	b := t.bucket(bucketHandoffs)
	if !b.exists() {
		return fmt.Errorf("set handoff: %w", errNoBucket)
	}
	return b.putJSON([]byte(strings.ToLower(schedule)), h)
}
