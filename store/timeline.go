package store

import (
	"encoding/binary"
	"encoding/json"
	"fmt"

	"github.com/incidentbot/incidentbot/incident"
)

// An incident's timeline lives in timeline/<id>/entries (seq → entry) with
// timeline/<id>/sources (captured message → seq) so a message pinned twice
// is found, not added again.
var (
	subEntries = []byte("entries")
	subSources = []byte("sources")
)

func (t *Tx) timeline(id int64, create bool) (entries, sources bucket, err error) {
	root := appending(t.bucket(bucketTimeline))
	key := u64(uint64(id))
	b := root.Bucket(key)
	if !b.exists() {
		if !create {
			return bucket{}, bucket{}, nil
		}
		if b, err = root.CreateBucket(key); err != nil {
			return bucket{}, bucket{}, err
		}
		if _, err = b.CreateBucket(subEntries); err != nil {
			return bucket{}, bucket{}, err
		}
		if _, err = b.CreateBucket(subSources); err != nil {
			return bucket{}, bucket{}, err
		}
	}
	return appending(b.Bucket(subEntries)), appending(b.Bucket(subSources)), nil
}

// AppendEntry adds an entry to incident id's timeline and sets its Seq.
func (t *Tx) AppendEntry(id int64, e *incident.Entry) error {
	entries, sources, err := t.timeline(id, true)
	if err != nil {
		return fmt.Errorf("timeline %s: %w", incident.Ref(id), err)
	}
	seq, err := entries.NextSequence()
	if err != nil {
		return err
	}
	e.Seq = seq
	if e.Source != "" {
		if err := sources.Put([]byte(e.Source), u64(seq)); err != nil {
			return err
		}
	}
	return entries.putJSON(u64(seq), e)
}

// PutEntry overwrites an existing entry (by its Seq).
func (t *Tx) PutEntry(id int64, e *incident.Entry) error {
	entries, _, err := t.timeline(id, false)
	if err != nil {
		return err
	}
	if !entries.exists() || entries.Get(u64(e.Seq)) == nil {
		return fmt.Errorf("timeline %s entry %d: %w", incident.Ref(id), e.Seq, incident.ErrNotFound)
	}
	return entries.putJSON(u64(e.Seq), e)
}

// DeleteEntry removes an entry and its source index.
func (t *Tx) DeleteEntry(id int64, e *incident.Entry) error {
	entries, sources, err := t.timeline(id, false)
	if err != nil || !entries.exists() {
		return err
	}
	if e.Source != "" {
		if err := sources.Delete([]byte(e.Source)); err != nil {
			return err
		}
	}
	return entries.Delete(u64(e.Seq))
}

// EntryBySource returns the entry captured from a chat message, or an error
// matching incident.ErrNotFound.
func (t *Tx) EntryBySource(id int64, source string) (*incident.Entry, error) {
	entries, sources, err := t.timeline(id, false)
	if err != nil {
		return nil, err
	}
	if sources.exists() {
		if seq := sources.Get([]byte(source)); seq != nil {
			e, err := get[incident.Entry](entries, seq)
			if err != nil {
				return nil, fmt.Errorf("timeline %s entry %d: %w", incident.Ref(id), binary.BigEndian.Uint64(seq), err)
			}
			return e, nil
		}
	}
	return nil, fmt.Errorf("timeline %s source %s: %w", incident.Ref(id), source, incident.ErrNotFound)
}

// EachEntry calls fn for each entry in the order recorded.
func (t *Tx) EachEntry(id int64, fn func(*incident.Entry) error) error {
	entries, _, err := t.timeline(id, false)
	if err != nil || !entries.exists() {
		return err
	}
	return entries.ForEach(func(_, v []byte) error {
		var e incident.Entry
		if err := json.Unmarshal(v, &e); err != nil {
			return fmt.Errorf("decode timeline entry: %w", err)
		}
		return fn(&e)
	})
}

// Timeline returns incident id's entries in the order they happened.
func (t *Tx) Timeline(id int64) ([]incident.Entry, error) {
	var out []incident.Entry
	entries, _, err := t.timeline(id, false)
	if err != nil || !entries.exists() {
		return nil, err
	}
	out = make([]incident.Entry, 0, entries.Stats().KeyN)
	err = t.EachEntry(id, func(e *incident.Entry) error {
		out = append(out, *e)
		return nil
	})
	incident.SortTimeline(out)
	return out, err
}

// putJSON encodes v as JSON and puts it at key.
func (b bucket) putJSON(key []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put(key, data)
}
