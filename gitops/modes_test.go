package gitops

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/back-stack/idp/internal/testworld"
)

// Pull-request mode pushes idp/<slug> from the default branch and leaves
// main alone; a second change set with the same slug adds to that branch.
func TestPullRequestBranch(t *testing.T) {
	isolate(t)
	srv := testworld.StartGitServer(t)
	base := seed(t, srv, "gitops", map[string]string{"apps/a.yaml": "a\n"})
	// The server prints a pull-request link while it takes the push, as
	// GitHub does for a new branch.
	hook := filepath.Join(srv.RepoPath("gitops"), "hooks", "pre-receive")
	os.WriteFile(hook, []byte("#!/bin/sh\necho \"Create a pull request for 'idp/add-service-pay-api' on GitHub by visiting:\"\n"+
		"echo '     https://forge.example.com/ops/gitops/pull/new/idp/add-service-pay-api'\ncat >/dev/null\n"), 0o755)
	r := openURL(t, srv, "gitops", Options{})
	res, err := r.Apply(ctxT(t), ChangeSet{Message: "Add service Pay API", PullRequest: true,
		Files: []FileChange{write("apps/pay/application.yaml", "pay\n")}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Branch != "idp/add-service-pay-api" {
		t.Fatalf("branch %q", res.Branch)
	}
	repo := srv.RepoPath("gitops")
	if got := testworld.Git(t, repo, "rev-parse", "main"); got != base {
		t.Fatalf("main moved to %s", got)
	}
	if got := testworld.Git(t, repo, "log", "--format=%P", "-1", "idp/add-service-pay-api"); got != base {
		t.Fatalf("branch parent %s, want main's tip %s", got, base)
	}
	res2, err := r.Apply(ctxT(t), ChangeSet{Message: "More", Slug: "add service pay api", PullRequest: true,
		Files: []FileChange{write("apps/pay/database.yaml", "db\n")}})
	if err != nil {
		t.Fatal(err)
	}
	if res2.Branch != res.Branch {
		t.Fatalf("second change went to %s", res2.Branch)
	}
	if got := testworld.Git(t, repo, "log", "--format=%s", "main..idp/add-service-pay-api"); got != "More\nAdd service Pay API" {
		t.Fatalf("branch history %q", got)
	}
	testworld.Git(t, repo, "fsck", "--strict", "--no-dangling")
	// The forge is not one idp knows, so the link comes from the server.
	if res.PullRequestURL != "https://forge.example.com/ops/gitops/pull/new/idp/add-service-pay-api" {
		t.Fatalf("pull-request URL %q; remote said %q", res.PullRequestURL, res.RemoteMessages)
	}
}

// A bare repository given as a path, without a remote, is written in place:
// the branch moves by compare-and-swap, as a server's would.
func TestLocalBareRepository(t *testing.T) {
	isolate(t)
	srv := testworld.StartGitServer(t)
	base := seed(t, srv, "gitops", map[string]string{"a.yaml": "a\n"})
	r, err := Open(ctxT(t), srv.RepoPath("gitops"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.RemoteURL() != "" || r.Branch() != "main" {
		t.Fatalf("remote %q branch %q", r.RemoteURL(), r.Branch())
	}
	c, err := r.Commit(ctxT(t), ChangeSet{Message: "local", Files: []FileChange{write("b.yaml", "b\n")}})
	if err != nil {
		t.Fatal(err)
	}
	// Another writer moves main first: the push rebuilds on it.
	other := pushCLI(t, srv, "gitops", map[string]string{"c.yaml": "c\n"}, "other")
	res, err := r.Push(ctxT(t), c)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Rebuilt {
		t.Fatalf("result %+v, want a rebuild", res)
	}
	repo := srv.RepoPath("gitops")
	if got := testworld.Git(t, repo, "log", "--format=%s", "main"); got != "local\nother\nseed" {
		t.Fatalf("history %q", got)
	}
	if got := testworld.Git(t, repo, "rev-parse", "main~1"); got != other {
		t.Fatalf("parent %s", got)
	}
	testworld.Git(t, repo, "fsck", "--strict", "--no-dangling")
	if got := testworld.Git(t, repo, "rev-parse", "main~2"); got != base {
		t.Fatalf("main~2 is %s, want the seed %s", got, base)
	}
}

// A developer's clone: idp commits onto origin/main and pushes, and never
// touches the work tree, the index or the checked-out branch.
func TestLocalCloneWithRemote(t *testing.T) {
	isolate(t)
	srv := testworld.StartGitServer(t)
	base := seed(t, srv, "gitops", map[string]string{"apps/a.yaml": "a\n"})
	dir := filepath.Join(t.TempDir(), "work")
	testworld.Git(t, "", "clone", "--quiet", srv.AuthURL("gitops"), dir)
	writeFiles(t, dir, map[string]string{"apps/a.yaml": "local edit\n", "scratch.txt": "mine\n"})
	statusBefore := testworld.Git(t, dir, "status", "--porcelain")
	r, err := Open(ctxT(t), filepath.Join(dir, "apps"), Options{}) // a folder inside the clone works too
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	res, err := r.Apply(ctxT(t), ChangeSet{Message: "from idp", Files: []FileChange{write("apps/b.yaml", "b\n")}})
	if err != nil {
		t.Fatal(err)
	}
	if got := testworld.Git(t, srv.RepoPath("gitops"), "rev-parse", "main"); got != res.Commit {
		t.Fatalf("server main %s, want %s", got, res.Commit)
	}
	if got := testworld.Git(t, dir, "rev-parse", "main"); got != base {
		t.Fatalf("local main moved to %s", got)
	}
	if got := testworld.Git(t, dir, "rev-parse", "origin/main"); got != res.Commit {
		t.Fatalf("origin/main %s", got)
	}
	if got := testworld.Git(t, dir, "status", "--porcelain"); got != statusBefore {
		t.Fatalf("work tree status changed:\n%s\nwas:\n%s", got, statusBefore)
	}
	testworld.Git(t, dir, "fsck", "--strict", "--no-dangling")
	// git pull fast-forwards the developer to it (after stashing the edit).
	testworld.Git(t, dir, "stash", "--quiet", "--include-untracked")
	testworld.Git(t, dir, "merge", "--quiet", "--ff-only", "origin/main")
	if got := readFile(t, filepath.Join(dir, "apps/b.yaml")); got != "b\n" {
		t.Fatalf("b.yaml %q", got)
	}
}

// Without a remote, a checked-out branch is refused rather than moved
// under the work tree.
func TestCheckedOutBranchWithoutRemoteRefused(t *testing.T) {
	isolate(t)
	dir := t.TempDir()
	testworld.Git(t, dir, "init", "--quiet", "--initial-branch=main")
	writeFiles(t, dir, map[string]string{"a": "a\n"})
	testworld.Git(t, dir, "add", "-A")
	testworld.Git(t, dir, "commit", "--quiet", "-m", "init")
	r, err := Open(ctxT(t), dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	_, err = r.Apply(ctxT(t), ChangeSet{Message: "x", Files: []FileChange{write("b", "b\n")}})
	if err == nil || !strings.Contains(err.Error(), "checked out") {
		t.Fatalf("err %v, want a refusal to move the checked-out branch", err)
	}
	// Another branch of the same repository is fine.
	r2, err := Open(ctxT(t), dir, Options{Branch: "config"})
	if err != nil {
		t.Fatal(err)
	}
	defer r2.Close()
	if _, err := r2.Apply(ctxT(t), ChangeSet{Message: "x", Files: []FileChange{write("b", "b\n")}}); err != nil {
		t.Fatal(err)
	}
	if got := testworld.Git(t, dir, "log", "--format=%s", "config"); got != "x" {
		t.Fatalf("config branch %q", got)
	}
	testworld.Git(t, dir, "fsck", "--strict", "--no-dangling")
}
