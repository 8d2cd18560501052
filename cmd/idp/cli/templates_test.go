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
		if s.Default {
			got[s.Name] = s
		}
	}
	// Both go-service templates are listed; idp new takes the folder's.
	if len(list) != 5 || got["go-service"].Source != filepath.Join(dir, "go-service") || got["go-service"].Ref != dir+":go-service" ||
		got["acme-batch"].Parameters[0].Name != "name" || !got["acme-batch"].Parameters[0].Required {
		t.Errorf("templates: %+v", list)
	}

	// A broken template and a template with a third-party action: both
	// listed with their reasons; the others and the built-ins stay.
	os.WriteFile(filepath.Join(dir, "acme-batch", "template.yaml"), []byte("apiVersion: scaffolder.backstage.io/v1beta3\nkind: Template\nmetadata: {name: acme-batch}\nspec:\n  steps:\n    - action: fetch:template\n      input: {url: ./skeleton, colour: red}\n"), 0o644)
	os.MkdirAll(filepath.Join(dir, "deep", "er"), 0o755)
	os.WriteFile(filepath.Join(dir, "deep", "er", "roadie.yaml"), []byte("apiVersion: scaffolder.backstage.io/v1beta3\nkind: Template\nmetadata: {name: roadie}\nspec:\n  steps:\n    - action: roadiehq:utils:fs:write\n      input: {path: x}\n"), 0o644)
	code, out, errOut = run(t, "templates", "--templates", dir, "-o", "json")
	if code != 0 {
		t.Fatalf("code %d: %s", code, errOut)
	}
	list = nil
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	errs := map[string]string{}
	for _, s := range list {
		errs[s.Name] = s.Error
	}
	if !strings.Contains(errs["acme-batch"], `line 6: spec.steps[0]: (fetch:template) action fetch:template has no input "colour"`) ||
		!strings.Contains(errs["acme-batch"], filepath.Join("acme-batch", "template.yaml")) {
		t.Errorf("the broken template's error: %q", errs["acme-batch"])
	}
	if !strings.Contains(errs["roadie"], "@roadiehq/scaffolder-backend-module-utils") {
		t.Errorf("the third-party action's refusal: %q", errs["roadie"])
	}
	if e, ok := errs["python-service"]; !ok || e != "" {
		t.Errorf("the built-ins are not all usable: %q %v", e, ok)
	}
	code, out, _ = run(t, "templates", "--templates", dir)
	if code != 0 || !strings.Contains(out, "acme-batch  cannot be used") || !strings.Contains(out, "static-site") {
		t.Errorf("text listing: %d\n%s", code, out)
	}
	if code, _, errOut := run(t, "templates", "-o", "yaml"); code == 0 || !strings.Contains(errOut, "invalid output format") {
		t.Errorf("-o yaml: %d %s", code, errOut)
	}
}
