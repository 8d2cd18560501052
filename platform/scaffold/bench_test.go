package scaffold

import (
	"testing"

	"github.com/back-stack/idp/assets"
	"github.com/back-stack/idp/platform/templates"
)

// BenchmarkRenderBuiltin measures what happens before any Git work: load
// the built-in catalog, run go-service with a database into a plan and
// write its Application, database and namespace manifests.
func BenchmarkRenderBuiltin(b *testing.B) {
	env := templates.Env{Repo: func(_, name string) (string, string) { return "https://x/" + name + ".git", "" }}
	for b.Loop() {
		var cat templates.Catalog
		if err := cat.LoadFS(assets.Templates(), ".", templates.BuiltinSource); err != nil {
			b.Fatal(err)
		}
		tpl, err := cat.Get("go-service")
		if err != nil {
			b.Fatal(err)
		}
		plan, err := tpl.Execute(map[string]any{"name": "payments-api", "database": true}, env)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := ApplicationManifest(plan.Application, tpl.Name, Options{}); err != nil {
			b.Fatal(err)
		}
		if _, err := DatabaseManifest(plan.Database, plan.Application.Name, Options{}); err != nil {
			b.Fatal(err)
		}
		if _, err := NamespaceManifest(plan.Database.Namespace, plan.Application.Name); err != nil {
			b.Fatal(err)
		}
	}
}
