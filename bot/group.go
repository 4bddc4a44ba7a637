package bot

import (
	"errors"
	"sync"

	"github.com/incidentbot/incidentbot/store"
)

// groupCommit shares one commit, and one fsync, among job outcomes that
// are ready at the same moment, with no waiting: the first to arrive
// commits at once; those that arrive while it commits go together in the
// next commit. (bbolt's Batch instead waits up to MaxBatchDelay for
// company, which a lone job pays in full.) If a shared commit fails, each
// outcome is committed alone, so one bad outcome cannot fail the others;
// an outcome's func may therefore run twice.
type groupCommit struct {
	write func(func(*store.Tx) error) error

	mu      sync.Mutex
	pending []*commitReq
	leading bool
}

type commitReq struct {
	fn   func(*store.Tx) error
	done chan error
}

// errMember marks which outcome failed a shared commit.
type errMember struct {
	i   int
	err error
}

func (e *errMember) Error() string { return e.err.Error() }
func (e *errMember) Unwrap() error { return e.err }

// commit commits fn, alone or with others, and returns its own result.
func (g *groupCommit) commit(fn func(*store.Tx) error) error {
	req := &commitReq{fn: fn, done: make(chan error, 1)}
	g.mu.Lock()
	g.pending = append(g.pending, req)
	if g.leading {
		g.mu.Unlock()
		return <-req.done
	}
	g.leading = true
	for len(g.pending) > 0 {
		batch := g.pending
		g.pending = nil
		g.mu.Unlock()
		g.flush(batch)
		g.mu.Lock()
	}
	g.leading = false
	g.mu.Unlock()
	return <-req.done
}

func (g *groupCommit) flush(batch []*commitReq) {
	if len(batch) == 1 {
		batch[0].done <- g.write(batch[0].fn)
		return
	}
	err := g.write(func(tx *store.Tx) error {
		for i, r := range batch {
			if err := r.fn(tx); err != nil {
				return &errMember{i, err}
			}
		}
		return nil
	})
	var m *errMember
	if err != nil && errors.As(err, &m) {
		// Alone, each as if it had come by itself.
		for _, r := range batch {
			r.done <- g.write(r.fn)
		}
		return
	}
	for _, r := range batch {
		r.done <- err // nil, or the database refused the shared write
	}
}
