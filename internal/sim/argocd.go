package sim

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Applications is Argo CD's Application resource.
var Applications = schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "applications"}

var eventGVK = schema.GroupVersionKind{Version: "v1", Kind: "Event"}

// Argo CD's phases of an application, as the simulator walks them.
const (
	phaseNew         = ""
	phaseOutOfSync   = "outOfSync"
	phaseSyncing     = "syncing"
	phaseProgressing = "progressing"
	phaseDone        = "done"
)

// desired is what Git says an application should deploy.
type desired struct {
	hash      string
	revision  string
	objects   []*unstructured.Unstructured // for an app of apps
	resources []map[string]any             // status.resources entries
	folder    bool
	err       error
}

func (s *Sim) reconcileApps(ctx context.Context) error {
	list, err := s.dyn.Resource(Applications).List(ctx, metav1.ListOptions{})
	if err != nil {
		if apierrors.IsNotFound(err) {
			return nil
		}
		return err
	}
	var errs []error
	seen := map[string]bool{}
	for i := range list.Items {
		app := &list.Items[i]
		key := app.GetNamespace() + "/" + app.GetName()
		seen[key] = true
		if err := s.reconcileApp(ctx, app); err != nil {
			errs = append(errs, fmt.Errorf("application %s: %w", key, err))
		}
	}
	s.mu.Lock()
	for k := range s.apps {
		if !seen[k] {
			delete(s.apps, k)
		}
	}
	s.mu.Unlock()
	return errors.Join(errs...)
}

func (s *Sim) state(app *unstructured.Unstructured) *appState {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := app.GetNamespace() + "/" + app.GetName()
	st, ok := s.apps[key]
	if !ok {
		st = &appState{}
		s.apps[key] = st
	}
	return st
}

func (s *Sim) reconcileApp(ctx context.Context, app *unstructured.Unstructured) error {
	st := s.state(app)
	want := s.desired(app)
	now := s.now()
	next := app.DeepCopy()
	_, operation := app.Object["operation"].(map[string]any)
	refresh := app.GetAnnotations()[RefreshAnnotation] != ""
	if refresh {
		ann := next.GetAnnotations()
		delete(ann, RefreshAnnotation)
		next.SetAnnotations(ann)
		unstructured.SetNestedField(next.Object, ts(now), "status", "reconciledAt")
	}

	switch st.phase {
	case phaseNew, phaseDone, phaseOutOfSync:
		if st.phase != phaseOutOfSync && (st.synced != want.hash || want.err != nil) {
			st.phase, st.since = phaseOutOfSync, now
			s.setStatus(next, st, want, "OutOfSync", now)
			s.record(ctx, app, "Normal", "ResourceUpdated", fmt.Sprintf("Updated sync status: %s -> OutOfSync", orUnknown(syncOf(app))))
		}
		if operation || (st.phase == phaseOutOfSync && automated(app) && now.Sub(st.since) >= s.opts.Phase) {
			st.manual = operation
			st.phase, st.since = phaseSyncing, now
			delete(next.Object, "operation")
			s.startOperation(next, app, want, now)
			s.record(ctx, app, "Normal", "OperationStarted", s.initiated(app, want))
		}
	case phaseSyncing:
		if now.Sub(st.since) < s.opts.Phase {
			break
		}
		if err := s.sync(ctx, app, want); err != nil {
			s.finishOperation(next, want, "Failed", "one or more objects failed to apply, reason: "+err.Error(), now)
			st.phase, st.since = phaseOutOfSync, now
			s.setStatus(next, st, want, "OutOfSync", now)
			s.record(ctx, app, "Warning", "OperationCompleted", fmt.Sprintf("Sync operation to %s failed: %v", want.revision, err))
			break
		}
		st.synced, st.health = want.hash, "Progressing"
		st.phase, st.since = phaseProgressing, now
		s.finishOperation(next, want, "Succeeded", "successfully synced (all tasks run)", now)
		s.setStatus(next, st, want, "Synced", now)
		s.record(ctx, app, "Normal", "OperationCompleted", fmt.Sprintf("Sync operation to %s succeeded", want.revision))
		s.record(ctx, app, "Normal", "ResourceUpdated", "Updated health status: Missing -> Progressing")
	case phaseProgressing:
		if now.Sub(st.since) < s.opts.Phase*3/2 {
			break
		}
		st.phase, st.since = phaseDone, now
		s.settle(ctx, app, next, st, want, now)
	}
	if st.phase == phaseDone {
		s.settle(ctx, app, next, st, want, now)
	}
	if equalJSON(app.Object, next.Object) {
		return nil
	}
	// A conflict means it changed meanwhile; the next pass sees it.
	return ignoreConflict(store(ctx, s.dyn.Resource(Applications).Namespace(app.GetNamespace()), next))
}

// settle writes the health an application ends in: a failure's, its
// children's for an app of apps, else Healthy.
func (s *Sim) settle(ctx context.Context, app, next *unstructured.Unstructured, st *appState, want desired, now time.Time) {
	health, msg := "Healthy", ""
	if f, ok := s.opts.Failures[app.GetName()]; ok && !want.folder {
		health, msg = f.Health, f.Message
	}
	if want.folder {
		health, msg = s.childHealth(ctx, want)
	}
	if health != st.health {
		s.record(ctx, app, eventType(health), "ResourceUpdated", fmt.Sprintf("Updated health status: %s -> %s", st.health, health))
		st.health = health
	}
	s.setStatus(next, st, want, "Synced", now)
	if msg != "" {
		unstructured.SetNestedField(next.Object, msg, "status", "health", "message")
	}
}

func eventType(health string) string {
	if health == "Degraded" || health == "Missing" {
		return "Warning"
	}
	return "Normal"
}

// desired reads what an application should deploy: a folder of the GitOps
// repository (an app of apps), or a service's own repository, which the
// simulator stands in for with a Deployment and a Service.
func (s *Sim) desired(app *unstructured.Unstructured) desired {
	repo, _, _ := unstructured.NestedString(app.Object, "spec", "source", "repoURL")
	dir, _, _ := unstructured.NestedString(app.Object, "spec", "source", "path")
	ns, _, _ := unstructured.NestedString(app.Object, "spec", "destination", "namespace")
	if s.opts.RepoURL != "" && sameRepo(repo, s.opts.RepoURL) && dir != "" {
		d := desired{folder: true, revision: s.snap.Revision}
		var parts [][]byte
		for _, p := range s.snap.Folder(dir) {
			parts = append(parts, []byte(p), s.snap.Files[p])
			objs, err := Decode(s.snap.Files[p])
			if err != nil {
				d.err = fmt.Errorf("%s: %w", p, err)
				continue
			}
			for _, o := range objs {
				if o.GetNamespace() == "" && ns != "" {
					o.SetNamespace(ns)
				}
				d.objects = append(d.objects, o)
				gvk := o.GroupVersionKind()
				d.resources = append(d.resources, map[string]any{
					"group": gvk.Group, "version": gvk.Version, "kind": gvk.Kind,
					"namespace": o.GetNamespace(), "name": o.GetName(),
				})
			}
		}
		d.hash = hashOf(parts...)
		return d
	}
	name := app.GetName()
	spec, _ := app.Object["spec"].(map[string]any)
	d := desired{hash: hashOf([]byte(fmt.Sprint(spec["source"]))), revision: hashOf([]byte(repo), []byte(dir))}
	d.resources = []map[string]any{
		{"group": "", "version": "v1", "kind": "Service", "namespace": ns, "name": name},
		{"group": "apps", "version": "v1", "kind": "Deployment", "namespace": ns, "name": name},
	}
	return d
}

func sameRepo(a, b string) bool {
	norm := func(s string) string { return strings.TrimSuffix(strings.TrimSuffix(s, "/"), ".git") }
	return norm(a) == norm(b)
}

func automated(app *unstructured.Unstructured) bool {
	_, ok, _ := unstructured.NestedMap(app.Object, "spec", "syncPolicy", "automated")
	return ok
}

func syncOf(app *unstructured.Unstructured) string {
	s, _, _ := unstructured.NestedString(app.Object, "status", "sync", "status")
	return s
}

func orUnknown(s string) string {
	if s == "" {
		return "Unknown"
	}
	return s
}

// sync applies an app of apps' objects (and prunes what it no longer
// holds, if its policy says so); a service app has nothing to apply here.
func (s *Sim) sync(ctx context.Context, app *unstructured.Unstructured, want desired) error {
	if want.err != nil {
		return want.err
	}
	if !want.folder {
		return nil
	}
	keep := map[string]bool{}
	for _, o := range want.objects {
		if err := s.upsert(ctx, o, app.GetName()); err != nil {
			return fmt.Errorf("%s %s: %w", o.GetKind(), o.GetName(), err)
		}
		keep[trackingID(app.GetName(), o)] = true
	}
	if prune, _, _ := unstructured.NestedBool(app.Object, "spec", "syncPolicy", "automated", "prune"); prune {
		return s.prune(ctx, app.GetName(), keep)
	}
	return nil
}

// prune deletes the Applications this app created that Git no longer holds.
func (s *Sim) prune(ctx context.Context, owner string, keep map[string]bool) error {
	list, err := s.dyn.Resource(Applications).List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	for _, o := range list.Items {
		id := o.GetAnnotations()[TrackingAnnotation]
		if strings.HasPrefix(id, owner+":") && !keep[id] {
			if err := s.dyn.Resource(Applications).Namespace(o.GetNamespace()).Delete(ctx, o.GetName(), metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
				return err
			}
		}
	}
	return nil
}

// childHealth is an app of apps' health: the worst of its children's, as
// Argo CD computes it with the Application health check idp's manifests add.
func (s *Sim) childHealth(ctx context.Context, want desired) (string, string) {
	worst, msg := "Healthy", ""
	for _, o := range want.objects {
		h, m := s.objectHealth(ctx, o)
		if healthRank(h) > healthRank(worst) {
			worst, msg = h, m
		}
	}
	return worst, msg
}

func (s *Sim) objectHealth(ctx context.Context, o *unstructured.Unstructured) (string, string) {
	ri, err := s.resource(o.DeepCopy())
	if err != nil {
		return "Missing", ""
	}
	cur, err := ri.Get(ctx, o.GetName(), metav1.GetOptions{})
	if err != nil {
		return "Missing", ""
	}
	if cur.GroupVersionKind().Group == Applications.Group && cur.GetKind() == "Application" {
		h, _, _ := unstructured.NestedString(cur.Object, "status", "health", "status")
		if h == "" || h == "Missing" || h == "Unknown" {
			return "Progressing", ""
		}
		if h != "Healthy" {
			return h, fmt.Sprintf("application %s is %s", cur.GetName(), h)
		}
		return h, ""
	}
	if st, msg, ok := condition(cur, "Ready"); ok && st != "True" {
		return "Progressing", msg
	}
	return "Healthy", ""
}

func healthRank(h string) int {
	switch h {
	case "Healthy":
		return 0
	case "Suspended":
		return 1
	case "Progressing":
		return 2
	case "Missing":
		return 3
	case "Degraded":
		return 4
	}
	return 5
}

// setStatus writes sync, health and the resource list.
func (s *Sim) setStatus(next *unstructured.Unstructured, st *appState, want desired, sync string, now time.Time) {
	health := st.health
	if health == "" {
		health = "Missing"
	}
	status, _ := next.Object["status"].(map[string]any)
	if status == nil {
		status = map[string]any{}
		next.Object["status"] = status
	}
	src, _ := next.Object["spec"].(map[string]any)
	status["sync"] = map[string]any{
		"status": sync, "revision": want.revision,
		"comparedTo": map[string]any{"source": src["source"], "destination": src["destination"]},
	}
	status["health"] = map[string]any{"status": health}
	res := make([]any, 0, len(want.resources))
	for _, r := range want.resources {
		e := map[string]any{}
		for k, v := range r {
			e[k] = v
		}
		e["status"] = sync
		rh := map[string]any{"status": health}
		if sync != "Synced" {
			rh["status"] = "Missing"
		}
		if f, ok := s.opts.Failures[next.GetName()]; ok && health == f.Health && e["kind"] == "Deployment" {
			rh["message"] = f.Message
		}
		if e["kind"] != "Service" || sync != "Synced" {
			e["health"] = rh
		} else {
			e["health"] = map[string]any{"status": "Healthy"}
		}
		res = append(res, e)
	}
	status["resources"] = res
	if _, ok := status["reconciledAt"]; !ok || st.phase != phaseDone {
		status["reconciledAt"] = ts(now)
	}
}

func (s *Sim) initiated(app *unstructured.Unstructured, want desired) string {
	if op, ok := app.Object["operation"].(map[string]any); ok {
		user, _, _ := unstructured.NestedString(op, "initiatedBy", "username")
		if user == "" {
			user = "Unknown user"
		}
		return fmt.Sprintf("%s initiated sync to %s", user, short(want.revision))
	}
	return fmt.Sprintf("Initiated automated sync to '%s'", want.revision)
}

func (s *Sim) startOperation(next, app *unstructured.Unstructured, want desired, now time.Time) {
	initiatedBy := map[string]any{"automated": true}
	if op, ok := app.Object["operation"].(map[string]any); ok {
		if by, ok := op["initiatedBy"].(map[string]any); ok {
			initiatedBy = by
		}
	}
	unstructured.SetNestedField(next.Object, map[string]any{
		"operation": map[string]any{"sync": map[string]any{"revision": want.revision}, "initiatedBy": initiatedBy},
		"phase":     "Running", "message": "syncing", "startedAt": ts(now),
	}, "status", "operationState")
}

func (s *Sim) finishOperation(next *unstructured.Unstructured, want desired, phase, message string, now time.Time) {
	results := make([]any, 0, len(want.resources))
	for _, r := range want.resources {
		verb := "created"
		if phase != "Succeeded" {
			verb = "not applied"
		}
		results = append(results, map[string]any{
			"group": r["group"], "version": r["version"], "kind": r["kind"], "namespace": r["namespace"], "name": r["name"],
			"status":  map[bool]string{true: "Synced", false: "SyncFailed"}[phase == "Succeeded"],
			"message": fmt.Sprintf("%s/%s %s", strings.ToLower(fmt.Sprint(r["kind"])), r["name"], verb), "syncPhase": "Sync",
		})
	}
	op, _, _ := unstructured.NestedMap(next.Object, "status", "operationState")
	if op == nil {
		op = map[string]any{}
	}
	op["phase"], op["message"], op["finishedAt"] = phase, message, ts(now)
	op["syncResult"] = map[string]any{"revision": want.revision, "resources": results}
	unstructured.SetNestedField(next.Object, op, "status", "operationState")
}

func short(rev string) string {
	if len(rev) > 7 {
		return rev[:7]
	}
	return rev
}

// record writes a Kubernetes Event about an application, as Argo CD's
// controller does. Events are best effort there too.
func (s *Sim) record(ctx context.Context, app *unstructured.Unstructured, typ, reason, message string) {
	gvr, _, ok := s.opts.Resolve(eventGVK)
	if !ok {
		return
	}
	s.mu.Lock()
	s.event++
	n := s.event
	s.mu.Unlock()
	now := ts(s.now())
	ev := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Event",
		"metadata": map[string]any{"name": fmt.Sprintf("%s.%x%04x", app.GetName(), s.now().UnixNano(), n), "namespace": app.GetNamespace()},
		"involvedObject": map[string]any{
			"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
			"name": app.GetName(), "namespace": app.GetNamespace(), "uid": string(app.GetUID()),
		},
		"type": typ, "reason": reason, "message": message, "count": int64(1),
		"firstTimestamp": now, "lastTimestamp": now,
		"source": map[string]any{"component": "argocd-application-controller"},
	}}
	_, _ = s.dyn.Resource(gvr).Namespace(app.GetNamespace()).Create(ctx, ev, metav1.CreateOptions{})
}
