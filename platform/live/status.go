package live

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/back-stack/idp/platform/argocd"
	"github.com/back-stack/idp/platform/crossplane"
	"github.com/back-stack/idp/platform/environment"
	"github.com/back-stack/idp/platform/kyverno"
	"github.com/back-stack/idp/platform/watch"
)

// Snapshot is the state `idp status` prints: the same data the live views
// show, at one moment.
type Snapshot struct {
	Applications []argocd.App `json:"applications"`
	// Application is set when one application was asked for.
	Application *AppDetail `json:"application,omitempty"`
	Composites  []Tree     `json:"composites"`
	// Sources says, per kind, whether it could be read: a forbidden kind
	// is reported here rather than shown as empty.
	Sources []Source `json:"sources"`
}

// AppDetail is one application with what belongs to it.
type AppDetail struct {
	argocd.App
	Policy *kyverno.Summary   `json:"policy,omitempty"`
	Events []argocd.KubeEvent `json:"events"`
}

// Tree is a Crossplane tree with its deepest failure named.
type Tree struct {
	Root    *crossplane.Node `json:"root"`
	Failure *Failure         `json:"failure,omitempty"`
}

// Failure is the deepest failing node of a tree and why.
type Failure struct {
	crossplane.Ref
	Condition crossplane.Condition `json:"condition"`
}

// Source is one kind's state.
type Source struct {
	Source string      `json:"source"`
	State  watch.State `json:"state"`
	Error  string      `json:"error,omitempty"`
}

// StatusOptions select what Status collects.
type StatusOptions struct {
	// App is "name" or "namespace/name"; empty for every application.
	App    string
	Filter argocd.Filter
}

// ErrNotFound is returned when the application asked for does not exist.
var ErrNotFound = errors.New("application not found")

// collector gathers the streams' events until every source has settled.
type collector struct {
	apps    map[string]argocd.App
	appSrc  map[string]watch.Status
	xp      *crossplane.State
	reports map[string]kyverno.Report
	repSrc  map[string]watch.Status
	events  map[string]argocd.KubeEvent
	evSrc   map[string]watch.Status
}

func newCollector() *collector {
	return &collector{
		apps: map[string]argocd.App{}, appSrc: map[string]watch.Status{}, xp: crossplane.NewState(),
		reports: map[string]kyverno.Report{}, repSrc: map[string]watch.Status{},
		events: map[string]argocd.KubeEvent{}, evSrc: map[string]watch.Status{},
	}
}

func settled(srcs map[string]watch.Status) bool {
	for _, st := range srcs {
		if st.State == watch.Loading {
			return false
		}
	}
	return len(srcs) > 0
}

func apply[T any](objs map[string]T, srcs map[string]watch.Status, ev watch.Event[T]) {
	switch ev.Type {
	case watch.Upserted:
		objs[ev.Source+"|"+ev.Key] = ev.Object
	case watch.Deleted:
		delete(objs, ev.Source+"|"+ev.Key)
	case watch.StatusChanged:
		srcs[ev.Source] = ev.Status
	}
}

// streams are the channels Status and Follow read.
type streams struct {
	apps    <-chan argocd.Event
	xp      <-chan crossplane.Event
	reports <-chan kyverno.Event
	events  <-chan watch.Event[argocd.KubeEvent]
}

// Status collects a snapshot: it watches until every source has its first
// list (or has failed, say as forbidden), then returns. ctx bounds the wait.
func (c *Client) Status(ctx context.Context, env environment.Environment, opts StatusOptions) (Snapshot, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	col, _, err := c.collect(ctx, env, opts)
	if err != nil {
		return Snapshot{}, err
	}
	return col.snapshot(opts)
}

// Change is one update Follow reports.
type Change struct {
	// Type is "application", "composite" or "source".
	Type        string      `json:"type"`
	Deleted     bool        `json:"deleted,omitempty"`
	Application *argocd.App `json:"application,omitempty"`
	Composite   *Tree       `json:"composite,omitempty"`
	Source      *Source     `json:"source,omitempty"`
}

// Follow collects the snapshot like Status, hands it to first, then calls
// change for every later change to the applications asked for, the
// Crossplane trees and the sources' states, until ctx ends or a callback
// fails.
func (c *Client) Follow(ctx context.Context, env environment.Environment, opts StatusOptions, first func(Snapshot) error, change func(Change) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	col, s, err := c.collect(ctx, env, opts)
	if err != nil {
		return err
	}
	snap, err := col.snapshot(opts)
	if err != nil {
		return err
	}
	if err := first(snap); err != nil {
		return err
	}
	trees := map[string]string{} // root key -> last reported rendering, to report changed trees only
	for _, t := range snap.Composites {
		trees[t.Root.Key()] = fmt.Sprintf("%+v", t)
	}
	for {
		var out []Change
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-s.apps:
			if !ok {
				return nil
			}
			apply(col.apps, col.appSrc, ev)
			out = appChange(ev, opts)
		case ev, ok := <-s.xp:
			if !ok {
				return nil
			}
			col.xp.Apply(ev)
			out = treeChanges(col.xp, trees, ev)
		}
		for _, ch := range out {
			if err := change(ch); err != nil {
				return err
			}
		}
	}
}

func appChange(ev argocd.Event, opts StatusOptions) []Change {
	if ev.Type == watch.StatusChanged {
		return []Change{{Type: "source", Source: &Source{Source: ev.Source, State: ev.Status.State, Error: errString(ev.Status.Err)}}}
	}
	a := ev.Object
	if !wanted(&a, opts) {
		return nil
	}
	return []Change{{Type: "application", Deleted: ev.Type == watch.Deleted, Application: &a}}
}

func treeChanges(xp *crossplane.State, last map[string]string, ev crossplane.Event) []Change {
	if ev.Type == watch.StatusChanged {
		return []Change{{Type: "source", Source: &Source{Source: ev.Source, State: ev.Status.State, Error: errString(ev.Status.Err)}}}
	}
	if !xp.Settled() {
		return nil
	}
	var out []Change
	seen := map[string]bool{}
	for _, t := range xp.Trees() {
		tr := tree(t)
		k := t.Root.Key()
		seen[k] = true
		if r := fmt.Sprintf("%+v", tr); last[k] != r {
			last[k] = r
			out = append(out, Change{Type: "composite", Composite: &tr})
		}
	}
	for k := range last {
		if !seen[k] {
			delete(last, k)
			out = append(out, Change{Type: "composite", Deleted: true, Composite: &Tree{Root: &crossplane.Node{Object: crossplane.Object{Ref: refFromKey(k)}}}})
		}
	}
	return out
}

// refFromKey turns a crossplane Ref.Key back into a reference for a deletion.
func refFromKey(k string) crossplane.Ref {
	parts := strings.SplitN(k, "/", 3)
	if len(parts) != 3 {
		return crossplane.Ref{Name: k}
	}
	kind, group, _ := strings.Cut(parts[0], ".")
	return crossplane.Ref{APIVersion: group, Kind: kind, Namespace: parts[1], Name: parts[2]}
}

func (c *Client) collect(ctx context.Context, env environment.Environment, opts StatusOptions) (*collector, streams, error) {
	p, err := c.pool(env)
	if err != nil {
		return nil, streams{}, err
	}
	s := streams{apps: argocd.Watch(ctx, p, fallbackNamespaces(env)...), xp: crossplane.Watch(ctx, p)}
	if opts.App != "" {
		s.reports = kyverno.Watch(ctx, p)
	}
	col := newCollector()
	wait := func(done func() bool) error {
		for !done() {
			select {
			case <-ctx.Done():
				return fmt.Errorf("waiting for the cluster: %w (%s)", ctx.Err(), col.pending())
			case ev := <-s.apps:
				apply(col.apps, col.appSrc, ev)
			case ev := <-s.xp:
				col.xp.Apply(ev)
			case ev := <-s.reports:
				apply(col.reports, col.repSrc, ev)
			case ev := <-s.events:
				apply(col.events, col.evSrc, ev)
			}
		}
		return nil
	}
	err = wait(func() bool {
		return settled(col.appSrc) && col.xp.Settled() && (s.reports == nil || settled(col.repSrc))
	})
	if err != nil || opts.App == "" {
		return col, s, err
	}
	a, err := col.find(opts.App)
	if err != nil {
		return nil, s, err
	}
	s.events = argocd.WatchEvents(ctx, p, a.Namespace, a.Name)
	return col, s, wait(func() bool { return settled(col.evSrc) })
}

// pending names the sources still loading, for a timeout error.
func (col *collector) pending() string {
	var names []string
	for _, srcs := range []map[string]watch.Status{col.appSrc, col.xp.Sources(), col.repSrc, col.evSrc} {
		for n, st := range srcs {
			if st.State == watch.Loading {
				names = append(names, n)
			}
		}
	}
	slices.Sort(names)
	if len(names) == 0 {
		return "nothing answered"
	}
	return "still loading: " + strings.Join(names, ", ")
}

// find looks an application up by "name" or "namespace/name".
func (col *collector) find(ref string) (argocd.App, error) {
	ns, name, qualified := strings.Cut(ref, "/")
	if !qualified {
		ns, name = "", ref
	}
	var found []argocd.App
	for _, a := range col.apps {
		if a.Name == name && (!qualified || a.Namespace == ns) {
			found = append(found, a)
		}
	}
	switch len(found) {
	case 0:
		if st := col.appSrc[argocd.Spec("").String()]; st.State != watch.Live {
			return argocd.App{}, fmt.Errorf("%s: %w; applications are %s", ref, ErrNotFound, st)
		}
		return argocd.App{}, fmt.Errorf("%s: %w", ref, ErrNotFound)
	case 1:
		return found[0], nil
	}
	var where []string
	for _, a := range found {
		where = append(where, a.Key())
	}
	slices.Sort(where)
	return argocd.App{}, fmt.Errorf("%s is ambiguous: %s; name it as namespace/name", ref, strings.Join(where, ", "))
}

func wanted(a *argocd.App, opts StatusOptions) bool {
	if opts.App != "" {
		ns, name, qualified := strings.Cut(opts.App, "/")
		if !qualified {
			return a.Name == opts.App
		}
		return a.Namespace == ns && a.Name == name
	}
	return opts.Filter.Match(a)
}

func (col *collector) snapshot(opts StatusOptions) (Snapshot, error) {
	snap := Snapshot{Applications: []argocd.App{}, Composites: []Tree{}}
	all := make([]*argocd.App, 0, len(col.apps))
	for _, a := range col.apps {
		a := a
		all = append(all, &a)
	}
	for _, a := range argocd.Select(all, opts.Filter, argocd.ByName) {
		if wanted(a, opts) {
			snap.Applications = append(snap.Applications, *a)
		}
	}
	for _, t := range col.xp.Trees() {
		snap.Composites = append(snap.Composites, tree(t))
	}
	if opts.App != "" {
		a, err := col.find(opts.App)
		if err != nil {
			return Snapshot{}, err
		}
		detail := &AppDetail{App: a, Events: []argocd.KubeEvent{}}
		if settled(col.repSrc) && col.repSrc[kyverno.PolicyReports.GroupResource().String()].State == watch.Live {
			keys := map[kyverno.Key]bool{}
			for _, r := range a.Resources {
				keys[kyverno.Key{Group: r.Group, Kind: r.Kind, Namespace: r.Namespace, Name: r.Name}] = true
			}
			reports := make([]kyverno.Report, 0, len(col.reports))
			for _, r := range col.reports {
				reports = append(reports, r)
			}
			s := kyverno.Summarize(reports, keys)
			detail.Policy = &s
		}
		for _, e := range col.events {
			detail.Events = append(detail.Events, e)
		}
		slices.SortFunc(detail.Events, func(x, y argocd.KubeEvent) int { return y.Last.Compare(x.Last) })
		snap.Application = detail
		// Only the trees of the application's own composites and claims.
		mine := map[string]bool{}
		for _, r := range a.Resources {
			mine[crossplane.Ref{APIVersion: r.APIVersion(), Kind: r.Kind, Namespace: r.Namespace, Name: r.Name}.Key()] = true
		}
		snap.Composites = slices.DeleteFunc(snap.Composites, func(t Tree) bool { return !mine[t.Root.Key()] })
	}
	for _, srcs := range []map[string]watch.Status{col.appSrc, col.xp.Sources(), col.repSrc, col.evSrc} {
		for n, st := range srcs {
			snap.Sources = append(snap.Sources, Source{Source: n, State: st.State, Error: errString(st.Err)})
		}
	}
	slices.SortFunc(snap.Sources, func(a, b Source) int { return strings.Compare(a.Source, b.Source) })
	return snap, nil
}

func tree(t crossplane.Tree) Tree {
	out := Tree{Root: t.Root}
	if t.Failure != nil {
		out.Failure = &Failure{Ref: t.Failure.Ref, Condition: t.Failure.Reason()}
	}
	return out
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
