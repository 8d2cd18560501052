package bootstrap

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/back-stack/idp/platform/crossplane"
)

// Crossplane's annotations the pivot relies on.
const (
	PausedAnnotation       = "crossplane.io/paused"
	ExternalNameAnnotation = "crossplane.io/external-name"
	// OrphanedAnnotation marks a seed resource whose deletion policy idp
	// changed, so the copy on AKS gets the composition's policy back.
	OrphanedAnnotation = "idp.back-stack.io/orphaned-by-bootstrap"
)

// noDeletePolicies are management policies without Delete: Crossplane keeps
// managing the resource but never deletes it in Azure.
var noDeletePolicies = []any{"Observe", "Create", "Update", "LateInitialize"}

// adoptee is a managed resource on the seed that moves to AKS.
type adoptee struct {
	ref       ObjectRef
	composite ObjectRef
	obj       *unstructured.Unstructured
}

// managedOf lists the managed resources of the infrastructure, each with
// the composite that composes it (none for one applied directly).
func managedOf(st *infraState) []adoptee {
	var out []adoptee
	seen := map[string]bool{}
	add := func(o crossplane.Object, composite ObjectRef) {
		u := st.raw[o.Key()]
		if u == nil || !isManaged(u) || seen[o.Key()] {
			return
		}
		seen[o.Key()] = true
		out = append(out, adoptee{ref: refOf(u), composite: composite, obj: u})
	}
	for _, t := range st.trees {
		var walk func(n *crossplane.Node, composite ObjectRef)
		walk = func(n *crossplane.Node, composite ObjectRef) {
			if n.Missing {
				return
			}
			if n.Role == crossplane.RoleResource {
				add(n.Object, composite)
			} else {
				composite = ObjectRef(n.Ref)
			}
			for _, c := range n.Children {
				walk(c, composite)
			}
		}
		walk(t.Root, ObjectRef(t.Root.Ref))
	}
	for _, o := range st.direct {
		add(o, ObjectRef{})
	}
	slices.SortFunc(out, func(a, b adoptee) int { return strings.Compare(a.ref.String(), b.ref.String()) })
	return out
}

// orphaned reports whether deleting u in Kubernetes leaves the Azure
// resource alone: deletionPolicy Orphan, or management policies without
// Delete (namespaced managed resources of Crossplane v2 have only those).
func orphaned(u *unstructured.Unstructured) bool {
	if dp, _, _ := unstructured.NestedString(u.Object, "spec", "deletionPolicy"); dp == "Orphan" {
		return true
	}
	pols, ok, _ := unstructured.NestedStringSlice(u.Object, "spec", "managementPolicies")
	return ok && len(pols) > 0 && !slices.Contains(pols, "*") && !slices.Contains(pols, "Delete")
}

// orphanPatch pauses a seed resource and keeps its Azure resource when it is
// deleted.
func orphanPatch(u *unstructured.Unstructured) []byte {
	spec := map[string]any{"managementPolicies": noDeletePolicies}
	if u.GetNamespace() == "" {
		spec = map[string]any{"deletionPolicy": "Orphan"}
	}
	patch := map[string]any{
		"metadata": map[string]any{"annotations": map[string]any{PausedAnnotation: "true", OrphanedAnnotation: "true"}},
		"spec":     spec,
	}
	if orphaned(u) {
		patch = map[string]any{"metadata": map[string]any{"annotations": map[string]any{PausedAnnotation: "true"}}}
	}
	b, _ := json.Marshal(patch)
	return b
}

var pausePatch = []byte(`{"metadata":{"annotations":{"` + PausedAnnotation + `":"true"}}}`)

// adoptCopy is the seed resource as AKS gets it: the same name, labels,
// external name and spec, without what ties it to the seed (owner, status,
// pause) and, where idp set it, without the orphan policy.
func adoptCopy(u *unstructured.Unstructured) *unstructured.Unstructured {
	out := &unstructured.Unstructured{Object: map[string]any{}}
	out.SetAPIVersion(u.GetAPIVersion())
	out.SetKind(u.GetKind())
	out.SetName(u.GetName())
	out.SetNamespace(u.GetNamespace())
	out.SetLabels(u.GetLabels())
	ann := map[string]string{}
	for k, v := range u.GetAnnotations() {
		switch k {
		case PausedAnnotation, OrphanedAnnotation, "kubectl.kubernetes.io/last-applied-configuration":
		default:
			ann[k] = v
		}
	}
	out.SetAnnotations(ann)
	if spec, ok := u.Object["spec"].(map[string]any); ok {
		spec = runtimeDeepCopy(spec)
		if u.GetAnnotations()[OrphanedAnnotation] != "" {
			delete(spec, "managementPolicies")
			delete(spec, "deletionPolicy")
		}
		out.Object["spec"] = spec
	}
	return out
}

func runtimeDeepCopy(m map[string]any) map[string]any {
	return (&unstructured.Unstructured{Object: map[string]any{"x": m}}).DeepCopy().Object["x"].(map[string]any)
}

// refPaths are where composites keep their references: v2, then v1.
var refPaths = [][]string{{"spec", "crossplane", "resourceRefs"}, {"spec", "resourceRefs"}, {"spec", "resourceRef"}}

// withRefs is an infrastructure object as AKS gets it: a composite carries
// the seed's references, so Crossplane on AKS finds the resources it
// composed on the seed instead of composing new ones.
func withRefs(m manifest, seedObj *unstructured.Unstructured) *unstructured.Unstructured {
	obj := m.Obj.DeepCopy()
	if seedObj == nil {
		return obj
	}
	for _, path := range refPaths {
		if v, ok, _ := unstructured.NestedFieldCopy(seedObj.Object, path...); ok {
			unstructured.SetNestedField(obj.Object, v, path...)
		}
	}
	return obj
}

// verifyPivot compares AKS with what was adopted: the same resources, the
// same external names, all Synced and Ready, and nothing composed anew
// (a new composed resource would be a second Azure resource).
func verifyPivot(st *infraState, adopted []AdoptedResource) (bool, string, error) {
	want := map[string]AdoptedResource{}
	for _, a := range adopted {
		want[crossplaneRef(a.ObjectRef).Key()] = a
	}
	for _, a := range managedOf(st) {
		if _, ok := want[crossplaneRef(a.ref).Key()]; !ok {
			return false, "", fmt.Errorf("crossplane on AKS composed %s, which the seed did not have: it may be creating a second Azure resource; "+
				"check that the composition gives each resource a stable external name (crossplane.io/external-name)", a.ref)
		}
	}
	ready := 0
	var pending []string
	for _, a := range adopted {
		u := st.raw[crossplaneRef(a.ObjectRef).Key()]
		if u == nil {
			pending = append(pending, a.ObjectRef.String()+" is not on AKS")
			continue
		}
		if got := u.GetAnnotations()[ExternalNameAnnotation]; got != a.ExternalName {
			return false, "", fmt.Errorf("%s on AKS has external name %q, the seed's was %q: AKS would manage a different Azure resource", a.ObjectRef, got, a.ExternalName)
		}
		o := crossplane.FromUnstructured(u)
		if o.Synced.Status == "True" && o.Ready.Status == "True" {
			ready++
		} else {
			pending = append(pending, describeCondition(o))
		}
	}
	ok, summary := st.ready()
	summary = fmt.Sprintf("%d/%d adopted resources Ready on AKS with their seed external names; %s", ready, len(adopted), summary)
	if len(pending) > 0 {
		summary += "; " + pending[0]
	}
	return ok && len(pending) == 0, summary, nil
}

func (p *Pipeline) adoptStep() Step {
	const title = "Crossplane on AKS adopts the infrastructure"
	return Step{
		ID:    StepAdopt,
		Title: title,
		Wait:  p.wait(StepAdopt, "the adopted resources to be Ready on AKS"),
		Check: func(ctx context.Context) (bool, error) {
			adopted := p.state().Adopted
			if len(adopted) == 0 {
				return false, nil
			}
			aks, err := p.aksCluster()
			if err != nil {
				return false, err
			}
			st, err := p.readInfra(ctx, aks)
			if err != nil {
				return false, err
			}
			ok, _, err := verifyPivot(st, adopted)
			if !ok || err != nil {
				return ok, err
			}
			return p.handedOver(ctx, aks)
		},
		Run: func(ctx context.Context, out *StepOutput) error {
			seed, err := p.seedCluster()
			if err != nil {
				return err
			}
			aks, err := p.aksCluster()
			if err != nil {
				return err
			}
			st, err := p.readInfra(ctx, seed)
			if err != nil {
				return err
			}
			if ok, summary := st.ready(); !ok {
				return fmt.Errorf("the infrastructure on the seed is not Ready (%s); nothing was handed over", summary)
			}
			adoptees := managedOf(st)
			if len(adoptees) == 0 {
				return fmt.Errorf("the infrastructure on the seed composes no managed resources; nothing to hand over")
			}
			var adopted []AdoptedResource
			for _, a := range adoptees {
				name := a.obj.GetAnnotations()[ExternalNameAnnotation]
				if name == "" {
					return fmt.Errorf("%s on the seed has no external name: its provider has not created it in Azure", a.ref)
				}
				adopted = append(adopted, AdoptedResource{ObjectRef: a.ref, Composite: a.composite, ExternalName: name})
			}
			p.state().Adopted = adopted

			// The seed lets go first: its composites stop composing and its
			// managed resources stop reconciling and will never delete
			// anything in Azure.
			for _, t := range st.trees {
				if err := seed.patchMerge(ctx, ObjectRef(t.Root.Ref), pausePatch); err != nil {
					return err
				}
			}
			for _, a := range adoptees {
				if err := seed.patchMerge(ctx, a.ref, orphanPatch(a.obj)); err != nil {
					return err
				}
			}
			for _, a := range adoptees {
				u, err := seed.get(ctx, a.ref)
				if err != nil {
					return err
				}
				if u == nil || !orphaned(u) {
					return fmt.Errorf("%s on the seed is not orphaned after the patch; stopping before AKS takes over", a.ref)
				}
			}
			out.Logf("paused %d composites and %d managed resources on the seed; deleting them will leave Azure alone", len(st.trees), len(adoptees))

			if err := p.ensureSecrets(ctx, out, aks); err != nil {
				return err
			}
			var kinds []ObjectRef
			for _, a := range adoptees {
				kinds = append(kinds, a.ref)
			}
			gvks := kindsOf(p.manifests.infra)
			for _, r := range kinds {
				if !slices.Contains(gvks, r.gvk()) {
					gvks = append(gvks, r.gvk())
				}
			}
			if err := aks.waitServed(ctx, out, p.cfg.PollInterval, "Argo CD installs Crossplane, the provider and the XRDs from platform/", gvks...); err != nil {
				return err
			}
			var nss, rest []manifest
			for _, m := range p.manifests.infra {
				if m.Obj.GetKind() == "Namespace" {
					nss = append(nss, m)
				} else {
					rest = append(rest, m)
				}
			}
			if err := p.applyAll(ctx, out, aks, nss); err != nil {
				return err
			}
			for _, a := range adoptees {
				if _, err := aks.apply(ctx, adoptCopy(a.obj)); err != nil {
					return err
				}
				out.Logf("AKS: %s with external name %s", a.ref, a.obj.GetAnnotations()[ExternalNameAnnotation])
			}
			direct := map[string]bool{}
			for _, o := range st.direct {
				direct[o.Key()] = true
			}
			for _, m := range rest {
				key := crossplaneRef(m.ref()).Key()
				if direct[key] {
					continue // copied above, with its external name
				}
				if _, err := aks.apply(ctx, withRefs(m, st.raw[key])); err != nil {
					return fmt.Errorf("%s: %w", m.File, err)
				}
				out.Logf("AKS: applied %s (%s)", m.ref(), m.File)
			}
			if _, err = p.waitInfra(ctx, out, aks, func(st *infraState) (bool, string, error) {
				return verifyPivot(st, adopted)
			}); err != nil {
				return err
			}
			// Only now may Argo CD keep infrastructure/ on AKS: the XRs
			// it finds there are the adopted ones, as Git describes them.
			if err := p.applyAll(ctx, out, aks, p.manifests.handover); err != nil {
				return err
			}
			if len(p.manifests.handover) > 0 {
				out.Logf("AKS: Argo CD keeps infrastructure/ from now on (%s)", HandoverManifest)
			}
			return nil
		},
		NextAction: func(err error) string {
			if strings.Contains(err.Error(), "external name") || strings.Contains(err.Error(), "second Azure resource") {
				return "Stop here and look in Azure before anything else: fix the composition's external names in platform/, " + p.resumeSentence(7, title) + "."
			}
			return "Look at the resource that is not Ready on AKS (its message is above): usually the ProviderConfig on AKS lacks permissions; " + p.resumeSentence(7, title) + "."
		},
	}
}

// handedOver reports whether AKS has the hand-over Application, the last
// thing the adoption applies.
func (p *Pipeline) handedOver(ctx context.Context, aks *cluster) (bool, error) {
	for _, m := range p.manifests.handover {
		u, err := aks.get(ctx, m.ref())
		if err != nil || u == nil {
			return false, err
		}
	}
	return true, nil
}
