package demo

import (
	"context"
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/back-stack/idp/internal/sim"
)

// baseKinds are what the playground's API server always serves: Argo CD's,
// Crossplane's and Kyverno's kinds and the core ones the views read.
var baseKinds = []Kind{
	{schema.GroupVersionKind{Group: "argoproj.io", Version: "v1alpha1", Kind: "Application"}, "applications", true},
	{schema.GroupVersionKind{Group: "argoproj.io", Version: "v1alpha1", Kind: "AppProject"}, "appprojects", true},
	{schema.GroupVersionKind{Version: "v1", Kind: "Event"}, "events", true},
	{schema.GroupVersionKind{Version: "v1", Kind: "Namespace"}, "namespaces", false},
	{schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}, "configmaps", true},
	{schema.GroupVersionKind{Group: "apiextensions.crossplane.io", Version: "v1", Kind: "CompositeResourceDefinition"}, "compositeresourcedefinitions", false},
	{schema.GroupVersionKind{Group: "apiextensions.crossplane.io", Version: "v1", Kind: "Composition"}, "compositions", false},
	{schema.GroupVersionKind{Group: "pkg.crossplane.io", Version: "v1", Kind: "Provider"}, "providers", false},
	{schema.GroupVersionKind{Group: "pkg.crossplane.io", Version: "v1", Kind: "Function"}, "functions", false},
	{schema.GroupVersionKind{Group: "wgpolicyk8s.io", Version: "v1alpha2", Kind: "PolicyReport"}, "policyreports", true},
	{schema.GroupVersionKind{Group: "wgpolicyk8s.io", Version: "v1alpha2", Kind: "ClusterPolicyReport"}, "clusterpolicyreports", false},
}

// servedKinds adds the kinds the GitOps repository defines: each XRD's
// composite (and claim) kind, and the managed resources its Compositions
// compose (namespaced when their group is a Crossplane v2 *.m.* group).
func servedKinds(snap sim.Snapshot) []Kind {
	kinds := append([]Kind{}, baseKinds...)
	seen := map[schema.GroupVersionKind]bool{}
	for _, k := range kinds {
		seen[k.GVK] = true
	}
	add := func(k Kind) {
		if k.GVK.Kind != "" && !seen[k.GVK] {
			seen[k.GVK] = true
			kinds = append(kinds, k)
		}
	}
	for _, name := range snap.Folder("") {
		objs, err := sim.Decode(snap.Files[name])
		if err != nil {
			continue
		}
		for _, o := range objs {
			switch o.GetKind() {
			case "CompositeResourceDefinition":
				group, _, _ := unstructured.NestedString(o.Object, "spec", "group")
				scope, _, _ := unstructured.NestedString(o.Object, "spec", "scope")
				kind, _, _ := unstructured.NestedString(o.Object, "spec", "names", "kind")
				plural, _, _ := unstructured.NestedString(o.Object, "spec", "names", "plural")
				claim, _, _ := unstructured.NestedString(o.Object, "spec", "claimNames", "kind")
				claimPlural, _, _ := unstructured.NestedString(o.Object, "spec", "claimNames", "plural")
				versions, _, _ := unstructured.NestedSlice(o.Object, "spec", "versions")
				for _, v := range versions {
					m, _ := v.(map[string]any)
					ver, _ := m["name"].(string)
					add(Kind{schema.GroupVersionKind{Group: group, Version: ver, Kind: kind}, plural, scope == "Namespaced"})
					if claim != "" {
						add(Kind{schema.GroupVersionKind{Group: group, Version: ver, Kind: claim}, claimPlural, true})
					}
				}
			default:
				// Anything else the repository holds (providers' configs,
				// runtime configs, policies) is served as it is written.
				gv, err := schema.ParseGroupVersion(o.GetAPIVersion())
				if err == nil && o.GetKind() != "" {
					add(Kind{gv.WithKind(o.GetKind()), plural(o.GetKind()), o.GetNamespace() != ""})
				}
			case "Composition":
				for _, base := range compositionBases(o) {
					gv, err := schema.ParseGroupVersion(base.GetAPIVersion())
					if err != nil {
						continue
					}
					add(Kind{gv.WithKind(base.GetKind()), plural(base.GetKind()), strings.Contains(gv.Group, ".m.")})
				}
			}
		}
	}
	return kinds
}

// plural is the resource name Kubernetes derives for a kind.
func plural(kind string) string {
	k := strings.ToLower(kind)
	switch {
	case strings.HasSuffix(k, "y") && !strings.HasSuffix(k, "ey"):
		return k[:len(k)-1] + "ies"
	case strings.HasSuffix(k, "s"), strings.HasSuffix(k, "x"), strings.HasSuffix(k, "ch"):
		return k + "es"
	}
	return k + "s"
}

func compositionBases(c *unstructured.Unstructured) []*unstructured.Unstructured {
	var list []any
	steps, _, _ := unstructured.NestedSlice(c.Object, "spec", "pipeline")
	for _, st := range steps {
		m, _ := st.(map[string]any)
		rs, _, _ := unstructured.NestedSlice(m, "input", "resources")
		list = append(list, rs...)
	}
	rs, _, _ := unstructured.NestedSlice(c.Object, "spec", "resources")
	list = append(list, rs...)
	var out []*unstructured.Unstructured
	for _, r := range list {
		m, _ := r.(map[string]any)
		if b, ok := m["base"].(map[string]any); ok {
			out = append(out, &unstructured.Unstructured{Object: b})
		}
	}
	return out
}

// seedCluster adds what the playground's cluster holds beyond Git: Argo CD's
// default project, and a Kyverno report with one failed check on the
// failing example, as Kyverno's background scan would write it.
func (p *Playground) seedCluster(ctx context.Context) error {
	dyn := p.cluster.Dynamic()
	objs := []*unstructured.Unstructured{
		{Object: map[string]any{
			"apiVersion": "argoproj.io/v1alpha1", "kind": "AppProject",
			"metadata": map[string]any{"name": "default", "namespace": "argocd"},
			"spec": map[string]any{
				"sourceRepos":  []any{"*"},
				"destinations": []any{map[string]any{"server": "*", "namespace": "*"}},
			},
		}},
		{Object: map[string]any{
			"apiVersion": "wgpolicyk8s.io/v1alpha2", "kind": "PolicyReport",
			"metadata": map[string]any{
				"name": "deployment-" + Failing, "namespace": Failing,
				"labels": map[string]any{"app.kubernetes.io/managed-by": "kyverno"},
			},
			"scope":   map[string]any{"apiVersion": "apps/v1", "kind": "Deployment", "name": Failing, "namespace": Failing},
			"summary": map[string]any{"pass": int64(2), "fail": int64(1), "warn": int64(0), "error": int64(0), "skip": int64(0)},
			"results": []any{
				result("require-requests-limits", "validate-resources", "fail", "high",
					"validation error: CPU and memory resource requests and limits are required. rule validate-resources failed at path /spec/template/spec/containers/0/resources/limits/"),
				result("disallow-latest-tag", "validate-image-tag", "pass", "medium", "validation rule 'validate-image-tag' passed."),
				result("require-labels", "check-for-labels", "pass", "medium", "validation rule 'check-for-labels' passed."),
			},
		}},
	}
	for _, o := range objs {
		k, ok := p.cluster.KindFor(o.GroupVersionKind())
		if !ok {
			return fmt.Errorf("demo: %s is not served", o.GroupVersionKind())
		}
		ri := dyn.Resource(k.GVR()).Namespace(o.GetNamespace())
		if _, err := ri.Create(ctx, o, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("demo: seed %s %s: %w", o.GetKind(), o.GetName(), err)
		}
	}
	return nil
}

func result(policy, rule, res, severity, msg string) map[string]any {
	return map[string]any{
		"policy": policy, "rule": rule, "result": res, "severity": severity, "message": msg,
		"source": "kyverno", "scored": true, "category": "Best Practices",
		"resources": []any{map[string]any{"apiVersion": "apps/v1", "kind": "Deployment", "name": Failing, "namespace": Failing}},
	}
}
