package watch

import (
	"context"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	kwatch "k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/cache"
)

// Spec names one informer: a kind, optionally narrowed to a namespace and
// selectors, and the conversion its objects go through.
type Spec struct {
	Resource      schema.GroupVersionResource
	Namespace     string // "" for all namespaces, or a cluster-scoped kind
	FieldSelector string
	LabelSelector string
	// ConvertName identifies Convert: two Specs that differ only in it get
	// separate informers.
	ConvertName string
	// Label, when set, names the source in Events instead of String().
	Label string
	// Convert turns an object into the value subscribers receive. It runs
	// once per object change, inside the informer, and its result is what
	// the informer caches (so the full object is not kept in memory). The
	// result is shared by every subscriber and must never be modified.
	Convert func(*unstructured.Unstructured) any
}

// String describes the spec: its Label, or e.g. "applications.argoproj.io"
// or "events in ns-a (involvedObject.name=web)".
func (s Spec) String() string {
	if s.Label != "" {
		return s.Label
	}
	d := s.Resource.GroupResource().String()
	if s.Namespace != "" {
		d += " in " + s.Namespace
	}
	if sel := s.FieldSelector + s.LabelSelector; sel != "" {
		d += " (" + sel + ")"
	}
	return d
}

type sourceKey struct {
	gvr                          schema.GroupVersionResource
	namespace, fields, labels, c string
}

func (s Spec) key() sourceKey {
	return sourceKey{s.Resource, s.Namespace, s.FieldSelector, s.LabelSelector, s.ConvertName}
}

// Item is an object as the informer caches it: its identity and the
// converted value.
type Item struct {
	metav1.ObjectMeta
	Value any
}

// Handler receives a subscription's events. Upsert and Delete come from the
// informer's goroutines, Status from another; a Handler must be safe for
// that. While the first list streams in, its objects arrive as Upserts (a
// preview, so a view can draw before the list is complete); Status(Live)
// comes only after every object of that list, and after a Delete for any
// previewed object the completed list no longer holds.
type Handler interface {
	Upsert(key string, value any)
	Delete(key string, value any)
	Status(Status)
}

// Pool shares informers among subscribers: one per Spec, started by the first
// Subscribe and stopped when the last subscriber's context ends.
type Pool struct {
	dyn dynamic.Interface
	res *resolver

	mu      sync.Mutex
	sources map[sourceKey]*source
}

// NewPool builds a pool on a dynamic client; disco, which may be nil, maps
// kinds to resources for Resource. It does not contact the server.
func NewPool(dyn dynamic.Interface, disco discovery.DiscoveryInterface) *Pool {
	p := &Pool{dyn: dyn, sources: map[sourceKey]*source{}}
	if disco != nil {
		p.res = &resolver{disco: disco, groups: map[schema.GroupVersion]*metav1.APIResourceList{}}
	}
	return p
}

// Dynamic is the pool's client, for one-off reads and writes.
func (p *Pool) Dynamic() dynamic.Interface { return p.dyn }

// source is one running informer and its connection status.
type source struct {
	informer cache.SharedIndexInformer
	stop     context.CancelFunc
	refs     int
	convert  func(*unstructured.Unstructured) any

	subsMu sync.Mutex
	subs   map[*subscription]struct{}

	mu      sync.Mutex
	status  Status
	changed chan struct{} // closed and replaced on every status change
}

// subscription is one Subscribe call. Until its first list has been
// delivered it also gets a preview: the objects of a streaming list as they
// arrive, so a view can draw the first rows long before the last one.
type subscription struct {
	h  Handler
	mu sync.Mutex
	// synced is set once the informer has delivered its first list.
	synced bool
	// preview holds what was previewed and not yet confirmed by the
	// informer: a preview of an object deleted before the list completed
	// is withdrawn when the subscription syncs.
	preview map[string]previewed
}

type previewed struct {
	rv    string
	value any
}

// Subscribe delivers spec's objects to h until ctx ends: first every object
// already known (as Upsert), then changes, and the source's Status whenever
// it changes. The returned channel is closed once the subscription has
// ended; h must still tolerate a late call after that (an informer may be
// mid-delivery when it is told to stop).
func (p *Pool) Subscribe(ctx context.Context, spec Spec, h Handler) <-chan struct{} {
	done := make(chan struct{})
	src := p.acquire(spec)
	sub := &subscription{h: h, preview: map[string]previewed{}}
	src.subsMu.Lock()
	src.subs[sub] = struct{}{}
	src.subsMu.Unlock()
	live := func() bool { return ctx.Err() == nil }
	reg, err := src.informer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) {
			if it, ok := obj.(*Item); ok && live() && sub.confirm(it) {
				h.Upsert(itemKey(it), it.Value)
			}
		},
		UpdateFunc: func(_, obj any) {
			if it, ok := obj.(*Item); ok && live() {
				h.Upsert(itemKey(it), it.Value)
			}
		},
		DeleteFunc: func(obj any) {
			if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = d.Obj
			}
			if it, ok := obj.(*Item); ok && live() {
				h.Delete(itemKey(it), it.Value)
			}
		},
	})
	if err != nil { // the informer was stopped under us: only when ctx already ended
		src.drop(sub)
		p.release(spec.key())
		close(done)
		return done
	}
	go func() {
		defer close(done)
		src.follow(ctx, reg, sub)
		src.drop(sub)
		_ = src.informer.RemoveEventHandler(reg)
		p.release(spec.key())
	}()
	return done
}

// confirm notes that the informer delivered it; it reports whether the
// subscriber still needs it (not if the same version was previewed).
func (sub *subscription) confirm(it *Item) bool {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	p, ok := sub.preview[itemKey(it)]
	if !ok {
		return true
	}
	delete(sub.preview, itemKey(it))
	return p.rv != it.ResourceVersion
}

// finish marks the subscription synced and returns the previews the
// informer never confirmed.
func (sub *subscription) finish() map[string]previewed {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	sub.synced = true
	left := sub.preview
	sub.preview = nil
	return left
}

func (s *source) drop(sub *subscription) {
	s.subsMu.Lock()
	delete(s.subs, sub)
	s.subsMu.Unlock()
}

// previewObject hands an object of a streaming list to the subscriptions
// that have not synced yet.
func (s *source) previewObject(u *unstructured.Unstructured) {
	s.subsMu.Lock()
	subs := make([]*subscription, 0, len(s.subs))
	for sub := range s.subs {
		subs = append(subs, sub)
	}
	s.subsMu.Unlock()
	if len(subs) == 0 {
		return
	}
	it, _ := transform(s.convert)(u)
	item := it.(*Item)
	key := itemKey(item)
	for _, sub := range subs {
		sub.mu.Lock()
		if !sub.synced {
			sub.preview[key] = previewed{rv: item.ResourceVersion, value: item.Value}
			sub.h.Upsert(key, item.Value)
		}
		sub.mu.Unlock()
	}
}

func itemKey(it *Item) string {
	if it.Namespace == "" {
		return it.Name
	}
	return it.Namespace + "/" + it.Name
}

func (p *Pool) acquire(spec Spec) *source {
	p.mu.Lock()
	defer p.mu.Unlock()
	k := spec.key()
	if src, ok := p.sources[k]; ok {
		src.refs++
		return src
	}
	src := &source{refs: 1, changed: make(chan struct{}), status: Status{State: Loading, Since: time.Now()},
		convert: spec.Convert, subs: map[*subscription]struct{}{}}
	src.informer = cache.NewSharedIndexInformerWithOptions(p.listWatch(spec, src), &unstructured.Unstructured{},
		cache.SharedIndexInformerOptions{ObjectDescription: spec.String()})
	_ = src.informer.SetTransform(transform(spec.Convert))
	_ = src.informer.SetWatchErrorHandlerWithContext(func(_ context.Context, _ *cache.Reflector, err error) { src.fail(err) })
	ctx, cancel := context.WithCancel(context.Background())
	src.stop = cancel
	go src.informer.RunWithContext(ctx)
	p.sources[k] = src
	return src
}

func (p *Pool) release(k sourceKey) {
	p.mu.Lock()
	defer p.mu.Unlock()
	src, ok := p.sources[k]
	if !ok {
		return
	}
	if src.refs--; src.refs <= 0 {
		src.stop()
		delete(p.sources, k)
	}
}

// transform converts an object into an Item once, as it enters the informer.
// It is idempotent, as client-go asks.
func transform(convert func(*unstructured.Unstructured) any) cache.TransformFunc {
	return func(obj any) (any, error) {
		u, ok := obj.(*unstructured.Unstructured)
		if !ok {
			return obj, nil // already an Item, or a deletion marker
		}
		it := &Item{ObjectMeta: metav1.ObjectMeta{
			Name: u.GetName(), Namespace: u.GetNamespace(), UID: types.UID(u.GetUID()), ResourceVersion: u.GetResourceVersion(),
		}}
		if convert != nil {
			it.Value = convert(u)
		} else {
			it.Value = u
		}
		return it, nil
	}
}

// listWatch lists and watches spec with the dynamic client and records, on
// the way, whether the connection works.
func (p *Pool) listWatch(spec Spec, src *source) cache.ListerWatcher {
	ri := p.dyn.Resource(spec.Resource).Namespace(spec.Namespace)
	tweak := func(o *metav1.ListOptions) {
		o.FieldSelector, o.LabelSelector = spec.FieldSelector, spec.LabelSelector
	}
	// A client that cannot stream lists (an in-process fake) says so, and
	// the reflector then lists and watches.
	return cache.ToListWatcherWithWatchListSemantics(&cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			tweak(&o)
			list, err := ri.List(ctx, o)
			if err != nil {
				src.fail(err)
				return nil, err
			}
			src.connected()
			return list, nil
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (kwatch.Interface, error) {
			tweak(&o)
			w, err := ri.Watch(ctx, o)
			if err != nil {
				src.fail(err)
				return nil, err
			}
			if o.SendInitialEvents != nil && *o.SendInitialEvents {
				// A streaming list: current once its initial events end.
				return newInitialEventsWatch(w, src.connected, src.previewObject), nil
			}
			src.connected()
			return w, nil
		},
	}, p.dyn)
}

func (s *source) set(st State, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.status.State == st && sameError(s.status.Err, err) {
		return
	}
	now := time.Now()
	if s.status.State == Live {
		s.status.LastLive = now
	}
	s.status.State, s.status.Err, s.status.Since = st, err, now
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *source) connected()     { s.set(Live, nil) }
func (s *source) fail(err error) { s.set(Classify(err), err) }

func (s *source) snapshot() (Status, <-chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.status, s.changed
}

// follow reports the source's status to h until ctx ends. A live source is
// reported as Loading to this subscriber until its first list has been
// delivered to it.
func (s *source) follow(ctx context.Context, reg cache.ResourceEventHandlerRegistration, sub *subscription) {
	h := sub.h
	synced := reg.HasSyncedChecker().Done()
	isSynced, first := false, true
	var last Status
	for {
		st, changed := s.snapshot()
		if st.State == Live && !isSynced {
			st.State = Loading
		}
		if first || st.State != last.State || !sameError(st.Err, last.Err) {
			h.Status(st)
			last, first = st, false
		}
		select {
		case <-ctx.Done():
			return
		case <-changed:
		case <-synced:
			isSynced, synced = true, nil
			for key, p := range sub.finish() {
				h.Delete(key, p.value)
			}
		}
	}
}

func sameError(a, b error) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Error() == b.Error()
}

// initialEventsWatch passes a streaming list's events through, hands each
// initial object to onInitial as it arrives, and calls onCurrent at the
// bookmark that ends the initial events.
type initialEventsWatch struct {
	inner kwatch.Interface
	out   chan kwatch.Event
	stop  chan struct{}
	once  sync.Once
}

func newInitialEventsWatch(inner kwatch.Interface, onCurrent func(), onInitial func(*unstructured.Unstructured)) kwatch.Interface {
	w := &initialEventsWatch{inner: inner, out: make(chan kwatch.Event), stop: make(chan struct{})}
	go func() {
		defer close(w.out)
		initial := true
		for ev := range inner.ResultChan() {
			switch {
			case ev.Type == kwatch.Bookmark && isInitialEventsEnd(ev.Object):
				initial = false
				onCurrent()
			case initial && ev.Type == kwatch.Added:
				if u, ok := ev.Object.(*unstructured.Unstructured); ok {
					onInitial(u)
				}
			}
			select {
			case w.out <- ev:
			case <-w.stop:
				return
			}
		}
	}()
	return w
}

func (w *initialEventsWatch) ResultChan() <-chan kwatch.Event { return w.out }

func (w *initialEventsWatch) Stop() {
	w.once.Do(func() {
		close(w.stop)
		w.inner.Stop()
	})
}

func isInitialEventsEnd(obj runtime.Object) bool {
	u, ok := obj.(*unstructured.Unstructured)
	return ok && u.GetAnnotations()[metav1.InitialEventsAnnotationKey] == "true"
}

// Sources is the number of informers running.
func (p *Pool) Sources() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.sources)
}
