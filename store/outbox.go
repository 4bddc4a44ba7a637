package store

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"
)

// Job is one outbound step (usually one Slack API call) waiting to run. Jobs
// are written in the same transaction as the state change that causes them,
// so a crash after the commit resumes them rather than losing them.
type Job struct {
	// Seq orders jobs; assigned on Enqueue.
	Seq uint64 `json:"-"`
	// Lane serialises jobs: those with the same lane (usually a channel id)
	// run one at a time in Seq order, so a channel's messages keep their order.
	Lane string `json:"lane"`
	// Kind names the step; the runner decodes Payload according to it.
	Kind    string          `json:"kind"`
	Payload json.RawMessage `json:"payload,omitempty"`
	// NotBefore delays the job until a time (escalation timeouts, reminders).
	NotBefore time.Time `json:"not_before,omitzero"`
	// Throttled marks a message post: such jobs in one lane are spaced by
	// the bot's PostInterval, as Slack allows about one message per second
	// per channel.
	Throttled bool      `json:"throttled,omitempty"`
	Created   time.Time `json:"created"`
}

// Enqueue adds a job to the outbox. The dispatcher hears of it after commit.
func (t *Tx) Enqueue(j Job) error {
	b := appending(t.bucket(bucketOutbox))
	seq, err := b.NextSequence()
	if err != nil {
		return err
	}
	j.Seq = seq
	if err := t.put(bucketOutbox, u64(seq), j); err != nil {
		return fmt.Errorf("enqueue %s: %w", j.Kind, err)
	}
	// A captured transaction is rolled back: its jobs are announced once
	// they are replicated (updateReplicated), never by a commit hook.
	if len(t.pending) == 0 && t.ws == nil {
		t.tx.OnCommit(func() { t.db.enqueued(t.pending) })
	}
	t.pending = append(t.pending, j)
	return nil
}

// EnqueueJSON encodes payload and enqueues a job of the given kind and lane.
func (t *Tx) EnqueueJSON(lane, kind string, payload any, created, notBefore time.Time) error {
	data, err := json.Marshal(payload)
	if err != nil {
		return fmt.Errorf("encode %s job: %w", kind, err)
	}
	return t.Enqueue(Job{Lane: lane, Kind: kind, Payload: data, Created: created, NotBefore: notBefore})
}

// DeleteJob removes a finished job. It reports whether the job was there, so
// a step that finished twice (after a crash) is noticed.
func (t *Tx) DeleteJob(seq uint64) (bool, error) {
	b := appending(t.bucket(bucketOutbox))
	if b.Get(u64(seq)) == nil {
		return false, nil
	}
	return true, b.Delete(u64(seq))
}

// HasJob reports whether job seq is still waiting.
func (t *Tx) HasJob(seq uint64) bool { return t.bucket(bucketOutbox).Get(u64(seq)) != nil }

// Jobs returns every waiting job in Seq order.
func (t *Tx) Jobs() ([]Job, error) {
	var out []Job
	err := t.bucket(bucketOutbox).ForEach(func(k, v []byte) error {
		var j Job
		if err := json.Unmarshal(v, &j); err != nil {
			return fmt.Errorf("decode job %d: %w", binary.BigEndian.Uint64(k), err)
		}
		j.Seq = binary.BigEndian.Uint64(k)
		out = append(out, j)
		return nil
	})
	return out, err
}

// JobCount returns how many jobs wait.
func (t *Tx) JobCount() int { return count(t.bucket(bucketOutbox)) }
