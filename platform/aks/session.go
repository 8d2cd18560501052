package aks

import (
	"context"
	"sync"
)

// Connect finds the cluster and the audit log for a session: from the
// platform configuration in the GitOps repository and the flags. It may do
// I/O (read the GitOps repository), so it runs on first use, not at start.
type Connect func(ctx context.Context) (*Client, Auditor, error)

// Session is AKS power for one interactive session: the cluster is found
// once, on first use, and its actions run in a Tracker bound to the session's
// context, so they outlive the screen that started them.
type Session struct {
	ctx     context.Context
	connect Connect
	tracker Tracker

	mu     sync.Mutex
	client *Client
	audit  Auditor
}

// NewSession returns a session whose background actions end their waiting
// when ctx ends (the Azure operations themselves go on).
func NewSession(ctx context.Context, connect Connect) *Session {
	return &Session{ctx: ctx, connect: connect}
}

func (s *Session) get(ctx context.Context) (*Client, Auditor, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.client != nil {
		return s.client, s.audit, nil
	}
	c, a, err := s.connect(ctx)
	if err != nil {
		return nil, nil, err // not cached: the user may fix the config and retry
	}
	s.client, s.audit = c, a
	return c, a, nil
}

// Status reads the cluster.
func (s *Session) Status(ctx context.Context) (Cluster, error) {
	c, _, err := s.get(ctx)
	if err != nil {
		return Cluster{}, err
	}
	return c.Status(ctx)
}

// Begin starts action in the background.
func (s *Session) Begin(action Action) (*Op, error) {
	c, a, err := s.get(s.ctx)
	if err != nil {
		return nil, err
	}
	return s.tracker.Start(s.ctx, c, action, a)
}

// Current is the session's last action on its cluster, or nil.
func (s *Session) Current() *Op {
	s.mu.Lock()
	c := s.client
	s.mu.Unlock()
	if c == nil {
		return nil
	}
	return s.tracker.Current(c.Ref())
}
