// Package incident is the domain at the centre of incidentbot: incidents, their
// severities, statuses, key times and timelines, and the documents rendered from
// them. It is pure Go: it knows nothing of Slack or of how state is stored.
package incident

import (
	"errors"
	"fmt"
)

// Sentinel errors. Callers wrap them with %w and a lowercase prefix; the edge
// (handlers) turns them into what a user reads.
var (
	// ErrNotFound means the incident, entry or record does not exist.
	ErrNotFound = errors.New("not found")
	// ErrInvalidTransition means a status change the lifecycle does not allow.
	ErrInvalidTransition = errors.New("invalid status transition")
	// ErrInvalidInput means the user's input could not be understood.
	ErrInvalidInput = errors.New("invalid input")
	// ErrResolved means the action needs an open incident.
	ErrResolved = errors.New("incident is resolved")
	// ErrForbidden means the user may not perform the action.
	ErrForbidden = errors.New("not allowed")
)

// InputError is invalid input with a message for the user and a hint of what
// to type instead. It matches ErrInvalidInput with errors.Is.
type InputError struct {
	Problem string // what was wrong, in the user's terms
	Hint    string // what to type instead
}

// Error implements error.
func (e *InputError) Error() string {
	if e.Hint == "" {
		return e.Problem
	}
	return e.Problem + " " + e.Hint
}

// Is makes errors.Is(err, ErrInvalidInput) true for an *InputError.
func (e *InputError) Is(target error) bool { return target == ErrInvalidInput }

// Invalid returns an *InputError.
func Invalid(problem, hint string) error { return &InputError{Problem: problem, Hint: hint} }

// Problem is an error whose message is written for users, matching one of
// the sentinels with errors.Is, e.g. Problemf(ErrResolved, "INC-7 was
// resolved at 11:02 UTC").
type Problem struct {
	Msg  string
	Kind error
}

// Error implements error.
func (p *Problem) Error() string { return p.Msg }

// Unwrap returns the sentinel.
func (p *Problem) Unwrap() error { return p.Kind }

// Problemf returns a *Problem of the given kind.
func Problemf(kind error, format string, args ...any) error {
	return &Problem{Msg: fmt.Sprintf(format, args...), Kind: kind}
}
