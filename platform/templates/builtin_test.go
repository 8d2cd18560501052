package templates

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/back-stack/idp/assets"
)

func builtins(t testing.TB) *Catalog {
	t.Helper()
	var c Catalog
	if err := c.LoadFS(assets.Templates(), ".", BuiltinSource); err != nil {
		t.Fatal(err)
	}
	return &c
}

func testEnv() Env {
	return Env{Repo: func(owner, name string) (string, string) {
		return "https://git.example.com/" + name + ".git", "https://git.example.com/" + name
	}}
}

func TestBuiltinsRender(t *testing.T) {
	c := builtins(t)
	var names []string
	for _, tpl := range c.Templates {
		names = append(names, tpl.Name)
	}
	if strings.Join(names, ",") != "go-service,python-service,static-site" {
		t.Fatalf("built-in templates = %v", names)
	}
	for _, tpl := range c.Templates {
		for _, db := range []bool{false, true} {
			plan, err := tpl.Execute(map[string]any{"name": "payments-api", "description": "Takes: payments \"fast\" # really", "database": db}, testEnv())
			if err != nil {
				t.Fatalf("%s (database %v): %v", tpl.Name, db, err)
			}
			for _, want := range []string{"Dockerfile", "README.md", "deploy/deployment.yaml", "deploy/service.yaml", "catalog-info.yaml"} {
				if plan.Content(want) == nil {
					t.Errorf("%s: no %s in %v", tpl.Name, want, filePaths(plan))
				}
			}
			for _, f := range plan.Files {
				if strings.HasSuffix(f.Path, ".njk") || strings.Contains(string(f.Content), "${{") {
					t.Errorf("%s: %s is not rendered", tpl.Name, f.Path)
				}
				if strings.HasSuffix(f.Path, ".yaml") {
					var doc map[string]any
					if err := yaml.Unmarshal(f.Content, &doc); err != nil {
						t.Errorf("%s: %s does not parse: %v\n%s", tpl.Name, f.Path, err, f.Content)
					}
				}
			}
			if (plan.Database != nil) != db {
				t.Errorf("%s: database asked %v, planned %+v", tpl.Name, db, plan.Database)
			}
			if db && !strings.Contains(string(plan.Content("deploy/deployment.yaml")), "payments-api-db") {
				t.Errorf("%s: the deployment does not use the database secret", tpl.Name)
			}
			if plan.Repo == nil || plan.Repo.Name != "payments-api" || plan.Application == nil || plan.Application.RepoURL != "https://git.example.com/payments-api.git" {
				t.Errorf("%s: repo %+v application %+v", tpl.Name, plan.Repo, plan.Application)
			}
			if plan.Output == nil || len(plan.Output.Links) != 1 || plan.Output.Links[0].URL != "https://git.example.com/payments-api" {
				t.Errorf("%s: output %+v", tpl.Name, plan.Output)
			}
		}
	}
}

func filePaths(p *Plan) []string {
	var out []string
	for _, f := range p.Files {
		out = append(out, f.Path)
	}
	return out
}

// The rendered services are real programs: the Go one vets, the Python
// one compiles.
func TestBuiltinServicesCompile(t *testing.T) {
	c := builtins(t)
	for _, tc := range []struct {
		template string
		check    []string
	}{
		{"go-service", []string{"go", "vet", "./..."}},
		{"python-service", []string{"python3", "-m", "py_compile", "app.py"}},
	} {
		tpl, err := c.Get(tc.template)
		if err != nil {
			t.Fatal(err)
		}
		for _, db := range []bool{false, true} {
			plan, err := tpl.Execute(map[string]any{"name": "payments-api", "database": db}, testEnv())
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			for _, f := range plan.Files {
				p := filepath.Join(dir, filepath.FromSlash(f.Path))
				os.MkdirAll(filepath.Dir(p), 0o755)
				if err := os.WriteFile(p, f.Content, f.Mode); err != nil {
					t.Fatal(err)
				}
			}
			cmd := exec.Command(tc.check[0], tc.check[1:]...)
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=", "GOTOOLCHAIN=local")
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("%s (database %v): %s: %v\n%s", tc.template, db, strings.Join(tc.check, " "), err, out)
			}
		}
	}
}
