package demo

import (
	"context"
	"fmt"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/discovery"
	fakediscovery "k8s.io/client-go/discovery/fake"
	"k8s.io/client-go/dynamic"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	clienttesting "k8s.io/client-go/testing"
)

// Kind is one resource the in-process API serves.
type Kind struct {
	GVK        schema.GroupVersionKind
	Resource   string // plural, e.g. "applications"
	Namespaced bool
}

// GVR is the kind's resource.
func (k Kind) GVR() schema.GroupVersionResource { return k.GVK.GroupVersion().WithResource(k.Resource) }

// Cluster is an in-process Kubernetes API: client-go's fake dynamic client
// (an object tracker with list and watch from a resource version, so
// informers work as against a server) behind a thin layer that does what the
// fake leaves out and a real server does: field selectors on list and watch,
// NotFound for a kind it does not serve (the fake panics), and discovery of
// the kinds it serves.
type Cluster struct {
	fake   *dynamicfake.FakeDynamicClient
	disco  *fakediscovery.FakeDiscovery
	served map[schema.GroupVersionResource]Kind

	mu       sync.Mutex
	byGVK    map[schema.GroupVersionKind]Kind
	watchers []watch.Interface
}

// NewCluster serves kinds; its set is fixed for its lifetime.
func NewCluster(kinds []Kind) *Cluster {
	listKinds := map[schema.GroupVersionResource]string{}
	served := map[schema.GroupVersionResource]Kind{}
	byGVK := map[schema.GroupVersionKind]Kind{}
	groups := map[string]*metav1.APIResourceList{}
	var order []string
	for _, k := range kinds {
		listKinds[k.GVR()] = k.GVK.Kind + "List"
		served[k.GVR()] = k
		byGVK[k.GVK] = k
		gv := k.GVK.GroupVersion().String()
		l, ok := groups[gv]
		if !ok {
			l = &metav1.APIResourceList{GroupVersion: gv}
			groups[gv] = l
			order = append(order, gv)
		}
		l.APIResources = append(l.APIResources, metav1.APIResource{
			Name: k.Resource, Kind: k.GVK.Kind, Namespaced: k.Namespaced,
			Verbs: metav1.Verbs{"get", "list", "watch", "create", "update", "patch", "delete"},
		})
	}
	c := &Cluster{
		fake:   dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), listKinds),
		served: served,
		byGVK:  byGVK,
	}
	fake := &clienttesting.Fake{}
	for _, gv := range order {
		fake.Resources = append(fake.Resources, groups[gv])
	}
	c.disco = &fakediscovery.FakeDiscovery{Fake: fake}
	return c
}

// Dynamic is the client views, actions and the simulator share.
func (c *Cluster) Dynamic() dynamic.Interface { return &client{c: c} }

// Discovery lists the served kinds.
func (c *Cluster) Discovery() discovery.DiscoveryInterface { return c.disco }

// KindFor returns the served kind for apiVersion and kind.
func (c *Cluster) KindFor(gvk schema.GroupVersionKind) (Kind, bool) {
	k, ok := c.byGVK[gvk]
	return k, ok
}

// forget drops the calls the fakes record (client-go's fakes keep a deep
// copy of every action for tests to inspect; a demo running for hours would
// keep them all).
func (c *Cluster) forget() {
	c.fake.ClearActions()
	c.disco.ClearActions()
}

// Close stops every watch still open, so that informers end.
func (c *Cluster) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, w := range c.watchers {
		w.Stop()
	}
	c.watchers = nil
}

type client struct{ c *Cluster }

// IsWatchListSemanticsUnSupported tells informers to list and then watch:
// the fake cannot stream a list's initial events.
func (d *client) IsWatchListSemanticsUnSupported() bool { return true }

func (d *client) Resource(gvr schema.GroupVersionResource) dynamic.NamespaceableResourceInterface {
	return &resource{c: d.c, gvr: gvr, ri: d.c.fake.Resource(gvr)}
}

type resource struct {
	c   *Cluster
	gvr schema.GroupVersionResource
	ns  string
	ri  dynamic.ResourceInterface
}

func (r *resource) Namespace(ns string) dynamic.ResourceInterface {
	return &resource{c: r.c, gvr: r.gvr, ns: ns, ri: r.c.fake.Resource(r.gvr).Namespace(ns)}
}

func (r *resource) notFound() error {
	return apierrors.NewNotFound(r.gvr.GroupResource(), "")
}

func (r *resource) check() error {
	if _, ok := r.c.served[r.gvr]; !ok {
		return r.notFound()
	}
	return nil
}

func (r *resource) Create(ctx context.Context, obj *unstructured.Unstructured, opts metav1.CreateOptions, sub ...string) (*unstructured.Unstructured, error) {
	defer r.c.forget()
	if err := r.check(); err != nil {
		return nil, err
	}
	if obj.GetUID() == "" {
		obj = obj.DeepCopy()
		obj.SetUID(newUID())
		if t := obj.GetCreationTimestamp(); t.IsZero() {
			obj.SetCreationTimestamp(metav1.Now())
		}
	}
	return r.ri.Create(ctx, obj, opts, sub...)
}

func (r *resource) Update(ctx context.Context, obj *unstructured.Unstructured, opts metav1.UpdateOptions, sub ...string) (*unstructured.Unstructured, error) {
	defer r.c.forget()
	if err := r.check(); err != nil {
		return nil, err
	}
	return r.ri.Update(ctx, obj, opts, sub...)
}

func (r *resource) UpdateStatus(ctx context.Context, obj *unstructured.Unstructured, opts metav1.UpdateOptions) (*unstructured.Unstructured, error) {
	// The fake stores the whole object either way; a status update is an
	// update (the served kinds have no separate status subresource here).
	return r.Update(ctx, obj, opts)
}

func (r *resource) Delete(ctx context.Context, name string, opts metav1.DeleteOptions, sub ...string) error {
	defer r.c.forget()
	if err := r.check(); err != nil {
		return err
	}
	return r.ri.Delete(ctx, name, opts, sub...)
}

func (r *resource) DeleteCollection(ctx context.Context, opts metav1.DeleteOptions, list metav1.ListOptions) error {
	defer r.c.forget()
	if err := r.check(); err != nil {
		return err
	}
	return r.ri.DeleteCollection(ctx, opts, list)
}

func (r *resource) Get(ctx context.Context, name string, opts metav1.GetOptions, sub ...string) (*unstructured.Unstructured, error) {
	defer r.c.forget()
	if err := r.check(); err != nil {
		return nil, err
	}
	return r.ri.Get(ctx, name, opts, sub...)
}

func (r *resource) List(ctx context.Context, opts metav1.ListOptions) (*unstructured.UnstructuredList, error) {
	defer r.c.forget()
	if err := r.check(); err != nil {
		return nil, err
	}
	sel, err := fieldSelector(opts.FieldSelector)
	if err != nil {
		return nil, err
	}
	list, err := r.ri.List(ctx, opts)
	if err != nil || sel == nil {
		return list, err
	}
	items := list.Items[:0]
	for _, it := range list.Items {
		if sel.Matches(objectFields(&it)) {
			items = append(items, it)
		}
	}
	list.Items = items
	return list, nil
}

func (r *resource) Watch(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error) {
	defer r.c.forget()
	if err := r.check(); err != nil {
		return nil, err
	}
	sel, err := fieldSelector(opts.FieldSelector)
	if err != nil {
		return nil, err
	}
	w, err := r.ri.Watch(ctx, opts)
	if err != nil {
		return nil, err
	}
	if sel != nil {
		w = watch.Filter(w, func(e watch.Event) (watch.Event, bool) {
			u, ok := e.Object.(*unstructured.Unstructured)
			return e, !ok || sel.Matches(objectFields(u))
		})
	}
	r.c.mu.Lock()
	r.c.watchers = append(r.c.watchers, w)
	r.c.mu.Unlock()
	return w, nil
}

func (r *resource) Patch(ctx context.Context, name string, pt types.PatchType, data []byte, opts metav1.PatchOptions, sub ...string) (*unstructured.Unstructured, error) {
	defer r.c.forget()
	if err := r.check(); err != nil {
		return nil, err
	}
	return r.ri.Patch(ctx, name, pt, data, opts, sub...)
}

func (r *resource) Apply(ctx context.Context, name string, obj *unstructured.Unstructured, opts metav1.ApplyOptions, sub ...string) (*unstructured.Unstructured, error) {
	defer r.c.forget()
	if err := r.check(); err != nil {
		return nil, err
	}
	return r.ri.Apply(ctx, name, obj, opts, sub...)
}

func (r *resource) ApplyStatus(ctx context.Context, name string, obj *unstructured.Unstructured, opts metav1.ApplyOptions) (*unstructured.Unstructured, error) {
	return r.Apply(ctx, name, obj, opts, "status")
}

func fieldSelector(s string) (fields.Selector, error) {
	if s == "" {
		return nil, nil
	}
	sel, err := fields.ParseSelector(s)
	if err != nil {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("field selector %q: %v", s, err))
	}
	if sel.Empty() {
		return nil, nil
	}
	return sel, nil
}

// objectFields are the fields a server lets one select on: metadata.name and
// metadata.namespace for every kind, and an Event's involvedObject.
func objectFields(u *unstructured.Unstructured) fields.Set {
	set := fields.Set{"metadata.name": u.GetName(), "metadata.namespace": u.GetNamespace()}
	if u.GetKind() == "Event" {
		if io, ok := u.Object["involvedObject"].(map[string]any); ok {
			for k, v := range io {
				if s, ok := v.(string); ok {
					set["involvedObject."+k] = s
				}
			}
		}
		if r, ok := u.Object["reason"].(string); ok {
			set["reason"] = r
		}
		if t, ok := u.Object["type"].(string); ok {
			set["type"] = t
		}
	}
	return set
}

var (
	uidMu  sync.Mutex
	uidSeq int
)

func newUID() types.UID {
	uidMu.Lock()
	defer uidMu.Unlock()
	uidSeq++
	return types.UID(fmt.Sprintf("00000000-0000-4000-8000-%012d", uidSeq))
}
