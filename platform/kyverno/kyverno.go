// Package kyverno reads policy results: the PolicyReports and
// ClusterPolicyReports (wgpolicyk8s.io) that Kyverno writes, one per
// resource it checked, and sums them up for the resources of an application.
package kyverno

import (
	"context"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/back-stack/idp/platform/watch"
)

// The report resources Kyverno writes.
var (
	PolicyReports        = schema.GroupVersionResource{Group: "wgpolicyk8s.io", Version: "v1alpha2", Resource: "policyreports"}
	ClusterPolicyReports = schema.GroupVersionResource{Group: "wgpolicyk8s.io", Version: "v1alpha2", Resource: "clusterpolicyreports"}
)

// Result values.
const (
	Pass  = "pass"
	Fail  = "fail"
	Warn  = "warn"
	Error = "error"
	Skip  = "skip"
)

// Ref names a Kubernetes object.
type Ref struct {
	APIVersion string `json:"apiVersion,omitempty"`
	Kind       string `json:"kind"`
	Namespace  string `json:"namespace,omitempty"`
	Name       string `json:"name"`
}

// Group is the API group of the reference ("" for the core group).
func (r Ref) Group() string {
	if g, _, ok := strings.Cut(r.APIVersion, "/"); ok {
		return g
	}
	return ""
}

func (r Ref) String() string {
	if r.Namespace == "" {
		return r.Kind + "/" + r.Name
	}
	return r.Kind + " " + r.Namespace + "/" + r.Name
}

// Result is one rule's verdict.
type Result struct {
	Policy   string `json:"policy"`
	Rule     string `json:"rule,omitempty"`
	Result   string `json:"result"`
	Message  string `json:"message,omitempty"`
	Severity string `json:"severity,omitempty"`
	Category string `json:"category,omitempty"`
	// Resources are the objects the result is about; empty means the
	// report's scope.
	Resources []Ref `json:"resources,omitempty"`
}

// Report is one PolicyReport or ClusterPolicyReport. Values are shared and
// read-only.
type Report struct {
	Namespace string   `json:"namespace,omitempty"`
	Name      string   `json:"name"`
	Scope     *Ref     `json:"scope,omitempty"`
	Results   []Result `json:"results,omitempty"`
}

// Event is a change to the reports being watched.
type Event = watch.Event[Report]

// FromUnstructured reads a report.
func FromUnstructured(u *unstructured.Unstructured) Report {
	r := Report{Namespace: u.GetNamespace(), Name: u.GetName()}
	if s, ok := u.Object["scope"].(map[string]any); ok {
		ref := refFrom(s)
		r.Scope = &ref
	}
	items, _ := u.Object["results"].([]any)
	for _, it := range items {
		m, ok := it.(map[string]any)
		if !ok {
			continue
		}
		res := Result{
			Policy: str(m, "policy"), Rule: str(m, "rule"), Result: str(m, "result"), Message: str(m, "message"),
			Severity: str(m, "severity"), Category: str(m, "category"),
		}
		rs, _ := m["resources"].([]any)
		for _, x := range rs {
			if rm, ok := x.(map[string]any); ok {
				res.Resources = append(res.Resources, refFrom(rm))
			}
		}
		r.Results = append(r.Results, res)
	}
	return r
}

func refFrom(m map[string]any) Ref {
	return Ref{APIVersion: str(m, "apiVersion"), Kind: str(m, "kind"), Namespace: str(m, "namespace"), Name: str(m, "name")}
}

func str(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}

func spec(gvr schema.GroupVersionResource) watch.Spec {
	return watch.Spec{
		Resource: gvr, ConvertName: "kyverno.Report",
		Convert: func(u *unstructured.Unstructured) any { return FromUnstructured(u) },
	}
}

// Watch streams every PolicyReport and ClusterPolicyReport.
func Watch(ctx context.Context, pool *watch.Pool) <-chan Event {
	return watch.Watch[Report](ctx, pool, 256, spec(PolicyReports), spec(ClusterPolicyReports))
}

// Finding is a result about one resource.
type Finding struct {
	Resource Ref `json:"resource"`
	Result
}

// Summary counts the results for a set of resources and lists the ones
// that need attention (fail, error, warn), worst first.
type Summary struct {
	Pass     int       `json:"pass"`
	Fail     int       `json:"fail"`
	Warn     int       `json:"warn"`
	Error    int       `json:"error"`
	Skip     int       `json:"skip"`
	Findings []Finding `json:"findings,omitempty"`
}

// Total is the number of results counted.
func (s Summary) Total() int { return s.Pass + s.Fail + s.Warn + s.Error + s.Skip }

// Key identifies a resource the way Argo CD's status.resources does:
// group, kind, namespace and name (the version does not matter).
type Key struct{ Group, Kind, Namespace, Name string }

// KeyOf is the key of a reference.
func KeyOf(r Ref) Key { return Key{r.Group(), r.Kind, r.Namespace, r.Name} }

// Summarize counts the results in reports that are about one of resources.
func Summarize(reports []Report, resources map[Key]bool) Summary {
	var s Summary
	for _, rep := range reports {
		for _, res := range rep.Results {
			targets := res.Resources
			if len(targets) == 0 && rep.Scope != nil {
				targets = []Ref{*rep.Scope}
			}
			for _, t := range targets {
				if !resources[KeyOf(t)] {
					continue
				}
				s.count(res.Result)
				if res.Result == Fail || res.Result == Error || res.Result == Warn {
					s.Findings = append(s.Findings, Finding{Resource: t, Result: res})
				}
			}
		}
	}
	sort.SliceStable(s.Findings, func(i, j int) bool {
		a, b := s.Findings[i], s.Findings[j]
		if rank(a.Result.Result) != rank(b.Result.Result) {
			return rank(a.Result.Result) < rank(b.Result.Result)
		}
		if a.Policy != b.Policy {
			return a.Policy < b.Policy
		}
		return a.Resource.String() < b.Resource.String()
	})
	return s
}

func (s *Summary) count(result string) {
	switch result {
	case Pass:
		s.Pass++
	case Fail:
		s.Fail++
	case Warn:
		s.Warn++
	case Error:
		s.Error++
	case Skip:
		s.Skip++
	}
}

func rank(result string) int {
	switch result {
	case Fail:
		return 0
	case Error:
		return 1
	}
	return 2
}
