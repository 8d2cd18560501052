// Package sim plays Argo CD's and Crossplane's controllers over a Kubernetes
// API (any dynamic client: the demo's in-process one, or a real API server in
// a test). It reads the GitOps repository the way Argo CD's repo server does,
// creates what the app-of-apps would, and writes status the way the real
// controllers do: Applications go OutOfSync -> Syncing -> Synced and
// Progressing -> Healthy, composite resources get their composed resources,
// which become Synced and Ready.
//
// It is demo and test code: nothing a user runs against a real cluster
// depends on it.
package sim

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/dynamic"
)

// Snapshot is the GitOps repository at one commit.
type Snapshot struct {
	Revision string
	Files    map[string][]byte
}

// Failure is how one application goes wrong once synced.
type Failure struct {
	// Health is the application's health, e.g. "Degraded".
	Health string
	// Message is the health message Argo CD shows, e.g. a Deployment's
	// progress-deadline condition.
	Message string
}

// Options configure a simulator.
type Options struct {
	// Source reads the GitOps repository at its tip.
	Source func(ctx context.Context) (Snapshot, error)
	// RepoURL is the GitOps repository as Applications name it; an
	// Application with that repoURL deploys a folder of it (an app of apps).
	RepoURL string
	// Resolve maps a kind to its resource and whether it is namespaced.
	Resolve func(schema.GroupVersionKind) (schema.GroupVersionResource, bool, bool)
	// Tick is how often the controllers reconcile (default 1s).
	Tick time.Duration
	// Phase is how long an application stays in each phase, and half of how
	// long a managed resource takes to become ready (default 2s).
	Phase time.Duration
	// Failures are applications that go wrong, by name.
	Failures map[string]Failure
	// Namespace is Argo CD's namespace (default "argocd").
	Namespace string
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Paused, when it returns true, stops the controllers for a tick (the
	// cluster they run on is stopped).
	Paused func() bool
}

// Sim is the simulator. Run drives it; Step runs one reconcile pass.
type Sim struct {
	dyn  dynamic.Interface
	opts Options

	mu    sync.Mutex
	apps  map[string]*appState // by namespace/name
	snap  Snapshot
	err   error
	event int
}

// appState is what the simulated controller remembers of one Application.
type appState struct {
	phase  string // outOfSync, syncing, progressing, done
	since  time.Time
	synced string // hash of the desired state last synced
	health string
	manual bool // a sync requested through .operation
}

// New returns a simulator over dyn.
func New(dyn dynamic.Interface, opts Options) *Sim {
	if opts.Tick <= 0 {
		opts.Tick = time.Second
	}
	if opts.Phase <= 0 {
		opts.Phase = 2 * time.Second
	}
	if opts.Namespace == "" {
		opts.Namespace = "argocd"
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Sim{dyn: dyn, opts: opts, apps: map[string]*appState{}}
}

// Run reconciles every Tick until ctx ends. A failed pass is kept (Err) and
// retried on the next tick, as a controller would.
func (s *Sim) Run(ctx context.Context) error {
	t := time.NewTicker(s.opts.Tick)
	defer t.Stop()
	for {
		if s.opts.Paused == nil || !s.opts.Paused() {
			err := s.safeStep(ctx)
			s.mu.Lock()
			s.err = err
			s.mu.Unlock()
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// safeStep runs Step, turning a panic into an error: client-go's fake
// watchers panic when a reader falls 100 events behind, and the demo must
// not die of it (the next pass writes the state again).
func (s *Sim) safeStep(ctx context.Context) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("simulator pass: %v", r)
		}
	}()
	return s.Step(ctx)
}

// Err is the last pass's error, if any.
func (s *Sim) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Step runs one pass of both controllers.
func (s *Sim) Step(ctx context.Context) error {
	if s.opts.Source != nil {
		snap, err := s.opts.Source(ctx)
		if err != nil {
			return fmt.Errorf("read the GitOps repository: %w", err)
		}
		s.snap = snap
	}
	return errors.Join(s.reconcileApps(ctx), s.reconcilePackages(ctx), s.reconcileComposites(ctx))
}

// Apply creates or updates the objects of a YAML stream, as kubectl apply
// would for a bootstrap step (e.g. bootstrap/root.yaml).
func (s *Sim) Apply(ctx context.Context, data []byte) error {
	objs, err := Decode(data)
	if err != nil {
		return err
	}
	for _, o := range objs {
		if err := s.upsert(ctx, o, ""); err != nil {
			return err
		}
	}
	return nil
}

// Decode reads the objects of a multi-document YAML stream.
func Decode(data []byte) ([]*unstructured.Unstructured, error) {
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var out []*unstructured.Unstructured
	for {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return nil, err
		}
		if len(m) == 0 {
			continue
		}
		out = append(out, &unstructured.Unstructured{Object: m})
	}
}

// aliases are kinds stored under another version, as an API server with
// several served versions stores one.
var aliases = map[schema.GroupVersionKind]schema.GroupVersionKind{
	{Group: "apiextensions.crossplane.io", Version: "v2", Kind: "CompositeResourceDefinition"}: {Group: "apiextensions.crossplane.io", Version: "v1", Kind: "CompositeResourceDefinition"},
}

func (s *Sim) resource(o *unstructured.Unstructured) (dynamic.ResourceInterface, error) {
	gvk := o.GroupVersionKind()
	if a, ok := aliases[gvk]; ok {
		o.SetAPIVersion(a.GroupVersion().String())
		gvk = a
	}
	gvr, namespaced, ok := s.opts.Resolve(gvk)
	if !ok {
		return nil, fmt.Errorf("the server could not find the requested resource (%s %s)", gvk.GroupVersion(), gvk.Kind)
	}
	if !namespaced {
		o.SetNamespace("")
		return s.dyn.Resource(gvr), nil
	}
	if o.GetNamespace() == "" {
		o.SetNamespace("default")
	}
	return s.dyn.Resource(gvr).Namespace(o.GetNamespace()), nil
}

// upsert creates o, or replaces the spec of what is there, keeping status.
// tracking, when set, is the Application that owns it (annotation tracking).
func (s *Sim) upsert(ctx context.Context, o *unstructured.Unstructured, tracking string) error {
	o = o.DeepCopy()
	ri, err := s.resource(o)
	if err != nil {
		return err
	}
	if tracking != "" {
		ann := o.GetAnnotations()
		if ann == nil {
			ann = map[string]string{}
		}
		ann[TrackingAnnotation] = trackingID(tracking, o)
		o.SetAnnotations(ann)
	}
	cur, err := ri.Get(ctx, o.GetName(), metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		_, err = ri.Create(ctx, o, metav1.CreateOptions{})
		return err
	case err != nil:
		return err
	}
	next := cur.DeepCopy()
	for k, v := range o.Object {
		if k != "status" && k != "metadata" {
			next.Object[k] = v
		}
	}
	next.SetLabels(o.GetLabels())
	next.SetAnnotations(mergeAnnotations(cur.GetAnnotations(), o.GetAnnotations()))
	if equalJSON(cur.Object, next.Object) {
		return nil
	}
	_, err = ri.Update(ctx, next, metav1.UpdateOptions{})
	return err
}

// mergeAnnotations keeps annotations controllers set (refresh) under those
// from Git.
func mergeAnnotations(cur, want map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range cur {
		if k == RefreshAnnotation {
			out[k] = v
		}
	}
	for k, v := range want {
		out[k] = v
	}
	return out
}

// TrackingAnnotation is Argo CD's annotation resource tracking.
const TrackingAnnotation = "argocd.argoproj.io/tracking-id"

// RefreshAnnotation asks the controller to compare with Git now.
const RefreshAnnotation = "argocd.argoproj.io/refresh"

func trackingID(app string, o *unstructured.Unstructured) string {
	gvk := o.GroupVersionKind()
	return fmt.Sprintf("%s:%s/%s:%s/%s", app, gvk.Group, gvk.Kind, o.GetNamespace(), o.GetName())
}

// store writes next: its spec and metadata with Update and, for a kind with
// a status subresource (where Update leaves status alone), its status with
// UpdateStatus, as a controller does.
func store(ctx context.Context, ri dynamic.ResourceInterface, next *unstructured.Unstructured) error {
	out, err := ri.Update(ctx, next, metav1.UpdateOptions{})
	if err != nil {
		return err
	}
	want, ok := next.Object["status"]
	if !ok || equalJSON(map[string]any{"s": want}, map[string]any{"s": out.Object["status"]}) {
		return nil
	}
	out.Object["status"] = want
	_, err = ri.UpdateStatus(ctx, out, metav1.UpdateOptions{})
	if apierrors.IsNotFound(err) {
		return nil // no status subresource: Update wrote it
	}
	return err
}

func equalJSON(a, b map[string]any) bool {
	return fmt.Sprint(a) == fmt.Sprint(b) // maps print sorted by key
}

func hashOf(parts ...[]byte) string {
	h := sha1.New()
	for _, p := range parts {
		h.Write(p)
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Folder is the snapshot's files under dir, in path order.
func (snap Snapshot) Folder(dir string) []string {
	dir = strings.Trim(path.Clean(dir), "/")
	var out []string
	for p := range snap.Files {
		if dir == "." || dir == "" || strings.HasPrefix(p, dir+"/") {
			if ext := path.Ext(p); ext == ".yaml" || ext == ".yml" || ext == ".json" {
				out = append(out, p)
			}
		}
	}
	sort.Strings(out)
	return out
}

func (s *Sim) now() time.Time { return s.opts.Now().UTC() }

func ts(t time.Time) string { return t.UTC().Format(time.RFC3339) }
