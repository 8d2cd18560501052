package argocd

import (
	"os"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

func load(t *testing.T, path string) *unstructured.Unstructured {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := yaml.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return &unstructured.Unstructured{Object: m}
}

func TestFromUnstructured(t *testing.T) {
	a := FromUnstructured(load(t, "testdata/guestbook.yaml"))
	checks := []struct {
		name      string
		got, want any
	}{
		{"key", a.Key(), "argocd/guestbook"},
		{"project", a.Project, "shop"},
		{"label", a.Labels["team"], "web"},
		{"sync", a.Sync, "OutOfSync"},
		{"short revision", a.ShortRevision(), "53e28ff"},
		{"health", a.Health, "Degraded"},
		{"health message", a.HealthMessage, `Deployment "guestbook-ui" exceeded its progress deadline`},
		{"repo", a.RepoURL, "https://github.com/argoproj/argocd-example-apps.git"},
		{"path", a.Path, "guestbook"},
		{"destination", a.DestNamespace, "guestbook"},
		{"auto sync", a.AutoSync, true},
		{"pending operation", a.PendingOperation, true},
		{"conditions", len(a.Conditions), 2},
		{"first condition is an error", a.Conditions[0].IsError(), true},
		{"second condition is a warning", a.Conditions[1].IsError(), false},
		{"phase", a.Operation.Phase, "Failed"},
		{"automated", a.Operation.Automated, true},
		{"results", len(a.Operation.Results), 2},
		{"failed result", a.Operation.Results[0].Status, "SyncFailed"},
		{"finished", a.Operation.FinishedAt, time.Date(2026, 1, 2, 10, 4, 0, 0, time.UTC)},
		{"last operation", a.LastOperationTime(), time.Date(2026, 1, 2, 10, 4, 0, 0, time.UTC)},
		{"resources", len(a.Resources), 2},
		{"resource api version", a.Resources[1].APIVersion(), "apps/v1"},
		{"resource health message", a.Resources[1].HealthMessage, `Deployment "guestbook-ui" exceeded its progress deadline`},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if errs, warns := a.Problems(); errs != 1 || warns != 1 {
		t.Errorf("problems = %d, %d", errs, warns)
	}
}

func TestFromUnstructuredDefaultsAndMultiSource(t *testing.T) {
	u := &unstructured.Unstructured{Object: map[string]any{
		"metadata": map[string]any{"name": "x", "namespace": "y"},
		"spec": map[string]any{
			"sources":     []any{map[string]any{"repoURL": "https://charts.example.com", "chart": "redis", "targetRevision": "18.1.0"}},
			"destination": map[string]any{"name": "in-cluster"},
		},
		"status": map[string]any{"sync": map[string]any{"revisions": []any{"18.1.0"}}},
	}}
	a := FromUnstructured(u)
	if a.Sync != StatusUnknown || a.Health != StatusUnknown {
		t.Errorf("empty status: sync %q health %q", a.Sync, a.Health)
	}
	if a.Path != "redis" || a.ShortRevision() != "18.1.0" || a.DestServer != "in-cluster" || a.Operation != nil || a.PendingOperation {
		t.Errorf("multi-source app: %+v", a)
	}
}

func TestFilter(t *testing.T) {
	apps := []*App{
		{Namespace: "argocd", Name: "web-frontend", Project: "shop", Sync: "Synced", Health: "Healthy", Labels: map[string]string{"team": "web"}},
		{Namespace: "argocd", Name: "api", Project: "shop", Sync: "OutOfSync", Health: "Degraded", Labels: map[string]string{"team": "core"}},
		{Namespace: "team-b", Name: "billing", Project: "finance", Sync: "Synced", Health: "Progressing"},
	}
	tests := []struct {
		filter string
		want   string
	}{
		{"", "api,billing,web-frontend"},
		{"front", "web-frontend"},
		{"FRONT", "web-frontend"},
		{"team-b", "billing"},
		{"project=shop", "api,web-frontend"},
		{"health=degraded", "api"},
		{"sync=Synced project=finance", "billing"},
		{"team=web", "web-frontend"},
		{"label:team=core", "api"},
		{"ns=argocd a", "api,web-frontend"},
		{"health=missing", ""},
	}
	for _, tt := range tests {
		got := ""
		for i, a := range Select(apps, ParseFilter(tt.filter), ByName) {
			if i > 0 {
				got += ","
			}
			got += a.Name
		}
		if got != tt.want {
			t.Errorf("filter %q: %q, want %q", tt.filter, got, tt.want)
		}
	}
}

func TestSort(t *testing.T) {
	now := time.Now()
	apps := []*App{
		{Name: "a", Project: "z", Sync: "Synced", Health: "Healthy", Operation: &Operation{FinishedAt: now.Add(-time.Hour)}},
		{Name: "b", Project: "y", Sync: "OutOfSync", Health: "Progressing"},
		{Name: "c", Project: "x", Sync: "Unknown", Health: "Degraded", Operation: &Operation{StartedAt: now}},
	}
	tests := map[SortKey]string{ByName: "abc", ByHealth: "cba", BySync: "bca", ByProject: "cba", ByLastOperation: "cab"}
	for k, want := range tests {
		got := ""
		for _, a := range Select(apps, Filter{}, k) {
			got += a.Name
		}
		if got != want {
			t.Errorf("sort by %s: %s, want %s", k, got, want)
		}
	}
	k := ByName
	for range sortKeys {
		k = k.Next()
	}
	if k != ByName {
		t.Errorf("the cycle does not come back to name")
	}
	if sk, ok := ParseSortKey("last-operation"); !ok || sk != ByLastOperation {
		t.Errorf("ParseSortKey(last-operation) = %v %v", sk, ok)
	}
}
