package testworld

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

const componentYAML = `apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: %NAME%
  tags: [go]
spec:
  type: service
  owner: %OWNER%
  lifecycle: production
`

func component(name, owner string) string {
	return strings.NewReplacer("%NAME%", name, "%OWNER%", owner).Replace(componentYAML)
}

// A location configured at start (catalog.locations) is read from a local
// file, and the catalog API answers with the entity and its relations.
func TestBackstageReadsConfiguredFileLocation(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "catalog-info.yaml"), component("configured-svc", "team-a"))
	b, err := StartBackstage(ctx, BackstageOptions{
		Locations: []BackstageLocation{{Type: "file", Target: filepath.Join(dir, "catalog-info.yaml")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Stop()
	waitCtx, waitCancel := context.WithTimeout(ctx, time.Minute)
	defer waitCancel()
	got, err := b.WaitEntities(waitCtx, "kind=component,metadata.name=configured-svc", 1)
	if err != nil {
		t.Fatalf("%v\n%s", err, b.Log())
	}
	e := got[0]
	if e.Spec["owner"] != "team-a" || e.Metadata.Namespace != "default" {
		t.Errorf("entity = %+v", e)
	}
	if len(e.Relations) == 0 || e.Relations[0].TargetRef != "group:default/team-a" {
		t.Errorf("relations = %+v, want ownedBy group:default/team-a", e.Relations)
	}
	if loc := e.Metadata.Annotations["backstage.io/managed-by-location"]; loc != "file:"+filepath.Join(dir, "catalog-info.yaml") {
		t.Errorf("managed-by-location = %q", loc)
	}
}

// Tests register locations on the shared backend at run time: a local file,
// and a URL served from a host the backend may read. A Template entity is
// accepted too (the scaffolder entity model is installed).
func TestBackstageRegistersFileAndURLLocations(t *testing.T) {
	b := SharedBackstage(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	fileDir := t.TempDir()
	writeFile(t, filepath.Join(fileDir, "catalog-info.yaml"), component("registered-by-file", "team-b"))
	if _, err := b.Register(ctx, "file", filepath.Join(fileDir, "catalog-info.yaml")); err != nil {
		t.Fatal(err)
	}

	urlDir := t.TempDir()
	writeFile(t, filepath.Join(urlDir, "catalog-info.yaml"), component("registered-by-url", "team-c")+`---
apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata:
  name: registered-template
spec:
  type: service
  owner: team-c
  steps: []
`)
	if _, err := b.Register(ctx, "url", b.ServeDir(urlDir)+"/catalog-info.yaml"); err != nil {
		t.Fatal(err)
	}

	for filter, owner := range map[string]string{
		"kind=component,metadata.name=registered-by-file": "team-b",
		"kind=component,metadata.name=registered-by-url":  "team-c",
		"kind=template,metadata.name=registered-template": "team-c",
	} {
		got, err := b.WaitEntities(ctx, filter, 1)
		if err != nil {
			t.Fatalf("%v\n%s", err, b.Log())
		}
		if got[0].Spec["owner"] != owner {
			t.Errorf("%s: owner = %v, want %s", filter, got[0].Spec["owner"], owner)
		}
	}
	// Without the token the API refuses.
	b2 := *b
	b2.Token = "wrong"
	if _, err := b2.Entities(ctx, ""); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("a wrong token: err = %v, want 401", err)
	}
}

// The scaffolder's dry-run renders a template's skeleton with Backstage's
// own renderer and returns the workspace's files.
func TestBackstageDryRunRendersSkeleton(t *testing.T) {
	b := SharedBackstage(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	template := map[string]any{
		"apiVersion": "scaffolder.backstage.io/v1beta3",
		"kind":       "Template",
		"metadata":   map[string]any{"name": "dry"},
		"spec": map[string]any{
			"type":       "service",
			"parameters": []any{map[string]any{"properties": map[string]any{"name": map[string]any{"type": "string"}}}},
			"steps": []any{map[string]any{
				"id": "fetch", "name": "Fetch", "action": "fetch:template",
				"input": map[string]any{"url": "./skeleton", "values": map[string]any{"name": "${{ parameters.name }}"}},
			}},
			"output": map[string]any{"text": []any{map[string]any{"title": "t", "content": "${{ parameters.name | upper }}"}}},
		},
	}
	files := []DryRunFile{
		{Path: "skeleton/README.md", Content: []byte("# ${{ values.name }}\n{% if values.name == 'demo' %}yes{% endif %}\n")},
		{Path: "skeleton/run.sh", Content: []byte("#!/bin/sh\necho ${{ values.name | replace('d', 'D') }}\n")},
	}
	res, err := b.DryRun(ctx, template, map[string]any{"name": "demo"}, files)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"README.md": "# demo\nyes\n", "run.sh": "#!/bin/sh\necho Demo\n"}
	if len(res.Files) != len(want) {
		t.Fatalf("files = %+v", res.Files)
	}
	for _, f := range res.Files {
		if string(f.Content) != want[f.Path] {
			t.Errorf("%s = %q, want %q", f.Path, f.Content, want[f.Path])
		}
	}
	if len(res.Log) == 0 {
		t.Error("no task log")
	}
}
