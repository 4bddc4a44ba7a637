package cluster

import (
	"fmt"
	"io"
	"sync/atomic"

	"github.com/hashicorp/raft"
	"github.com/rs/zerolog"
)

// StateMachine is what the cluster replicates into (the bot's store). Raft
// calls ApplyWriteSet, BeginSnapshot and Restore from one goroutine, in log
// order; WriteTo of a snapshot runs concurrently with later applies.
type StateMachine interface {
	// ApplyWriteSet applies the committed entry at (index, term) and records
	// index and term durably in the same transaction, so Applied is exact
	// after a crash. It must be deterministic: every node applies the same
	// entries. An error is returned to the leader's Replicate as the
	// entry's outcome (a deterministic rejection, such as a fenced job
	// outcome whose term moved on, is rejected identically everywhere); an
	// error that is not deterministic (a failed disk) leaves this node
	// diverged, and the store should stop the process rather than go on.
	ApplyWriteSet(index, term uint64, data []byte) error
	// BeginSnapshot captures a consistent view (a bbolt read transaction);
	// it must return quickly, the copying happens in WriteTo.
	BeginSnapshot() (Snapshot, error) // adapter in cmd wraps *store.Snapshot
	// Restore replaces the whole state with a snapshot's stream, including
	// the applied index and term recorded in it.
	Restore(r io.Reader) error
	// Applied is the index and term of the last entry applied (0, 0 if none).
	Applied() (index, term uint64)
}

// BatchApplier is a StateMachine that applies several committed entries at
// once (one transaction, one commit), each with the outcome it would have
// had alone. The fsm uses it when the state machine has it.
type BatchApplier interface {
	ApplyWriteSets(entries []Entry) []error
}

// Entry is a committed command entry for a BatchApplier.
type Entry struct {
	Index, Term uint64
	Data        []byte
}

// Snapshot is a point-in-time view of the StateMachine.
type Snapshot interface {
	WriteTo(w io.Writer) (int64, error)
	Release()
}

// fsm adapts a StateMachine to raft.FSM.
type fsm struct {
	sm  StateMachine
	log zerolog.Logger
	// skipTo is the state machine's applied index when the node started (or
	// after a restore): entries up to it are already in the durable file, and
	// raft replays them because NoSnapshotRestoreOnStart starts raft's own
	// applied index at the last snapshot, not at the file's.
	skipTo atomic.Uint64
	// skipped counts replayed entries not applied again (tests, logs).
	skipped atomic.Uint64
}

func newFSM(sm StateMachine, log zerolog.Logger) *fsm {
	f := &fsm{sm: sm, log: log}
	idx, _ := sm.Applied()
	f.skipTo.Store(idx)
	return f
}

// Apply applies one committed command entry. Raft sends only LogCommand
// entries here (configuration, barrier and no-op entries never reach an FSM
// that does not implement ConfigurationStore), but the type check keeps that
// an explicit rule rather than an assumption. The returned error becomes the
// leader's ApplyFuture.Response.
func (f *fsm) Apply(l *raft.Log) interface{} {
	if l.Type != raft.LogCommand {
		return nil
	}
	if l.Index <= f.skipTo.Load() {
		f.skipped.Add(1)
		return nil
	}
	if err := f.sm.ApplyWriteSet(l.Index, l.Term, l.Data); err != nil {
		f.log.Warn().Err(err).Uint64("index", l.Index).Uint64("term", l.Term).Msg("cluster: the state machine rejected an entry")
		return err
	}
	return nil
}

// ApplyBatch applies what raft committed together (up to MaxAppendEntries,
// in log order, without gaps) through the state machine's BatchApplier, or
// one by one through Apply. Configuration entries are raft's own business
// and answered nil, as Apply answers every entry that is not a command.
func (f *fsm) ApplyBatch(logs []*raft.Log) []interface{} {
	out := make([]interface{}, len(logs))
	ba, ok := f.sm.(BatchApplier)
	if !ok {
		for i, l := range logs {
			out[i] = f.Apply(l)
		}
		return out
	}
	entries := make([]Entry, 0, len(logs))
	at := make([]int, 0, len(logs))
	for i, l := range logs {
		if l.Type != raft.LogCommand {
			continue
		}
		if l.Index <= f.skipTo.Load() {
			f.skipped.Add(1)
			continue
		}
		entries = append(entries, Entry{Index: l.Index, Term: l.Term, Data: l.Data})
		at = append(at, i)
	}
	if len(entries) == 0 {
		return out
	}
	for k, err := range ba.ApplyWriteSets(entries) {
		if err != nil {
			l := logs[at[k]]
			f.log.Warn().Err(err).Uint64("index", l.Index).Uint64("term", l.Term).Msg("cluster: the state machine rejected an entry")
			out[at[k]] = err
		}
	}
	return out
}

// Snapshot starts a snapshot at the current applied index (raft calls it
// between applies, so the view matches the index raft records).
func (f *fsm) Snapshot() (raft.FSMSnapshot, error) {
	s, err := f.sm.BeginSnapshot()
	if err != nil {
		return nil, fmt.Errorf("cluster: begin snapshot: %w", err)
	}
	return fsmSnapshot{s}, nil
}

// Restore replaces the state with a snapshot sent by the leader (a node too
// far behind, or a new one) or a user restore.
func (f *fsm) Restore(rc io.ReadCloser) error {
	defer func() { _ = rc.Close() }()
	if err := f.sm.Restore(rc); err != nil {
		return fmt.Errorf("cluster: restore snapshot: %w", err)
	}
	// Raft goes on after the snapshot's index, so there is nothing left to
	// skip; and a user restore's file may carry indexes of another cluster,
	// which must not hide this cluster's next entries.
	f.skipTo.Store(0)
	return nil
}

type fsmSnapshot struct{ s Snapshot }

// Persist streams the snapshot into raft's sink, cancelling it on error so a
// partial file is never taken for a snapshot.
func (s fsmSnapshot) Persist(sink raft.SnapshotSink) error {
	if _, err := s.s.WriteTo(sink); err != nil {
		_ = sink.Cancel()
		return fmt.Errorf("cluster: write snapshot: %w", err)
	}
	return sink.Close()
}

func (s fsmSnapshot) Release() { s.s.Release() }
