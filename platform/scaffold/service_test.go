package scaffold

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/back-stack/idp/assets"
	"github.com/back-stack/idp/gitops/secrets"
	"github.com/back-stack/idp/platform/forge"
	"github.com/back-stack/idp/platform/platformconfig"
	"github.com/back-stack/idp/platform/templates"
)

// memGitOps records changes; the real engine is exercised end to end in
// e2e/new_test.go.
type memGitOps struct {
	paths   map[string]bool
	applied []Change
}

func (g *memGitOps) Exists(_ context.Context, p string) (bool, error) { return g.paths[p], nil }
func (g *memGitOps) Target() (string, string)                         { return "", "main" }
func (g *memGitOps) Preview(_ context.Context, c Change) (string, string, string, error) {
	branch := "main"
	if c.PullRequest {
		branch = "idp/" + c.Slug
	}
	var b strings.Builder
	for _, f := range c.Files {
		b.WriteString("+++ b/" + f.Path + "\n")
	}
	return b.String(), branch, "base123", nil
}
func (g *memGitOps) Apply(_ context.Context, c Change) (Applied, error) {
	g.applied = append(g.applied, c)
	branch := "main"
	if c.PullRequest {
		branch = "idp/" + c.Slug
	}
	return Applied{Commit: "c0ffee", Branch: branch, CompareURL: "https://forge/compare/" + branch}, nil
}

type memRepos struct{ commits map[string][]templates.File }

func (m *memRepos) InitialCommit(_ context.Context, url, _ string, files []templates.File, _ string) (string, error) {
	m.commits[url] = files
	return "beef", nil
}

func newTestService(t *testing.T, policy string) (*Service, *memGitOps, *memRepos) {
	t.Helper()
	l, err := forge.NewLocal(t.TempDir(), "")
	if err != nil {
		t.Fatal(err)
	}
	g, r := &memGitOps{paths: map[string]bool{"apps/taken": true}}, &memRepos{commits: map[string][]templates.File{}}
	return &Service{
		Templates: func(context.Context) (*templates.Catalog, error) {
			var c templates.Catalog
			return &c, c.LoadFS(assets.Templates(), ".", templates.BuiltinSource)
		},
		Forge: l, GitOps: g, Repos: r,
		Platform: platformconfig.Config{GitOps: platformconfig.GitOps{Changes: policy}},
	}, g, r
}

func TestServicePrepareAndApply(t *testing.T) {
	ctx := context.Background()
	s, g, repos := newTestService(t, "")
	p, err := s.Prepare(ctx, Request{Template: "python-service", Values: map[string]any{"name": "pay", "database": true}})
	if err != nil {
		t.Fatal(err)
	}
	want := "apps/pay/application.yaml,apps/pay/database.yaml,apps/pay/namespace.yaml"
	if got := strings.Join(p.DryRun().GitOps.Paths, ","); got != want || p.ChangePolicy != platformconfig.ChangeDirect || p.Branch != "main" {
		t.Errorf("proposal paths %s policy %s branch %s", got, p.ChangePolicy, p.Branch)
	}
	if len(g.applied) != 0 || len(repos.commits) != 0 {
		t.Fatal("Prepare wrote something")
	}
	res, err := s.Apply(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if res.Repository.Commit != "beef" || res.GitOps.Commit != "c0ffee" || len(repos.commits[p.Repo.CloneURL]) == 0 {
		t.Errorf("result %+v", res)
	}
	if _, err := s.Prepare(ctx, Request{Template: "python-service", Values: map[string]any{"name": "pay"}}); !errors.Is(err, ErrExists) {
		t.Errorf("a second pay: %v", err)
	}
	if _, err := s.Prepare(ctx, Request{Template: "go-service", Values: map[string]any{"name": "taken"}}); !errors.Is(err, ErrExists) || !strings.Contains(err.Error(), "apps/taken") {
		t.Errorf("a service in the GitOps repository: %v", err)
	}
	for _, bad := range []Request{
		{Template: "rails", Values: map[string]any{"name": "x"}},
		{Template: "go-service", Values: map[string]any{"name": "Bad_Name"}},
		{Template: "go-service", Values: map[string]any{"name": "x", "colour": "red"}},
		{Template: "go-service", Values: map[string]any{"name": "x"}, ChangePolicy: "yolo"},
	} {
		if _, err := s.Prepare(ctx, bad); err == nil {
			t.Errorf("Prepare(%+v) succeeded", bad)
		}
	}
	if len(g.applied) != 1 {
		t.Errorf("GitOps changes: %d", len(g.applied))
	}
}

func TestServicePullRequests(t *testing.T) {
	ctx := context.Background()
	s, g, _ := newTestService(t, platformconfig.ChangePullRequest)
	p, err := s.Prepare(ctx, Request{Template: "static-site", Values: map[string]any{"name": "docs"}})
	if err != nil {
		t.Fatal(err)
	}
	if p.ChangePolicy != platformconfig.ChangePullRequest || p.Branch != "idp/new-service-docs" {
		t.Errorf("policy %s branch %s", p.ChangePolicy, p.Branch)
	}
	res, err := s.Apply(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	// The local forge has no pull requests: the branch and the compare link say what to do.
	if !g.applied[0].PullRequest || res.GitOps.PullRequestURL != "https://forge/compare/idp/new-service-docs" || !strings.Contains(strings.Join(res.Notes, "\n"), "open its pull request") {
		t.Errorf("result %+v", res)
	}
	// A run may override the platform's rule.
	p, err = s.Prepare(ctx, Request{Template: "static-site", Values: map[string]any{"name": "blog"}, ChangePolicy: platformconfig.ChangeDirect})
	if err != nil || p.Branch != "main" {
		t.Errorf("direct override: %v %v", p, err)
	}
}

// A credential in an answer is refused before anything is written, in the
// service repository's files as in the GitOps change; the error names the
// file, the line and the rule, never the secret.
func TestServiceRefusesSecrets(t *testing.T) {
	ctx := context.Background()
	s, g, repos := newTestService(t, "")
	token := "ghp_Zk3RbV9qT1mWx7LcP2sHd8NfJ4yGa6EuQ0oB"
	_, err := s.Prepare(ctx, Request{Template: "go-service", Values: map[string]any{"name": "pay", "owner": "team", "description": "uses " + token}})
	var se *secrets.Error
	if !errors.As(err, &se) || se.Findings[0].Rule != "github-pat" || se.Findings[0].Line == 0 || se.Findings[0].Path == "" {
		t.Fatalf("Prepare = %v, want a github-pat finding", err)
	}
	if strings.Contains(err.Error(), token) || !strings.Contains(err.Error(), "nothing was written") {
		t.Errorf("error %q", err)
	}
	if len(g.applied) != 0 || len(repos.commits) != 0 {
		t.Fatal("something was written")
	}
	// Explicitly allowed by the platform, it goes through.
	for _, f := range se.Findings {
		s.Platform.Secrets.Allow = append(s.Platform.Secrets.Allow, secrets.Allow{Path: f.Path, Rule: f.Rule, Reason: "a revoked token in the example"})
	}
	if _, err := s.Prepare(ctx, Request{Template: "go-service", Values: map[string]any{"name": "pay", "owner": "team", "description": "uses " + token}}); err != nil {
		t.Fatalf("allowed: %v", err)
	}
}
