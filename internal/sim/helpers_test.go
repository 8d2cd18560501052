package sim

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
)

func runtimeFrom(obj map[string]any, into any) error {
	return runtime.DefaultUnstructuredConverter.FromUnstructured(obj, into)
}

func TestFieldPath(t *testing.T) {
	for in, want := range map[string]string{
		"spec.parameters.size":                              "spec|parameters|size",
		"metadata.annotations[crossplane.io/external-name]": "metadata|annotations|crossplane.io/external-name",
		`metadata.labels["app"]`:                            "metadata|labels|app",
	} {
		got, ok := fieldPath(in)
		if !ok || strings.Join(got, "|") != want {
			t.Errorf("fieldPath(%q) = %q %v, want %q", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "spec.items[0].name", "a[b"} {
		if _, ok := fieldPath(in); ok {
			t.Errorf("fieldPath(%q) accepted", in)
		}
	}
}
