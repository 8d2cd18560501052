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
	"k8s.io/client-go/dynamic"
)

// Crossplane's own resources.
var (
	XRDs         = schema.GroupVersionResource{Group: "apiextensions.crossplane.io", Version: "v1", Resource: "compositeresourcedefinitions"}
	Compositions = schema.GroupVersionResource{Group: "apiextensions.crossplane.io", Version: "v1", Resource: "compositions"}
)

// Crossplane packages.
var (
	Providers = schema.GroupVersionResource{Group: "pkg.crossplane.io", Version: "v1", Resource: "providers"}
	Functions = schema.GroupVersionResource{Group: "pkg.crossplane.io", Version: "v1", Resource: "functions"}
)

// reconcilePackages installs providers and functions: Installed at once,
// Healthy once they have existed for a phase, as the package manager
// reports them.
func (s *Sim) reconcilePackages(ctx context.Context) error {
	now := s.now()
	var errs []error
	for _, gvr := range []schema.GroupVersionResource{Providers, Functions} {
		list, err := s.dyn.Resource(gvr).List(ctx, metav1.ListOptions{})
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for i := range list.Items {
			pkg := &list.Items[i]
			next := pkg.DeepCopy()
			setCondition(next, "Installed", "True", "ActivePackageRevision", "", now)
			if now.Sub(pkg.GetCreationTimestamp().Time) >= s.opts.Phase {
				setCondition(next, "Healthy", "True", "HealthyPackageRevision", "", now)
			} else {
				setCondition(next, "Healthy", "Unknown", "UnknownPackageRevisionHealth", "", now)
			}
			if !equalJSON(pkg.Object, next.Object) {
				errs = append(errs, ignoreConflict(store(ctx, s.dyn.Resource(gvr), next)))
			}
		}
	}
	return errors.Join(errs...)
}

// composedResource is one entry of a composition: its name and base object.
type composedResource struct {
	name    string
	base    map[string]any
	patches []any
}

func (s *Sim) reconcileComposites(ctx context.Context) error {
	xrds, err := s.dyn.Resource(XRDs).List(ctx, metav1.ListOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	comps, err := s.dyn.Resource(Compositions).List(ctx, metav1.ListOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	var errs []error
	for i := range xrds.Items {
		xrd := &xrds.Items[i]
		if err := s.establish(ctx, xrd); err != nil {
			errs = append(errs, err)
		}
		gvk, ok := xrKind(xrd)
		if !ok {
			continue
		}
		gvr, _, ok := s.opts.Resolve(gvk)
		if !ok {
			continue
		}
		xrs, err := s.dyn.Resource(gvr).List(ctx, metav1.ListOptions{})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		v2 := xrd.Object["spec"].(map[string]any)["scope"] != nil
		for j := range xrs.Items {
			if err := s.reconcileXR(ctx, gvr, &xrs.Items[j], comps, v2); err != nil {
				errs = append(errs, fmt.Errorf("%s %s: %w", gvk.Kind, xrs.Items[j].GetName(), err))
			}
		}
	}
	return errors.Join(errs...)
}

// xrKind is the composite resource kind an XRD defines, at its
// referenceable version.
func xrKind(xrd *unstructured.Unstructured) (schema.GroupVersionKind, bool) {
	group, _, _ := unstructured.NestedString(xrd.Object, "spec", "group")
	kind, _, _ := unstructured.NestedString(xrd.Object, "spec", "names", "kind")
	versions, _, _ := unstructured.NestedSlice(xrd.Object, "spec", "versions")
	for _, v := range versions {
		m, _ := v.(map[string]any)
		if ref, _ := m["referenceable"].(bool); ref {
			name, _ := m["name"].(string)
			return schema.GroupVersionKind{Group: group, Version: name, Kind: kind}, group != "" && kind != ""
		}
	}
	return schema.GroupVersionKind{}, false
}

// establish marks an XRD Established and Offered, as Crossplane does once
// it serves the XRD's kinds.
func (s *Sim) establish(ctx context.Context, xrd *unstructured.Unstructured) error {
	if st, _, ok := condition(xrd, "Established"); ok && st == "True" {
		return nil
	}
	next := xrd.DeepCopy()
	now := s.now()
	setCondition(next, "Established", "True", "WatchingCompositeResource", "", now)
	if _, ok, _ := unstructured.NestedMap(next.Object, "spec", "claimNames"); ok {
		setCondition(next, "Offered", "True", "WatchingCompositeResourceClaim", "", now)
	}
	return ignoreConflict(store(ctx, s.dyn.Resource(XRDs), next))
}

func (s *Sim) reconcileXR(ctx context.Context, gvr schema.GroupVersionResource, xr *unstructured.Unstructured, comps *unstructured.UnstructuredList, v2 bool) error {
	now := s.now()
	next := xr.DeepCopy()
	refsPath := []string{"spec", "resourceRefs"}
	if v2 {
		refsPath = []string{"spec", "crossplane", "resourceRefs"}
	}
	resources, comp := composition(xr, comps)
	if comp == "" {
		setCondition(next, "Synced", "False", "ReconcileError",
			fmt.Sprintf("cannot select Composition: no Composition for %s %s", xr.GetAPIVersion(), xr.GetKind()), now)
		setCondition(next, "Ready", "False", "Creating", "", now)
		return s.write(ctx, gvr, xr, next)
	}
	var refs []any
	var unready []string
	for i, r := range resources {
		mr, err := s.compose(ctx, xr, r, comp)
		if err != nil {
			setCondition(next, "Synced", "False", "ReconcileError", fmt.Sprintf("cannot compose resource %q: %v", r.name, err), now)
			return s.write(ctx, gvr, xr, next)
		}
		ref := map[string]any{"apiVersion": mr.GetAPIVersion(), "kind": mr.GetKind(), "name": mr.GetName()}
		if mr.GetNamespace() != "" && v2 {
			ref["namespace"] = mr.GetNamespace()
		}
		refs = append(refs, ref)
		if !s.ready(ctx, mr, i, now) {
			unready = append(unready, r.name)
		}
	}
	unstructured.SetNestedSlice(next.Object, refs, refsPath...)
	if v2 {
		unstructured.SetNestedField(next.Object, map[string]any{"name": comp}, "spec", "crossplane", "compositionRef")
	} else {
		unstructured.SetNestedField(next.Object, map[string]any{"name": comp}, "spec", "compositionRef")
	}
	setCondition(next, "Synced", "True", "ReconcileSuccess", "", now)
	if len(unready) > 0 {
		setCondition(next, "Ready", "False", "Creating", "Unready resources: "+strings.Join(unready, ", "), now)
	} else {
		setCondition(next, "Ready", "True", "Available", "", now)
	}
	return s.write(ctx, gvr, xr, next)
}

func (s *Sim) write(ctx context.Context, gvr schema.GroupVersionResource, cur, next *unstructured.Unstructured) error {
	if equalJSON(cur.Object, next.Object) {
		return nil
	}
	var ri dynamic.ResourceInterface = s.dyn.Resource(gvr)
	if cur.GetNamespace() != "" {
		ri = s.dyn.Resource(gvr).Namespace(cur.GetNamespace())
	}
	return ignoreConflict(store(ctx, ri, next))
}

func ignoreConflict(err error) error {
	if apierrors.IsConflict(err) {
		return nil
	}
	return err
}

// composition finds the Composition for xr's kind and the resources its
// function-patch-and-transform step (or v1 resources list) composes.
func composition(xr *unstructured.Unstructured, comps *unstructured.UnstructuredList) ([]composedResource, string) {
	if comps == nil {
		return nil, ""
	}
	for _, c := range comps.Items {
		api, _, _ := unstructured.NestedString(c.Object, "spec", "compositeTypeRef", "apiVersion")
		kind, _, _ := unstructured.NestedString(c.Object, "spec", "compositeTypeRef", "kind")
		if api != xr.GetAPIVersion() || kind != xr.GetKind() {
			continue
		}
		var list []any
		steps, _, _ := unstructured.NestedSlice(c.Object, "spec", "pipeline")
		for _, st := range steps {
			m, _ := st.(map[string]any)
			if rs, ok, _ := unstructured.NestedSlice(m, "input", "resources"); ok {
				list = append(list, rs...)
			}
		}
		if rs, ok, _ := unstructured.NestedSlice(c.Object, "spec", "resources"); ok {
			list = append(list, rs...)
		}
		var out []composedResource
		for _, r := range list {
			m, _ := r.(map[string]any)
			base, _ := m["base"].(map[string]any)
			name, _ := m["name"].(string)
			patches, _ := m["patches"].([]any)
			if base != nil {
				out = append(out, composedResource{name: name, base: base, patches: patches})
			}
		}
		return out, c.GetName()
	}
	return nil, ""
}

// compose creates (or finds) the managed resource for r.
func (s *Sim) compose(ctx context.Context, xr *unstructured.Unstructured, r composedResource, comp string) (*unstructured.Unstructured, error) {
	mr := (&unstructured.Unstructured{Object: r.base}).DeepCopy()
	for _, p := range r.patches {
		patch(xr, mr, p)
	}
	mr.SetName(xr.GetName() + "-" + r.name)
	mr.SetNamespace(xr.GetNamespace())
	labels := mr.GetLabels()
	if labels == nil {
		labels = map[string]string{}
	}
	labels["crossplane.io/composite"] = xr.GetName()
	mr.SetLabels(labels)
	ann := mr.GetAnnotations()
	if ann == nil {
		ann = map[string]string{}
	}
	ann["crossplane.io/composition-resource-name"] = r.name
	if ann["crossplane.io/external-name"] == "" {
		ann["crossplane.io/external-name"] = mr.GetName() // the provider's default
	}
	mr.SetAnnotations(ann)
	ctrl := true
	mr.SetOwnerReferences([]metav1.OwnerReference{{APIVersion: xr.GetAPIVersion(), Kind: xr.GetKind(), Name: xr.GetName(), UID: xr.GetUID(), Controller: &ctrl}})
	ri, err := s.resource(mr)
	if err != nil {
		return nil, err
	}
	cur, err := ri.Get(ctx, mr.GetName(), metav1.GetOptions{})
	if err == nil {
		return cur, nil
	}
	if !apierrors.IsNotFound(err) {
		return nil, err
	}
	return ri.Create(ctx, mr, metav1.CreateOptions{})
}

// ready moves a managed resource to Synced and, once it has existed long
// enough (later for later resources, as Azure takes its time), Ready.
func (s *Sim) ready(ctx context.Context, mr *unstructured.Unstructured, i int, now time.Time) bool {
	next := mr.DeepCopy()
	setCondition(next, "Synced", "True", "ReconcileSuccess", "", now)
	age := now.Sub(mr.GetCreationTimestamp().Time)
	ok := age >= s.opts.Phase*2+time.Duration(i)*s.opts.Phase/2
	if ok {
		setCondition(next, "Ready", "True", "Available", "", now)
		unstructured.SetNestedField(next.Object, "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/demo/providers/"+mr.GetKind()+"/"+mr.GetName(), "status", "atProvider", "id")
	} else {
		setCondition(next, "Ready", "False", "Creating", "", now)
	}
	if !equalJSON(mr.Object, next.Object) {
		if ri, err := s.resource(next); err == nil {
			if err := store(ctx, ri, next); err != nil {
				return false
			}
		}
	}
	return ok
}

// patch applies a FromCompositeFieldPath patch with dotted paths; other
// patch types are left out of the simulation.
func patch(xr, mr *unstructured.Unstructured, p any) {
	m, _ := p.(map[string]any)
	typ, _ := m["type"].(string)
	if typ != "" && typ != "FromCompositeFieldPath" {
		return
	}
	from, ok1 := fieldPath(m["fromFieldPath"])
	to, ok2 := fieldPath(m["toFieldPath"])
	if !ok1 || !ok2 {
		return
	}
	v, ok, _ := unstructured.NestedFieldNoCopy(xr.Object, from...)
	if !ok {
		return
	}
	v = runtimeCopy(v)
	ts, _ := m["transforms"].([]any)
	for _, t := range ts {
		tm, _ := t.(map[string]any)
		if tm["type"] != "map" {
			return // other transforms are left out of the simulation
		}
		table, _ := tm["map"].(map[string]any)
		mapped, ok := table[fmt.Sprint(v)]
		if !ok {
			return
		}
		v = mapped
	}
	_ = unstructured.SetNestedField(mr.Object, v, to...)
}

// fieldPath splits a Crossplane field path into keys: a.b[c.d].e is a, b,
// c.d, e. Array indexes are left out of the simulation (false).
func fieldPath(p any) ([]string, bool) {
	s, _ := p.(string)
	if s == "" {
		return nil, false
	}
	var out []string
	for s != "" {
		switch {
		case s[0] == '.':
			s = s[1:]
		case s[0] == '[':
			end := strings.IndexByte(s, ']')
			if end < 0 {
				return nil, false
			}
			key := strings.Trim(s[1:end], `"'`)
			if key == "" || strings.Trim(key, "0123456789") == "" {
				return nil, false
			}
			out = append(out, key)
			s = s[end+1:]
		default:
			end := strings.IndexAny(s, ".[")
			if end < 0 {
				end = len(s)
			}
			out = append(out, s[:end])
			s = s[end:]
		}
	}
	return out, len(out) > 0
}

func runtimeCopy(v any) any {
	switch v := v.(type) {
	case map[string]any:
		return (&unstructured.Unstructured{Object: v}).DeepCopy().Object
	case []any:
		out := make([]any, len(v))
		for i := range v {
			out[i] = runtimeCopy(v[i])
		}
		return out
	}
	return v
}

// condition reads one status condition.
func condition(u *unstructured.Unstructured, typ string) (status, message string, ok bool) {
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["type"] == typ {
			st, _ := m["status"].(string)
			msg, _ := m["message"].(string)
			return st, msg, true
		}
	}
	return "", "", false
}

// setCondition sets one status condition, keeping its transition time when
// its status does not change.
func setCondition(u *unstructured.Unstructured, typ, status, reason, message string, now time.Time) {
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	c := map[string]any{"type": typ, "status": status, "reason": reason, "lastTransitionTime": ts(now)}
	if message != "" {
		c["message"] = message
	}
	for i, old := range conds {
		m, _ := old.(map[string]any)
		if m["type"] != typ {
			continue
		}
		if m["status"] == status {
			c["lastTransitionTime"] = m["lastTransitionTime"]
		}
		conds[i] = c
		unstructured.SetNestedSlice(u.Object, conds, "status", "conditions")
		return
	}
	unstructured.SetNestedSlice(u.Object, append(conds, c), "status", "conditions")
}
