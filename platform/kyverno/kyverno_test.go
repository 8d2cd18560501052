package kyverno

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestSummarize(t *testing.T) {
	deploy := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "wgpolicyk8s.io/v1alpha2", "kind": "PolicyReport",
		"metadata": map[string]any{"name": "uid-1", "namespace": "shop"},
		"scope":    map[string]any{"apiVersion": "apps/v1", "kind": "Deployment", "namespace": "shop", "name": "web"},
		"results": []any{
			map[string]any{"policy": "require-labels", "rule": "team", "result": "fail", "message": "label team is required"},
			map[string]any{"policy": "disallow-latest", "rule": "tag", "result": "pass"},
			map[string]any{"policy": "resources", "rule": "limits", "result": "warn", "message": "no memory limit"},
		},
	}}
	other := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "wgpolicyk8s.io/v1alpha2", "kind": "PolicyReport",
		"metadata": map[string]any{"name": "polr-ns-shop", "namespace": "shop"},
		"results": []any{
			map[string]any{"policy": "p", "result": "error", "message": "boom",
				"resources": []any{map[string]any{"apiVersion": "v1", "kind": "Service", "namespace": "shop", "name": "web"}}},
			map[string]any{"policy": "p", "result": "fail",
				"resources": []any{map[string]any{"apiVersion": "v1", "kind": "Service", "namespace": "shop", "name": "not-ours"}}},
		},
	}}
	reports := []Report{FromUnstructured(deploy), FromUnstructured(other)}
	s := Summarize(reports, map[Key]bool{
		{Group: "apps", Kind: "Deployment", Namespace: "shop", Name: "web"}: true,
		{Kind: "Service", Namespace: "shop", Name: "web"}:                   true,
	})
	if s.Pass != 1 || s.Fail != 1 || s.Warn != 1 || s.Error != 1 || s.Total() != 4 {
		t.Fatalf("counts %+v", s)
	}
	order := ""
	for _, f := range s.Findings {
		order += f.Result.Result + ":" + f.Resource.Kind + " "
	}
	if order != "fail:Deployment error:Service warn:Deployment " {
		t.Errorf("findings order %q", order)
	}
	if s.Findings[0].Message != "label team is required" || s.Findings[0].Policy != "require-labels" {
		t.Errorf("first finding %+v", s.Findings[0])
	}
}
