package gitops

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/back-stack/idp/internal/testworld"
)

// The git CLI, cloning from the server, sees exactly the change: one commit
// on the seed commit, with the author from the environment, the files
// added, modified, deleted and made executable, and a repository that
// passes git fsck --strict.
func TestApplyCommitsAndPushesExactlyTheChange(t *testing.T) {
	isolate(t)
	srv := testworld.StartGitServer(t)
	base := seed(t, srv, "gitops", map[string]string{
		"README.md":               "# platform\n",
		"apps/old/app.yaml":       "kind: Application\n",
		"apps/old/database.yaml":  "kind: Database\n",
		"platform/argocd/app.yml": "kind: Application\nname: argocd\n",
	})
	r := openURL(t, srv, "gitops", Options{})
	res, err := r.Apply(ctxT(t), ChangeSet{
		Message: "Add service pay\n\nCreated by idp.",
		Files: []FileChange{
			write("apps/pay/application.yaml", "kind: Application\nname: pay\n"),
			write("README.md", "# platform\n\nServices: pay\n"),
			{Path: "apps/old", Delete: true},
			{Path: "scripts/check.sh", Content: []byte("#!/bin/sh\nexit 0\n"), Mode: 0o755},
		},
	})
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if res.Attempts != 1 || res.Rebuilt || res.Branch != "main" {
		t.Fatalf("result %+v, want one attempt on main", res)
	}
	dir := cloneCLI(t, srv, "gitops")
	if got := testworld.Git(t, dir, "rev-parse", "HEAD"); got != res.Commit {
		t.Fatalf("server main is %s, idp pushed %s", got, res.Commit)
	}
	if got := testworld.Git(t, dir, "log", "--format=%P|%an <%ae>|%cn|%s|%b", "-1"); got != base+"|Ada Ops <ada@example.com>|Ada Ops|Add service pay|Created by idp." {
		t.Fatalf("commit: %q", got)
	}
	if got := testworld.Git(t, dir, "rev-list", "--count", "HEAD"); got != "2" {
		t.Fatalf("%s commits, want 2", got)
	}
	want := "D\tapps/old/app.yaml\nD\tapps/old/database.yaml\nA\tapps/pay/application.yaml\nM\tREADME.md\nA\tscripts/check.sh"
	if got := sortedLines(testworld.Git(t, dir, "show", "--no-renames", "--name-status", "--format=", "HEAD")); got != sortedLines(want) {
		t.Fatalf("changed files:\n%s\nwant:\n%s", got, want)
	}
	if got := readFile(t, filepath.Join(dir, "apps/pay/application.yaml")); got != "kind: Application\nname: pay\n" {
		t.Fatalf("content %q", got)
	}
	if got := testworld.Git(t, dir, "ls-files", "-s", "scripts/check.sh"); !strings.HasPrefix(got, "100755 ") {
		t.Fatalf("mode: %s", got)
	}
	if got := testworld.Git(t, dir, "ls-files", "-s", "README.md"); !strings.HasPrefix(got, "100644 ") {
		t.Fatalf("mode: %s", got)
	}
	// The local clone is current: the next change builds on the pushed commit.
	res2, err := r.Apply(ctxT(t), ChangeSet{Message: "second", Files: []FileChange{write("apps/pay/values.yaml", "replicas: 2\n")}})
	if err != nil {
		t.Fatal(err)
	}
	if got := testworld.Git(t, srv.RepoPath("gitops"), "log", "--format=%H %P", "-1", "main"); got != res2.Commit+" "+res.Commit {
		t.Fatalf("main is %q, want %s on %s", got, res2.Commit, res.Commit)
	}
	if p, _ := r.Pending(ctxT(t)); len(p) != 0 {
		t.Fatalf("%d pending commits after successful pushes", len(p))
	}
}

func sortedLines(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for i := range lines {
		for j := i + 1; j < len(lines); j++ {
			if lines[j] < lines[i] {
				lines[i], lines[j] = lines[j], lines[i]
			}
		}
	}
	return strings.Join(lines, "\n")
}

// A change set that changes nothing makes no commit, says so, and leaves
// the remote alone.
func TestNothingToCommit(t *testing.T) {
	isolate(t)
	srv := testworld.StartGitServer(t)
	base := seed(t, srv, "gitops", map[string]string{"a.yaml": "a: 1\n"})
	r := openURL(t, srv, "gitops", Options{})
	for name, cs := range map[string]ChangeSet{
		"same content":   {Message: "noop", Files: []FileChange{write("a.yaml", "a: 1\n")}},
		"delete missing": {Message: "noop", Files: []FileChange{{Path: "nope/x.yaml", Delete: true}}},
		"no files":       {Message: "noop"},
	} {
		_, err := r.Apply(ctxT(t), cs)
		if !errors.Is(err, ErrNothingToCommit) {
			t.Errorf("%s: err %v, want ErrNothingToCommit", name, err)
		}
	}
	if got := testworld.Git(t, srv.RepoPath("gitops"), "rev-parse", "main"); got != base {
		t.Fatalf("remote moved to %s", got)
	}
	if p, _ := r.Pending(ctxT(t)); len(p) != 0 {
		t.Fatalf("%d pending commits", len(p))
	}
}
