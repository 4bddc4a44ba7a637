package cluster

import (
	"errors"
	"fmt"

	"github.com/hashicorp/raft"
)

// The sentinels Replicate, Forward and AddVoter return (wrapped: test them with
// errors.Is). They survive a Forward: they cross the wire as a code.
var (
	// ErrNotLeader: this node (or the node a forwarded request reached) is not
	// the leader. Nothing was done; retry on the leader.
	ErrNotLeader = errors.New("cluster: not the leader")
	// ErrNoLeader: no leader could be reached within the bound. Nothing was
	// done by any leader.
	ErrNoLeader = errors.New("cluster: no leader")
	// ErrNoQuorum: the leader lost its leadership (in practice: it could not
	// reach a quorum within LeaderLeaseTimeout) before the entry committed.
	// The outcome is unknown (a later leader may still commit it): never ack.
	ErrNoQuorum = errors.New("cluster: no quorum committed the entry")
	// ErrTimeout: the operation did not finish within its bound. The outcome
	// is unknown: never ack.
	ErrTimeout = errors.New("cluster: timed out")
	// ErrShutdown: the node is shut down.
	ErrShutdown = errors.New("cluster: node is shut down")
)

// mapRaftErr turns hashicorp/raft's errors into this package's sentinels,
// keeping raft's message for the logs.
func mapRaftErr(err error) error {
	var s error
	switch {
	case err == nil:
		return nil
	case errors.Is(err, raft.ErrNotLeader):
		s = ErrNotLeader
	case errors.Is(err, raft.ErrLeadershipLost):
		s = ErrNoQuorum
	case errors.Is(err, raft.ErrEnqueueTimeout):
		s = ErrTimeout
	case errors.Is(err, raft.ErrRaftShutdown), errors.Is(err, raft.ErrTransportShutdown):
		s = ErrShutdown
	default:
		return err
	}
	return fmt.Errorf("%w (raft: %v)", s, err)
}

// Wire codes of the forward protocol's replies. Append only: nodes of
// different versions talk to each other during a rolling upgrade.
const (
	codeOK        byte = 0
	codeError     byte = 1 // any other error; its message crosses as text
	codeNotLeader byte = 2
	codeNoLeader  byte = 3
	codeNoQuorum  byte = 4
	codeTimeout   byte = 5
	codeShutdown  byte = 6
)

var codeSentinels = map[byte]error{
	codeNotLeader: ErrNotLeader,
	codeNoLeader:  ErrNoLeader,
	codeNoQuorum:  ErrNoQuorum,
	codeTimeout:   ErrTimeout,
	codeShutdown:  ErrShutdown,
}

// errCode is the wire code for err: the first sentinel it wraps, else codeError.
func errCode(err error) byte {
	if err == nil {
		return codeOK
	}
	for _, c := range []byte{codeNotLeader, codeNoLeader, codeNoQuorum, codeTimeout, codeShutdown} {
		if errors.Is(err, codeSentinels[c]) {
			return c
		}
	}
	return codeError
}

// RemoteError is an error the leader's handler returned to a Forward. It
// unwraps to the sentinel its code names, so errors.Is works across nodes.
type RemoteError struct {
	Code    byte
	Message string
}

func (e *RemoteError) Error() string { return "cluster: leader: " + e.Message }

// Unwrap returns the sentinel of the error's code, or nil.
func (e *RemoteError) Unwrap() error { return codeSentinels[e.Code] }
