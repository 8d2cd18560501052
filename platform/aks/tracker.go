package aks

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Auditor records a power action Azure was asked to perform (in the GitOps
// repository, see package powerlog) and returns the commit.
type Auditor interface {
	Record(ctx context.Context, res Result) (commit string, err error)
}

// Outcome is a power action with its audit record.
type Outcome struct {
	Result      Result
	Err         error
	AuditCommit string
	AuditErr    error
}

// ErrNoAuditLog refuses a power action that could not be recorded.
var ErrNoAuditLog = errors.New("every power action is recorded in the GitOps repository, and none is set: pass --gitops (or set gitops: in the idp config)")

// Do runs action and records it: the one code path `idp aks stop|start` and
// the TUI share. The audit commit is attempted whenever Azure was asked, also
// when the action failed; its failure is reported beside the result and
// never undoes the Azure action. Without an auditor nothing is done.
func Do(ctx context.Context, c *Client, action Action, wait bool, audit Auditor, progress func(Progress)) Outcome {
	if audit == nil {
		return Outcome{Result: Result{Action: action, Cluster: c.Ref(), Outcome: Failed, Error: ErrNoAuditLog.Error()}, Err: ErrNoAuditLog}
	}
	res, err := c.Run(ctx, action, wait, progress)
	out := Outcome{Result: res, Err: err}
	if res.Asked {
		// The user's ctx may be cancelled (ctrl+c while waiting); the record
		// of what was asked must still be written.
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
		defer cancel()
		out.AuditCommit, out.AuditErr = audit.Record(actx, res)
		if out.AuditErr != nil {
			out.AuditErr = fmt.Errorf("the %s was not recorded in the GitOps repository (the Azure action stands): %w", action, out.AuditErr)
		}
	}
	return out
}

// Tracker runs power actions in the background of an interactive session, so
// leaving a screen neither cancels the Azure operation nor loses its progress:
// coming back finds it still running or finished.
type Tracker struct {
	mu  sync.Mutex
	ops map[Ref]*Op
}

// Op is one tracked power action.
type Op struct {
	mu      sync.Mutex
	state   OpState
	changed chan struct{}
}

// OpState is a copy of an Op's state at one moment.
type OpState struct {
	// Seq counts the op's changes, so a watcher can tell a state it has
	// seen from a new one.
	Seq      int
	Action   Action
	Started  time.Time
	Progress Progress
	Done     bool
	Outcome  Outcome
}

// Start begins action on the client's cluster in the background, unless one
// is already running there. ctx bounds the waiting (the session's context),
// not the Azure operation.
func (t *Tracker) Start(ctx context.Context, c *Client, action Action, audit Auditor) (*Op, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.ops == nil {
		t.ops = map[Ref]*Op{}
	}
	if op := t.ops[c.Ref()]; op != nil {
		if st := op.State(); !st.Done {
			return nil, fmt.Errorf("a %s of AKS cluster %s is already running (since %s)", st.Action, c.Ref().Name, st.Started.Format(time.Kitchen))
		}
	}
	op := &Op{state: OpState{Action: action, Started: time.Now()}, changed: make(chan struct{})}
	t.ops[c.Ref()] = op
	go func() {
		out := Do(ctx, c, action, true, audit, op.progress)
		op.update(func(s *OpState) { s.Done, s.Outcome = true, out })
	}()
	return op, nil
}

// Current is the last action started on ref in this session, or nil.
func (t *Tracker) Current(ref Ref) *Op {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.ops[ref]
}

// State is a copy of the op's state.
func (o *Op) State() OpState {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.state
}

// Changed is closed at the op's next change; read State after it fires.
func (o *Op) Changed() <-chan struct{} {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.changed
}

// Next waits for a state newer than seq and returns it; ok is false when ctx
// ends first.
func (o *Op) Next(ctx context.Context, seq int) (state OpState, ok bool) {
	for {
		o.mu.Lock()
		st, ch := o.state, o.changed
		o.mu.Unlock()
		if st.Seq != seq {
			return st, true
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return st, false
		}
	}
}

func (o *Op) progress(p Progress) { o.update(func(s *OpState) { s.Progress = p }) }

func (o *Op) update(f func(*OpState)) {
	o.mu.Lock()
	defer o.mu.Unlock()
	f(&o.state)
	o.state.Seq++
	close(o.changed)
	o.changed = make(chan struct{})
}
