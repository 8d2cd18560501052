package crossplane

import (
	"context"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/back-stack/idp/platform/watch"
)

// Event is a change to the objects of the trees.
type Event = watch.Event[Object]

// XRDSource is the Source of the XRDs' events.
var XRDSource = schema.GroupKind{Group: XRDs.Group, Kind: "CompositeResourceDefinition"}.String()

// retryResolve is how long a kind that could not be resolved waits before
// a later reference tries again.
const retryResolve = 30 * time.Second

func spec(gvr schema.GroupVersionResource, gk schema.GroupKind) watch.Spec {
	return watch.Spec{
		Resource: gvr, ConvertName: "crossplane.Object", Label: gk.String(),
		Convert: func(u *unstructured.Unstructured) any { return FromUnstructured(u) },
	}
}

// Watch streams the XRDs, the claims and composites they define, and every
// kind those refer to, each kind watched once it is first needed. Each
// source is named by its kind ("Kind.group"), so a kind that cannot be read
// is reported by name.
func Watch(ctx context.Context, pool *watch.Pool) <-chan Event {
	s := watch.NewStream[Object](ctx, pool, 1024)
	w := &watcher{ctx: ctx, pool: pool, s: s, failed: map[schema.GroupKind]time.Time{}, followed: map[schema.GroupKind]bool{}}
	s.Observe = w.observe
	s.Add(spec(XRDs, schema.GroupKind{Group: XRDs.Group, Kind: "CompositeResourceDefinition"}))
	return s.Events()
}

type watcher struct {
	ctx  context.Context
	pool *watch.Pool
	s    *watch.Stream[Object]

	mu       sync.Mutex
	followed map[schema.GroupKind]bool
	failed   map[schema.GroupKind]time.Time
}

// observe adds the kinds an object defines or refers to. It runs on the
// informer's goroutine before the object is sent.
func (w *watcher) observe(ev Event) {
	if ev.Type != watch.Upserted {
		return
	}
	o := ev.Object
	if d := o.Definition; d != nil {
		if d.Version == "" || d.Plural == "" {
			return
		}
		w.claim(schema.GroupKind{Group: d.Group, Kind: d.Kind})
		w.s.Add(spec(d.XR(), schema.GroupKind{Group: d.Group, Kind: d.Kind}))
		if gvr, ok := d.Claim(); ok {
			gk := schema.GroupKind{Group: d.Group, Kind: d.ClaimKind}
			w.claim(gk)
			w.s.Add(spec(gvr, gk))
		}
		return
	}
	for _, r := range o.Refs {
		w.follow(r)
	}
}

// claim marks a kind as watched through its XRD.
func (w *watcher) claim(gk schema.GroupKind) {
	w.mu.Lock()
	w.followed[gk] = true
	w.mu.Unlock()
}

// follow starts watching the kind of r, resolving it with discovery of its
// group and version only.
func (w *watcher) follow(r Ref) {
	gk := r.GroupKind()
	w.mu.Lock()
	if w.followed[gk] || time.Since(w.failed[gk]) < retryResolve {
		w.mu.Unlock()
		return
	}
	w.followed[gk] = true
	w.mu.Unlock()
	gv, err := schema.ParseGroupVersion(r.APIVersion)
	if err != nil {
		return
	}
	gvr, _, err := w.pool.Resource(w.ctx, gv.WithKind(r.Kind))
	if err != nil {
		w.mu.Lock()
		delete(w.followed, gk)
		w.failed[gk] = time.Now()
		w.mu.Unlock()
		w.s.Send(Event{Type: watch.StatusChanged, Source: gk.String(), Status: watch.Status{State: watch.Classify(err), Err: err, Since: time.Now()}})
		return
	}
	w.s.Add(spec(gvr, gk))
}

// State accumulates a watch's events into what the trees are built from.
// It does no I/O; a TUI keeps one in its model.
type State struct {
	objects map[string]Object // by source and key
	sources map[string]watch.Status
}

// NewState is an empty state.
func NewState() *State {
	return &State{objects: map[string]Object{}, sources: map[string]watch.Status{}}
}

// Apply records one event.
func (s *State) Apply(ev Event) {
	switch ev.Type {
	case watch.Upserted:
		s.objects[ev.Source+"|"+ev.Key] = ev.Object
	case watch.Deleted:
		delete(s.objects, ev.Source+"|"+ev.Key)
	case watch.StatusChanged:
		s.sources[ev.Source] = ev.Status
	}
}

// Len is the number of objects known, XRDs included.
func (s *State) Len() int { return len(s.objects) }

// Sources is every source's status, by kind.
func (s *State) Sources() map[string]watch.Status { return s.sources }

// Settled reports whether no source is still loading.
func (s *State) Settled() bool {
	for _, st := range s.sources {
		if st.State == watch.Loading {
			return false
		}
	}
	return len(s.sources) > 0
}

// Problems are the kinds that cannot be read, with why.
func (s *State) Problems() map[schema.GroupKind]string {
	out := map[schema.GroupKind]string{}
	for src, st := range s.sources {
		switch st.State {
		case watch.Forbidden, watch.NotInstalled, watch.Failed:
			out[schema.ParseGroupKind(src)] = st.String()
		}
	}
	return out
}

// Trees builds the trees from what is known.
func (s *State) Trees() []Tree {
	objs := make([]Object, 0, len(s.objects))
	for _, o := range s.objects {
		objs = append(objs, o)
	}
	return Build(objs, s.Problems())
}
