package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestTemplatesCommand(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	code, out, errOut := run(t, "templates")
	if code != 0 {
		t.Fatalf("code %d: %s", code, errOut)
	}
	for _, want := range []string{"go-service", "python-service", "static-site", "--set name=", "when database is true", "(built-in)"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	// An organisation's folder adds a template and replaces a built-in one.
	dir := t.TempDir()
	for _, name := range []string{"go-service", "acme-batch"} {
		os.MkdirAll(filepath.Join(dir, name, "skeleton"), 0o755)
		os.WriteFile(filepath.Join(dir, name, "template.yaml"), []byte(`apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata: {name: `+name+`, title: Acme}
spec:
  parameters:
    - properties:
        name: {type: string, title: Name}
      required: [name]
  steps:
    - action: fetch:template
      input: {url: ./skeleton}
`), 0o644)
	}
	code, out, errOut = run(t, "templates", "--templates", dir, "-o", "json")
	if code != 0 {
		t.Fatalf("code %d: %s", code, errOut)
	}
	var list []templateSummary
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	got := map[string]templateSummary{}
	for _, s := range list {
		got[s.Name] = s
	}
	if len(list) != 4 || got["go-service"].Source != filepath.Join(dir, "go-service") || got["acme-batch"].Parameters[0].Name != "name" || !got["acme-batch"].Parameters[0].Required {
		t.Errorf("templates: %+v", list)
	}

	os.WriteFile(filepath.Join(dir, "acme-batch", "template.yaml"), []byte("apiVersion: scaffolder.backstage.io/v1beta3\nkind: Template\nmetadata: {name: x}\nspec:\n  steps:\n    - action: fetch:cobol\n"), 0o644)
	code, _, errOut = run(t, "templates", "--templates", dir)
	if code == 0 || !strings.Contains(errOut, `unknown action "fetch:cobol"`) || !strings.Contains(errOut, filepath.Join("acme-batch", "template.yaml")) {
		t.Errorf("a broken template: code %d, %s", code, errOut)
	}
	if code, _, errOut := run(t, "templates", "-o", "yaml"); code == 0 || !strings.Contains(errOut, "invalid output format") {
		t.Errorf("-o yaml: %d %s", code, errOut)
	}
}
