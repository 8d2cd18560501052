package bootstrap_test

import (
	"context"
	"encoding/base64"
	"slices"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
)

// standIn plays, on one cluster, the controllers the bootstrap waits on:
// Crossplane's package manager (Provider and Function Installed and
// Healthy), its XRD controller (Established), its composer (an XR without
// references gets composed resources; one with references is Ready when
// they are), provider-azure (a managed resource gets its external name,
// exists in the fake Azure, is Synced and Ready, and the cluster writes its
// kubeconfig connection secret) and, on AKS, Argo CD's application
// controller (Synced and Healthy). Paused objects are left alone, and a
// managed resource that disappears while its policies allow Delete is
// deleted from the fake Azure, as a provider would.
type standIn struct {
	name          string
	dyn           dynamic.Interface
	azure         *fakeAzure
	aksKubeconfig []byte
	argo          bool

	seen map[string]seenResource
}

type seenResource struct {
	externalName string
	mayDelete    bool
}

func (s *standIn) run(ctx context.Context) {
	s.seen = map[string]seenResource{}
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s.packages(ctx, providersGVR)
		s.packages(ctx, functionsGVR)
		s.xrds(ctx)
		s.composites(ctx)
		s.managed(ctx)
		if s.argo {
			s.applications(ctx)
		}
	}
}

func cond(typ, status, reason string) map[string]any {
	return map[string]any{"type": typ, "status": status, "reason": reason, "message": "",
		"lastTransitionTime": time.Now().UTC().Format(time.RFC3339)}
}

func paused(u *unstructured.Unstructured) bool {
	return u.GetAnnotations()["crossplane.io/paused"] == "true"
}

// setConditions writes status.conditions unless they are there already.
func (s *standIn) setConditions(ctx context.Context, ri dynamic.ResourceInterface, u *unstructured.Unstructured, conds ...map[string]any) {
	all := true
	for _, c := range conds {
		if c["status"] == "True" && !hasTrue(u, c["type"].(string)) {
			all = false
		}
	}
	if all {
		return
	}
	list := make([]any, len(conds))
	for i, c := range conds {
		list[i] = c
	}
	u = u.DeepCopy()
	unstructured.SetNestedSlice(u.Object, list, "status", "conditions")
	ri.UpdateStatus(ctx, u, metav1.UpdateOptions{}) // a conflict is retried on the next tick
}

func (s *standIn) packages(ctx context.Context, gvr schema.GroupVersionResource) {
	ri := s.dyn.Resource(gvr)
	list, err := ri.List(ctx, metav1.ListOptions{})
	if err != nil {
		return
	}
	for i := range list.Items {
		s.setConditions(ctx, ri, &list.Items[i], cond("Installed", "True", "ActivePackageRevision"), cond("Healthy", "True", "HealthyPackageRevision"))
	}
}

func (s *standIn) xrds(ctx context.Context) {
	ri := s.dyn.Resource(xrdsGVR)
	list, err := ri.List(ctx, metav1.ListOptions{})
	if err != nil {
		return
	}
	for i := range list.Items {
		s.setConditions(ctx, ri, &list.Items[i], cond("Established", "True", "WatchingCompositeResource"))
	}
}

// composites composes the XRs: the AKS cluster's external name comes from
// the XR (as a composition's patch would set it), the registry's is left to
// the provider, which takes the generated name; so an XR composed anew
// would make a second registry in Azure.
func (s *standIn) composites(ctx context.Context) {
	list, err := s.dyn.Resource(xplatformsGVR).List(ctx, metav1.ListOptions{})
	if err != nil {
		return
	}
	for i := range list.Items {
		xr := &list.Items[i]
		if paused(xr) || xr.GetDeletionTimestamp() != nil {
			continue
		}
		ri := s.dyn.Resource(xplatformsGVR).Namespace(xr.GetNamespace())
		refs, _, _ := unstructured.NestedSlice(xr.Object, "spec", "crossplane", "resourceRefs")
		if len(refs) == 0 {
			s.compose(ctx, xr)
			continue
		}
		ready := true
		for _, r := range refs {
			m, _ := r.(map[string]any)
			gvr := clustersGVR
			if m["kind"] == "Registry" {
				gvr = registriesGVR
			}
			name, _ := m["name"].(string)
			mr, err := s.dyn.Resource(gvr).Namespace(xr.GetNamespace()).Get(ctx, name, metav1.GetOptions{})
			if err != nil || !hasTrue(mr, "Ready") {
				ready = false
			}
		}
		if ready {
			s.setConditions(ctx, ri, xr, cond("Synced", "True", "ReconcileSuccess"), cond("Ready", "True", "Available"))
		} else {
			s.setConditions(ctx, ri, xr, cond("Synced", "True", "ReconcileSuccess"), cond("Ready", "False", "Creating"))
		}
	}
}

func (s *standIn) compose(ctx context.Context, xr *unstructured.Unstructured) {
	ns := xr.GetNamespace()
	aks, acr := xr.GetName()+"-"+randomSuffix(), xr.GetName()+"-"+randomSuffix()
	xr = xr.DeepCopy()
	unstructured.SetNestedSlice(xr.Object, []any{
		map[string]any{"apiVersion": clustersGVR.GroupVersion().String(), "kind": "KubernetesCluster", "name": aks},
		map[string]any{"apiVersion": registriesGVR.GroupVersion().String(), "kind": "Registry", "name": acr},
	}, "spec", "crossplane", "resourceRefs")
	// The references first: if this update loses a race, nothing was composed.
	xr, err := s.dyn.Resource(xplatformsGVR).Namespace(ns).Update(ctx, xr, metav1.UpdateOptions{})
	if err != nil {
		return
	}
	location, _, _ := unstructured.NestedString(xr.Object, "spec", "location")
	aksName, _, _ := unstructured.NestedString(xr.Object, "spec", "aksName")
	owner := []any{map[string]any{"apiVersion": xr.GetAPIVersion(), "kind": xr.GetKind(), "name": xr.GetName(), "uid": string(xr.GetUID()), "controller": true, "blockOwnerDeletion": true}}
	mk := func(gvr schema.GroupVersionResource, kind, name, resName string, extra map[string]any) {
		ann := map[string]any{"crossplane.io/composition-resource-name": resName}
		spec := map[string]any{"forProvider": map[string]any{"location": location}}
		if resName == "aks" {
			ann["crossplane.io/external-name"] = aksName
			spec["writeConnectionSecretToRef"] = map[string]any{"name": xr.GetName() + "-aks-kubeconfig"}
		}
		for k, v := range extra {
			spec[k] = v
		}
		obj := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": gvr.GroupVersion().String(), "kind": kind,
			"metadata": map[string]any{"name": name, "namespace": ns, "annotations": ann, "ownerReferences": owner,
				"labels": map[string]any{"crossplane.io/composite": xr.GetName()}},
			"spec": spec,
		}}
		s.dyn.Resource(gvr).Namespace(ns).Create(ctx, obj, metav1.CreateOptions{})
	}
	mk(clustersGVR, "KubernetesCluster", aks, "aks", nil)
	mk(registriesGVR, "Registry", acr, "acr", nil)
}

func mayDelete(u *unstructured.Unstructured) bool {
	if paused(u) {
		return false
	}
	pols, ok, _ := unstructured.NestedStringSlice(u.Object, "spec", "managementPolicies")
	return !ok || len(pols) == 0 || slices.Contains(pols, "*") || slices.Contains(pols, "Delete")
}

func (s *standIn) managed(ctx context.Context) {
	present := map[string]bool{}
	for _, gvr := range managedGVRs {
		list, err := s.dyn.Resource(gvr).List(ctx, metav1.ListOptions{})
		if err != nil {
			return
		}
		for i := range list.Items {
			mr := &list.Items[i]
			key := gvr.Resource + "/" + mr.GetNamespace() + "/" + mr.GetName()
			present[key] = true
			ext := mr.GetAnnotations()["crossplane.io/external-name"]
			if paused(mr) {
				s.seen[key] = seenResource{externalName: ext, mayDelete: false}
				continue
			}
			ri := s.dyn.Resource(gvr).Namespace(mr.GetNamespace())
			if ext == "" {
				// Created in Azure under its Kubernetes name, which the
				// provider records as the external name.
				ext = mr.GetName()
				s.azure.ensure(ext)
				cp := mr.DeepCopy()
				ann := cp.GetAnnotations()
				if ann == nil {
					ann = map[string]string{}
				}
				ann["crossplane.io/external-name"] = ext
				cp.SetAnnotations(ann)
				ri.Update(ctx, cp, metav1.UpdateOptions{})
				continue
			}
			s.azure.ensure(ext) // observed, or created under that name
			s.seen[key] = seenResource{externalName: ext, mayDelete: mayDelete(mr)}
			if gvr == clustersGVR {
				s.connectionSecret(ctx, mr)
			}
			s.setConditions(ctx, ri, mr, cond("Synced", "True", "ReconcileSuccess"), cond("Ready", "True", "Available"))
		}
	}
	for key, r := range s.seen {
		if present[key] {
			continue
		}
		delete(s.seen, key)
		if r.mayDelete {
			s.azure.remove(r.externalName)
		}
	}
}

func (s *standIn) connectionSecret(ctx context.Context, mr *unstructured.Unstructured) {
	name, _, _ := unstructured.NestedString(mr.Object, "spec", "writeConnectionSecretToRef", "name")
	if name == "" {
		return
	}
	ri := s.dyn.Resource(secretsGVR).Namespace(mr.GetNamespace())
	if _, err := ri.Get(ctx, name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		return
	}
	ri.Create(ctx, &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Secret", "type": "connection.crossplane.io/v1alpha1",
		"metadata": map[string]any{"name": name, "namespace": mr.GetNamespace()},
		"data":     map[string]any{"kubeconfig": base64.StdEncoding.EncodeToString(s.aksKubeconfig)},
	}}, metav1.CreateOptions{})
}

// applications plays Argo CD: every Application syncs and gets healthy.
// Its CRD has no status subresource; Argo CD updates the whole object.
func (s *standIn) applications(ctx context.Context) {
	list, err := s.dyn.Resource(appsGVR).List(ctx, metav1.ListOptions{})
	if err != nil {
		return
	}
	for i := range list.Items {
		app := list.Items[i].DeepCopy()
		if st, _, _ := unstructured.NestedString(app.Object, "status", "health", "status"); st == "Healthy" {
			continue
		}
		unstructured.SetNestedMap(app.Object, map[string]any{
			"sync":   map[string]any{"status": "Synced", "revision": "0123456789abcdef0123456789abcdef01234567"},
			"health": map[string]any{"status": "Healthy"},
		}, "status")
		s.dyn.Resource(appsGVR).Namespace(app.GetNamespace()).Update(ctx, app, metav1.UpdateOptions{})
	}
}
