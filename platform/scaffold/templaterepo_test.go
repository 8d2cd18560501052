package scaffold

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/back-stack/idp/assets"
	"github.com/back-stack/idp/gitops"
	"github.com/back-stack/idp/internal/testworld"
	"github.com/back-stack/idp/platform/templates"
)

// An organisation's templates in a Git repository behind basic auth, read
// through the gitops engine: listed, and their skeleton rendered.
func TestTemplatesFromGit(t *testing.T) {
	srv := testworld.StartGitServer(t)
	srv.CreateRepo(t, "templates")
	work := filepath.Join(t.TempDir(), "w")
	testworld.Git(t, "", "clone", "--quiet", srv.AuthURL("templates"), work)
	dir := filepath.Join(work, "acme-service")
	os.MkdirAll(filepath.Join(dir, "skeleton", "deploy"), 0o755)
	os.WriteFile(filepath.Join(dir, templates.FileName), []byte(`apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata: {name: acme-service}
spec:
  parameters:
    - properties:
        name: {type: string, default: svc}
  steps:
    - action: fetch:template
      input: {url: ./skeleton, values: {name: '${{ parameters.name }}'}}
`), 0o644)
	os.WriteFile(filepath.Join(dir, "skeleton", "deploy", "x.txt"), []byte("hello ${{ values.name }}"), 0o644)
	os.WriteFile(filepath.Join(dir, "skeleton", "run.sh"), []byte("#!/bin/sh\n"), 0o755)
	testworld.Git(t, work, "add", ".")
	testworld.Git(t, work, "commit", "--quiet", "-m", "templates")
	testworld.Git(t, work, "push", "--quiet", "origin", "HEAD:main")

	opts := gitops.Options{CacheDir: t.TempDir()}
	clone := func(ctx context.Context, url, ref string) (fs.FS, error) { return TemplateRepoFS(ctx, url, ref, opts) }
	c, err := templates.Sources(context.Background(), assets.Templates(), []string{srv.AuthURL("templates")}, clone)
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := c.Get("acme-service")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(tpl.Source, srv.Password) {
		t.Errorf("the source shows the password: %s", tpl.Source)
	}
	plan, err := tpl.Execute(map[string]any{"name": "pay"}, templates.Env{Repo: func(_, n string) (string, string) { return n, "" }})
	if err != nil {
		t.Fatal(err)
	}
	if string(plan.Content("deploy/x.txt")) != "hello pay" {
		t.Errorf("files %v", plan.Files)
	}
	for _, f := range plan.Files {
		if f.Path == "run.sh" && f.Mode != 0o755 {
			t.Errorf("run.sh mode %o", f.Mode)
		}
	}
	bad := strings.Replace(srv.AuthURL("templates"), srv.Password, "wrong", 1)
	c, err = templates.Sources(context.Background(), assets.Templates(), []string{bad}, clone)
	if err != nil || len(c.Broken) != 1 || strings.Contains(c.Broken[0].Error(), "wrong") || strings.Contains(c.Broken[0].Source, "wrong") {
		t.Errorf("a wrong password: %v, %+v", err, c.Broken)
	}
	if _, err := c.Get("go-service"); err != nil {
		t.Errorf("a source that cannot be read hid the built-ins: %v", err)
	}
}
