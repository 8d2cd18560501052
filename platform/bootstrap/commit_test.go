package bootstrap

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/back-stack/idp/gitops"
	"github.com/back-stack/idp/internal/testworld"
	"github.com/back-stack/idp/platform/platformconfig"
)

// commitWorld is a GitOps repository on a real git server holding a README
// on main, and a work tree to look at it with the git CLI.
type commitWorld struct {
	srv  *testworld.GitServer
	work string
}

func newCommitWorld(t *testing.T) *commitWorld {
	t.Helper()
	w := &commitWorld{srv: testworld.StartGitServer(t), work: filepath.Join(t.TempDir(), "work")}
	w.srv.CreateRepo(t, "gitops")
	testworld.Git(t, "", "clone", "--quiet", w.srv.AuthURL("gitops"), w.work)
	if err := os.WriteFile(filepath.Join(w.work, "README.md"), []byte("# acme gitops\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	testworld.Git(t, w.work, "add", ".")
	testworld.Git(t, w.work, "commit", "--quiet", "-m", "initial")
	testworld.Git(t, w.work, "push", "--quiet", "origin", "HEAD:main")
	return w
}

func (w *commitWorld) open(t *testing.T, branch string) *gitops.Repo {
	t.Helper()
	repo, err := gitops.Open(context.Background(), w.srv.RepoURL("gitops"), gitops.Options{
		CacheDir: t.TempDir(), Branch: branch,
		Username: w.srv.User, Token: w.srv.Password,
		Identity: &gitops.Signature{Name: "Ada Lovelace", Email: "ada@example.com"},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { repo.Close() })
	return repo
}

// pull brings the work tree to the remote's main and returns its tip.
func (w *commitWorld) pull(t *testing.T) string {
	t.Helper()
	testworld.Git(t, w.work, "fetch", "--quiet", "origin")
	testworld.Git(t, w.work, "reset", "--quiet", "--hard", "origin/main")
	return testworld.Git(t, w.work, "rev-parse", "HEAD")
}

func commitCount(t *testing.T, dir, rev string) string {
	t.Helper()
	return testworld.Git(t, dir, "rev-list", "--count", rev)
}

func TestCommitIsOneIdempotentChangeSet(t *testing.T) {
	ctx := context.Background()
	w := newCommitWorld(t)
	cfg := renderTestConfig()
	cfg.GitOps.URL = w.srv.RepoURL("gitops")
	cfg.GitOps.Branch = "main"
	repo := w.open(t, "main")

	// A preview writes nothing and shows every file as added.
	p, files, err := Preview(ctx, repo, cfg, CommitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Changes) != len(files) || p.Branch != "main" || !strings.Contains(p.Diff, "+++ b/"+RootPath) {
		t.Errorf("preview: %d changes for %d files on %s", len(p.Changes), len(files), p.Branch)
	}

	first, err := Commit(ctx, repo, cfg, CommitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if first.UpToDate || first.Commit == "" || first.Branch != "main" || len(first.Changes) != len(files) {
		t.Fatalf("first commit: %+v", first)
	}
	for _, ch := range first.Changes {
		if ch.Action != "add" {
			t.Errorf("first commit %s %s", ch.Action, ch.Path)
		}
	}
	tip := w.pull(t)
	if tip != first.Commit {
		t.Fatalf("remote main is %s, the commit %s", tip, first.Commit)
	}
	testworld.Git(t, w.work, "fsck", "--strict")
	if n := commitCount(t, w.work, "HEAD"); n != "2" {
		t.Errorf("%s commits on main, want the initial one and one bootstrap commit", n)
	}
	if got := testworld.Git(t, w.work, "log", "-1", "--format=%an|%s"); got != "Ada Lovelace|bootstrap: platform AKS_Acme in swedencentral" {
		t.Errorf("commit %q", got)
	}
	changed := strings.Fields(testworld.Git(t, w.work, "diff-tree", "--no-commit-id", "--name-only", "-r", "HEAD"))
	slices.Sort(changed)
	if strings.Join(changed, ",") != strings.Join(files.Paths(), ",") {
		t.Errorf("the commit touches %v,\nrendered %v", changed, files.Paths())
	}
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join(w.work, filepath.FromSlash(f.Path)))
		if err != nil || string(data) != string(f.Content) {
			t.Errorf("%s in Git differs from what was rendered: %v", f.Path, err)
		}
	}
	if _, err := os.Stat(filepath.Join(w.work, "README.md")); err != nil {
		t.Error("the commit removed a file it does not render")
	}
	conf, _ := os.ReadFile(filepath.Join(w.work, ".idp", "platform.yaml"))
	if back, err := platformconfig.Parse(conf); err != nil || !reflect.DeepEqual(back, cfg) {
		t.Errorf(".idp/platform.yaml in Git: %v", err)
	}

	// Again, with nothing changed: no commit, and it says so.
	again, err := Commit(ctx, repo, cfg, CommitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !again.UpToDate || again.Commit != "" || len(again.Changes) != 0 || !strings.Contains(again.Summary(), "nothing to commit") {
		t.Errorf("second run: %+v (%s)", again, again.Summary())
	}
	if tip := w.pull(t); tip != first.Commit {
		t.Errorf("the second run moved main to %s", tip)
	}
	// A fresh clone of the same state agrees.
	if again, err := Commit(ctx, w.open(t, "main"), cfg, CommitOptions{}); err != nil || !again.UpToDate {
		t.Errorf("a new clone: %+v %v", again, err)
	}

	// Someone edits a rendered file and adds one of their own: the next
	// run restores the first in one commit and leaves the second alone.
	edited := filepath.Join(w.work, "platform", "kyverno", "application.yaml")
	if err := os.WriteFile(edited, []byte("# hand-edited\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(w.work, "platform", "kyverno", "policies.yaml"), []byte("# mine\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	testworld.Git(t, w.work, "add", ".")
	testworld.Git(t, w.work, "commit", "--quiet", "-m", "hand edit")
	testworld.Git(t, w.work, "push", "--quiet", "origin", "HEAD:main")
	fixed, err := Commit(ctx, repo, cfg, CommitOptions{Author: &gitops.Signature{Name: "Grace Hopper", Email: "grace@example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	if fixed.UpToDate || len(fixed.Changes) != 1 || fixed.Changes[0].Path != "platform/kyverno/application.yaml" || fixed.Changes[0].Action != "modify" {
		t.Fatalf("after a hand edit: %+v", fixed)
	}
	w.pull(t)
	if n := commitCount(t, w.work, "HEAD"); n != "4" {
		t.Errorf("%s commits on main, want 4", n)
	}
	want, _ := files.Get("platform/kyverno/application.yaml")
	if data, _ := os.ReadFile(edited); string(data) != string(want) {
		t.Error("the hand-edited file was not restored")
	}
	if _, err := os.Stat(filepath.Join(w.work, "platform", "kyverno", "policies.yaml")); err != nil {
		t.Error("a file idp does not render was removed")
	}
	if got := testworld.Git(t, w.work, "log", "-1", "--format=%an"); got != "Grace Hopper" {
		t.Errorf("author %q", got)
	}
}

func TestCommitPullRequest(t *testing.T) {
	ctx := context.Background()
	w := newCommitWorld(t)
	cfg := renderTestConfig()
	cfg.GitOps.URL = w.srv.RepoURL("gitops")
	cfg.GitOps.Branch = "main"
	cfg.GitOps.Changes = platformconfig.ChangePullRequest
	repo := w.open(t, "main")
	mainTip := w.pull(t)

	res, err := Commit(ctx, repo, cfg, CommitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	const branch = "idp/" + PullRequestSlug
	if res.UpToDate || res.Branch != branch || res.Commit == "" {
		t.Fatalf("pull request: %+v", res)
	}
	if tip := w.pull(t); tip != mainTip {
		t.Error("a pull-request change moved main")
	}
	testworld.Git(t, w.work, "fetch", "--quiet", "origin")
	if got := testworld.Git(t, w.work, "rev-parse", "origin/"+branch); got != res.Commit {
		t.Errorf("branch %s is at %s, the commit %s", branch, got, res.Commit)
	}
	if got := testworld.Git(t, w.work, "rev-parse", "origin/"+branch+"^"); got != mainTip {
		t.Errorf("the pull request does not start at main's tip")
	}
	if got := testworld.Git(t, w.work, "show", "origin/"+branch+":"+RootPath); !strings.Contains(got, "kind: Application") {
		t.Errorf("%s on the branch: %s", RootPath, got)
	}

	// Again: the open pull request already holds it.
	again, err := Commit(ctx, repo, cfg, CommitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !again.UpToDate || again.Branch != branch {
		t.Errorf("second run: %+v", again)
	}
	// A changed answer updates the pull request with one more commit.
	cfg.Components.Kyverno = "3.9.0"
	upd, err := Commit(ctx, repo, cfg, CommitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	paths := []string{}
	for _, ch := range upd.Changes {
		paths = append(paths, ch.Path)
	}
	if upd.UpToDate || upd.Branch != branch || strings.Join(paths, ",") != ".idp/platform.yaml,platform/kyverno/application.yaml" {
		t.Errorf("update: %+v", upd)
	}
	testworld.Git(t, w.work, "fetch", "--quiet", "origin")
	if n := commitCount(t, w.work, "origin/"+branch); n != "3" {
		t.Errorf("%s commits on %s, want 3", n, branch)
	}
}

func TestCommitRefusesAnotherBranch(t *testing.T) {
	w := newCommitWorld(t)
	cfg := renderTestConfig()
	cfg.GitOps.URL = w.srv.RepoURL("gitops")
	cfg.GitOps.Branch = "platform"
	_, err := Commit(context.Background(), w.open(t, "main"), cfg, CommitOptions{})
	if err == nil || !strings.Contains(err.Error(), "Argo CD will follow platform") {
		t.Errorf("a commit to main for a platform that follows another branch: %v", err)
	}
	if tip := w.pull(t); commitCount(t, w.work, tip) != "1" {
		t.Error("something was committed")
	}

	bad := renderTestConfig()
	bad.Azure.ACR.Name = "x"
	if _, err := Commit(context.Background(), w.open(t, "main"), bad, CommitOptions{}); err == nil || !strings.Contains(err.Error(), "azure.acr.name") {
		t.Errorf("an invalid configuration: %v", err)
	}
}
