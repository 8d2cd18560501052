// Package crossplane reads Crossplane's composite resources as trees: claims
// (v1) and composite resources (v2 namespaced and cluster-scoped XRs, found
// through their XRDs) down to the managed resources they compose, each with
// its Synced and Ready conditions and full messages, failures first.
package crossplane

import (
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// XRDs is the resource of CompositeResourceDefinitions (v1 is served by
// Crossplane 1 and 2 alike).
var XRDs = schema.GroupVersionResource{Group: "apiextensions.crossplane.io", Version: "v1", Resource: "compositeresourcedefinitions"}

// Ref names an object; it is what resourceRef(s) hold.
type Ref struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Namespace  string `json:"namespace,omitempty"`
	Name       string `json:"name"`
}

// GroupKind is the reference's kind and API group.
func (r Ref) GroupKind() schema.GroupKind {
	return schema.FromAPIVersionAndKind(r.APIVersion, r.Kind).GroupKind()
}

// Key identifies the object whatever API version it is read at.
func (r Ref) Key() string { return r.GroupKind().String() + "/" + r.Namespace + "/" + r.Name }

func (r Ref) String() string {
	if r.Namespace == "" {
		return r.Kind + "/" + r.Name
	}
	return r.Kind + " " + r.Namespace + "/" + r.Name
}

// Condition is one of status.conditions.
type Condition struct {
	Type               string    `json:"type"`
	Status             string    `json:"status"`
	Reason             string    `json:"reason,omitempty"`
	Message            string    `json:"message,omitempty"`
	LastTransitionTime time.Time `json:"lastTransitionTime,omitzero"`
}

// Known reports whether the condition was set at all.
func (c Condition) Known() bool { return c.Status != "" }

// Definition is what an XRD defines.
type Definition struct {
	Group string `json:"group"`
	// Scope is Namespaced, Cluster or LegacyCluster.
	Scope       string `json:"scope"`
	Kind        string `json:"kind"`
	Plural      string `json:"plural"`
	Version     string `json:"version"`
	ClaimKind   string `json:"claimKind,omitempty"`
	ClaimPlural string `json:"claimPlural,omitempty"`
}

// XR is the resource of the composite resources.
func (d Definition) XR() schema.GroupVersionResource {
	return schema.GroupVersionResource{Group: d.Group, Version: d.Version, Resource: d.Plural}
}

// Claim is the resource of the claims, if the XRD offers them.
func (d Definition) Claim() (schema.GroupVersionResource, bool) {
	return schema.GroupVersionResource{Group: d.Group, Version: d.Version, Resource: d.ClaimPlural}, d.ClaimPlural != ""
}

// Object is any object of the tree (or an XRD), reduced to what the tree
// needs. Values are shared between watchers and read-only.
type Object struct {
	Ref
	Synced Condition `json:"synced,omitzero"`
	Ready  Condition `json:"ready,omitzero"`
	// Refs are the objects this one is made of: spec.crossplane.resourceRefs
	// (v2), spec.resourceRefs (v1 XRs) or spec.resourceRef (v1 claims).
	Refs []Ref `json:"refs,omitempty"`
	// ClaimRef is a v1 XR's claim.
	ClaimRef *Ref      `json:"claimRef,omitempty"`
	Created  time.Time `json:"created,omitzero"`
	Deleting bool      `json:"deleting,omitempty"`
	// Definition is set for an XRD.
	Definition *Definition `json:"definition,omitempty"`
}

// FromUnstructured reads an object of the tree, or an XRD.
func FromUnstructured(u *unstructured.Unstructured) Object {
	o := Object{
		Ref:      Ref{APIVersion: u.GetAPIVersion(), Kind: u.GetKind(), Namespace: u.GetNamespace(), Name: u.GetName()},
		Created:  u.GetCreationTimestamp().Time,
		Deleting: u.GetDeletionTimestamp() != nil,
	}
	if u.GetKind() == "CompositeResourceDefinition" && strings.HasPrefix(u.GetAPIVersion(), XRDs.Group+"/") {
		o.Definition = definition(u.Object)
	}
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		m, ok := c.(map[string]any)
		if !ok {
			continue
		}
		cond := Condition{Type: str(m, "type"), Status: str(m, "status"), Reason: str(m, "reason"), Message: str(m, "message")}
		cond.LastTransitionTime, _ = time.Parse(time.RFC3339, str(m, "lastTransitionTime"))
		switch cond.Type {
		case "Synced":
			o.Synced = cond
		case "Ready":
			o.Ready = cond
		}
	}
	spec, _ := u.Object["spec"].(map[string]any)
	for _, path := range [][]string{{"crossplane", "resourceRefs"}, {"resourceRefs"}} {
		refs, _, _ := unstructured.NestedSlice(spec, path...)
		for _, r := range refs {
			if m, ok := r.(map[string]any); ok {
				o.Refs = append(o.Refs, refFrom(m))
			}
		}
	}
	if m, ok := spec["resourceRef"].(map[string]any); ok {
		o.Refs = append(o.Refs, refFrom(m))
	}
	if m, ok := spec["claimRef"].(map[string]any); ok {
		r := refFrom(m)
		o.ClaimRef = &r
	}
	return o
}

func definition(obj map[string]any) *Definition {
	spec, _ := obj["spec"].(map[string]any)
	d := &Definition{
		Group:       str(spec, "group"),
		Scope:       str(spec, "scope"),
		Kind:        str(mapAt(spec, "names"), "kind"),
		Plural:      str(mapAt(spec, "names"), "plural"),
		ClaimKind:   str(mapAt(spec, "claimNames"), "kind"),
		ClaimPlural: str(mapAt(spec, "claimNames"), "plural"),
	}
	if d.Scope == "" {
		d.Scope = "LegacyCluster"
	}
	versions, _ := spec["versions"].([]any)
	for _, v := range versions {
		m, ok := v.(map[string]any)
		if !ok {
			continue
		}
		if ref, _ := m["referenceable"].(bool); ref {
			d.Version = str(m, "name")
			break
		}
		if served, _ := m["served"].(bool); served && d.Version == "" {
			d.Version = str(m, "name")
		}
	}
	return d
}

func refFrom(m map[string]any) Ref {
	return Ref{APIVersion: str(m, "apiVersion"), Kind: str(m, "kind"), Namespace: str(m, "namespace"), Name: str(m, "name")}
}

func mapAt(m map[string]any, k string) map[string]any {
	v, _ := m[k].(map[string]any)
	return v
}

func str(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}
