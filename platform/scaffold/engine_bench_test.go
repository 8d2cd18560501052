package scaffold

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/back-stack/idp/assets"
	"github.com/back-stack/idp/gitops"
	"github.com/back-stack/idp/platform/forge"
	"github.com/back-stack/idp/platform/templates"
)

// BenchmarkNewService is the whole of `idp new` apart from the network:
// render go-service with a database, create a bare repository, commit the
// skeleton to it, and commit apps/NAME/ to a GitOps repository (local
// bare repositories, file:// URLs).
func BenchmarkNewService(b *testing.B) {
	ctx := context.Background()
	dir := b.TempDir()
	gitopsDir := filepath.Join(dir, "gitops.git")
	if out, err := exec.Command("git", "init", "--quiet", "--bare", "--initial-branch=main", gitopsDir).CombinedOutput(); err != nil {
		b.Fatalf("%v: %s", err, out)
	}
	b.Setenv("GIT_AUTHOR_NAME", "Bench")
	b.Setenv("GIT_AUTHOR_EMAIL", "bench@example.com")
	b.Setenv("GIT_COMMITTER_NAME", "Bench")
	b.Setenv("GIT_COMMITTER_EMAIL", "bench@example.com")
	opts := gitops.Options{CacheDir: filepath.Join(dir, "cache")}
	repo, err := gitops.Open(ctx, "file://"+gitopsDir, opts)
	if err != nil {
		b.Fatal(err)
	}
	defer repo.Close()
	fg, err := forge.NewLocal(filepath.Join(dir, "forge"), "")
	if err != nil {
		b.Fatal(err)
	}
	engine := &Engine{Repo: repo, Options: opts}
	svc := &Service{
		Templates: func(context.Context) (*templates.Catalog, error) {
			var c templates.Catalog
			return &c, c.LoadFS(assets.Templates(), ".", templates.BuiltinSource)
		},
		Forge: fg, GitOps: engine, Repos: engine,
	}
	i := 0
	for b.Loop() {
		i++
		p, err := svc.Prepare(ctx, Request{Template: "go-service", Values: map[string]any{"name": fmt.Sprintf("svc-%d", i), "database": true}})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := svc.Apply(ctx, p); err != nil {
			b.Fatal(err)
		}
	}
}
