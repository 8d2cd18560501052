package bootstrap

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/back-stack/idp/platform/platformconfig"
)

// New builds the whole run from the wizard's answers: the commit first,
// then the pipeline's steps; a bad answer is refused before anything.
func TestNewBuildsTheRunCommitFirst(t *testing.T) {
	cfg := renderTestConfig()
	kubeconfig := filepath.Join(t.TempDir(), "seed.kubeconfig")
	if err := os.WriteFile(kubeconfig, []byte("apiVersion: v1\nkind: Config\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	b, err := New(cfg, RunOptions{SeedKubeconfig: kubeconfig, StateDir: t.TempDir(), ResumeCommand: "idp bootstrap --config p.yaml --resume"})
	if err != nil {
		t.Fatal(err)
	}
	steps := b.Steps(nil)
	if len(steps) != 9 || steps[0].ID != StepCommit || steps[1].ID != StepPreflight || steps[8].ID != StepDeleteSeed {
		var ids []StepID
		for _, s := range steps {
			ids = append(ids, s.ID)
		}
		t.Fatalf("steps %v", ids)
	}
	if len(b.Files) == 0 {
		t.Fatal("nothing rendered")
	}

	bad := cfg
	bad.Azure.ACR.Name = "acme-platform"
	if _, err := New(bad, RunOptions{SeedKubeconfig: kubeconfig, StateDir: t.TempDir()}); err == nil || !strings.Contains(err.Error(), "azure.acr.name") {
		t.Fatalf("a bad ACR name: %v", err)
	}
}

// The commit step lands the platform in Git; with pull-request changes it
// stops until the pull request is merged, and says so.
func TestCommitStep(t *testing.T) {
	ctx := context.Background()
	for _, mode := range []string{platformconfig.ChangeDirect, platformconfig.ChangePullRequest} {
		t.Run(mode, func(t *testing.T) {
			w := newCommitWorld(t)
			cfg := renderTestConfig()
			cfg.GitOps.URL, cfg.GitOps.Branch, cfg.GitOps.Changes = w.srv.RepoURL("gitops"), "main", mode
			kubeconfig := filepath.Join(t.TempDir(), "seed.kubeconfig")
			os.WriteFile(kubeconfig, []byte("apiVersion: v1\nkind: Config\n"), 0o600)
			b, err := New(cfg, RunOptions{SeedKubeconfig: kubeconfig, StateDir: t.TempDir(), ResumeCommand: "idp bootstrap --resume"})
			if err != nil {
				t.Fatal(err)
			}
			step := b.CommitStep(w.open(t, "main"))
			var logs []string
			err = step.Run(ctx, &StepOutput{emit: func(ev Event) { logs = append(logs, ev.Line) }})
			switch mode {
			case platformconfig.ChangeDirect:
				if err != nil {
					t.Fatal(err)
				}
				w.pull(t)
				if _, err := os.Stat(filepath.Join(w.work, RootPath)); err != nil {
					t.Fatal("main lacks the platform after the commit step")
				}
				if !strings.Contains(strings.Join(logs, "\n"), "add "+RootPath) {
					t.Errorf("the log does not list the files: %v", logs)
				}
			case platformconfig.ChangePullRequest:
				var u *unmergedError
				if !errors.As(err, &u) {
					t.Fatalf("pull-request mode went on: %v", err)
				}
				if next := step.NextAction(err); !strings.Contains(next, "Merge the branch idp/"+PullRequestSlug+" into main, then run idp bootstrap --resume") {
					t.Errorf("next action: %s", next)
				}
				w.pull(t)
				if _, err := os.Stat(filepath.Join(w.work, RootPath)); err == nil {
					t.Fatal("pull-request mode committed to main")
				}
			}
		})
	}
}

// The wizard's prefill reads az's login; a fake az on the PATH stands in
// for the real one (which needs a browser login).
func TestAzureLogin(t *testing.T) {
	dir := t.TempDir()
	script := "#!/bin/sh\n[ \"$1 $2\" = \"account show\" ] || exit 2\necho '{\"id\":\"11111111-1111-1111-1111-111111111111\",\"tenantId\":\"22222222-2222-2222-2222-222222222222\",\"user\":{\"name\":\"ada@example.com\"}}'\n"
	if err := os.WriteFile(filepath.Join(dir, "az"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir)
	sub, tenant, ok := AzureLogin(context.Background())
	if !ok || sub != "11111111-1111-1111-1111-111111111111" || tenant != "22222222-2222-2222-2222-222222222222" {
		t.Fatalf("AzureLogin = %q %q %v", sub, tenant, ok)
	}
	t.Setenv("PATH", t.TempDir())
	if _, _, ok := AzureLogin(context.Background()); ok {
		t.Fatal("AzureLogin without az said ok")
	}
}
