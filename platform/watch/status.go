// Package watch keeps live copies of Kubernetes objects: one dynamic shared
// informer per kind (and namespace), started when the first subscriber asks
// for it and stopped when the last one leaves. Subscribers get converted
// copies of the objects, never the informer's cached pointers, and a Status
// that tells loading, live, reconnecting and forbidden apart.
package watch

import (
	"errors"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// State is how current a source's objects are.
type State int

const (
	// Loading: the first list has not arrived yet.
	Loading State = iota
	// Live: the objects are current and changes stream in.
	Live
	// Reconnecting: the connection to the API server was lost; the objects
	// are as they were when it dropped and may be stale.
	Reconnecting
	// Forbidden: RBAC does not let the user list or watch this kind.
	Forbidden
	// NotInstalled: the API server does not serve this kind (no CRD).
	NotInstalled
	// Failed: another error that retrying is not expected to fix (for
	// example expired credentials); retries continue anyway.
	Failed
)

var stateNames = [...]string{"loading", "live", "reconnecting", "forbidden", "not installed", "failed"}

func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("State(%d)", int(s))
}

// MarshalText makes a State print as its name in JSON and YAML.
func (s State) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a State's name.
func (s *State) UnmarshalText(b []byte) error {
	for i, n := range stateNames {
		if n == string(b) {
			*s = State(i)
			return nil
		}
	}
	return fmt.Errorf("unknown state %q", b)
}

// Current reports whether objects in this state can be shown as current.
func (s State) Current() bool { return s == Live }

// Status is a source's state, why, and since when.
type Status struct {
	State State
	// Err is the error behind Reconnecting, Forbidden, NotInstalled or Failed.
	Err error
	// Since is when the source entered State.
	Since time.Time
	// LastLive is when the source was last known current: for Reconnecting,
	// the moment its objects date from.
	LastLive time.Time
}

func (s Status) String() string {
	if s.Err == nil {
		return s.State.String()
	}
	return s.State.String() + ": " + s.Err.Error()
}

// Classify maps a list or watch error to the state it puts a source in.
func Classify(err error) State {
	switch {
	case err == nil:
		return Live
	case apierrors.IsForbidden(err):
		return Forbidden
	case apierrors.IsNotFound(err), isNoMatch(err):
		return NotInstalled
	case apierrors.IsUnauthorized(err), apierrors.IsBadRequest(err), apierrors.IsInvalid(err):
		return Failed
	}
	return Reconnecting
}

// errNotServed marks a kind the API server does not serve.
var errNotServed = errors.New("not served by the API server")

func isNoMatch(err error) bool { return errors.Is(err, errNotServed) }
