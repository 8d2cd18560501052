package watch

import (
	"context"
	"sync"
	"time"
)

// EventType is what an Event reports.
type EventType int

const (
	// Upserted: an object was added or changed; Object is its new value.
	Upserted EventType = iota
	// Deleted: an object is gone; Object is its last known value.
	Deleted
	// StatusChanged: a source's Status changed.
	StatusChanged
)

// Event is one change from a Stream.
type Event[T any] struct {
	Type EventType
	// Source is the Spec the event comes from (Spec.String()).
	Source string
	// Key is "namespace/name", or "name" for cluster-scoped objects.
	Key    string
	Object T
	Status Status
}

// Stream merges the events of one or more Specs, whose Convert functions
// all return T, into one channel. Specs can be added while it runs; the
// channel is closed after ctx ends and every subscription has stopped.
type Stream[T any] struct {
	ctx  context.Context
	pool *Pool

	mu     sync.RWMutex // held for reading while sending, for writing to close
	closed bool
	ch     chan Event[T]

	// Observe, when set, sees every object event before it is sent, on
	// the informer's goroutine: a watcher that follows references adds the
	// Specs they need from here, so that their Loading status is on the
	// channel before the referring source reports Live.
	Observe func(Event[T])
	// OnStatus, when set, sees every source's status change before it is
	// sent: a watcher can add a fallback Spec when a source is forbidden.
	OnStatus func(source string, st Status)

	specsMu  sync.Mutex
	specs    map[sourceKey]bool
	stopping bool // set once ctx has ended; no subscription is added after
	wg       sync.WaitGroup
}

// NewStream starts an empty stream; buffer is the channel's capacity.
func NewStream[T any](ctx context.Context, pool *Pool, buffer int) *Stream[T] {
	s := &Stream[T]{ctx: ctx, pool: pool, ch: make(chan Event[T], buffer), specs: map[sourceKey]bool{}}
	s.wg.Add(1) // held until ctx ends, so the channel outlives an empty stream
	go func() {
		<-ctx.Done()
		s.specsMu.Lock()
		s.stopping = true
		s.specsMu.Unlock()
		s.wg.Done()
		s.wg.Wait()
		s.mu.Lock()
		s.closed = true
		close(s.ch)
		s.mu.Unlock()
	}()
	return s
}

// Watch is NewStream with specs added.
func Watch[T any](ctx context.Context, pool *Pool, buffer int, specs ...Spec) <-chan Event[T] {
	s := NewStream[T](ctx, pool, buffer)
	for _, spec := range specs {
		s.Add(spec)
	}
	return s.Events()
}

// Events is the stream's channel.
func (s *Stream[T]) Events() <-chan Event[T] { return s.ch }

// Add subscribes to spec unless the stream already has it. It reports
// whether spec is new.
func (s *Stream[T]) Add(spec Spec) bool {
	s.specsMu.Lock()
	k := spec.key()
	if s.stopping || s.specs[k] {
		s.specsMu.Unlock()
		return false
	}
	s.specs[k] = true
	s.wg.Add(1)
	s.specsMu.Unlock()
	s.Send(Event[T]{Type: StatusChanged, Source: spec.String(), Status: Status{State: Loading, Since: time.Now()}})
	done := s.pool.Subscribe(s.ctx, spec, &streamHandler[T]{s: s, source: spec.String()})
	go func() {
		<-done
		s.wg.Done()
	}()
	return true
}

// Send puts an event of the caller's own on the stream (a domain watcher
// reporting, say, a kind it cannot resolve). It blocks while the channel is
// full and drops the event once ctx has ended.
func (s *Stream[T]) Send(ev Event[T]) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return
	}
	select {
	case s.ch <- ev:
	case <-s.ctx.Done():
	}
}

type streamHandler[T any] struct {
	s      *Stream[T]
	source string
}

func (h *streamHandler[T]) Upsert(key string, v any) { h.object(Upserted, key, v) }
func (h *streamHandler[T]) Delete(key string, v any) { h.object(Deleted, key, v) }

func (h *streamHandler[T]) object(t EventType, key string, v any) {
	obj, ok := v.(T)
	if !ok {
		return
	}
	ev := Event[T]{Type: t, Source: h.source, Key: key, Object: obj}
	if h.s.Observe != nil {
		h.s.Observe(ev)
	}
	h.s.Send(ev)
}

func (h *streamHandler[T]) Status(st Status) {
	if h.s.OnStatus != nil {
		h.s.OnStatus(h.source, st)
	}
	h.s.Send(Event[T]{Type: StatusChanged, Source: h.source, Status: st})
}
