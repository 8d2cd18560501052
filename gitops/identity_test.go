package gitops

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/back-stack/idp/internal/testworld"
)

// Author and committer come from git config, the repository's first, then
// the global one; the environment, Options.Identity and the change set's
// author override them, as they would for git.
func TestIdentity(t *testing.T) {
	isolate(t)
	for _, k := range []string{"GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL"} {
		t.Setenv(k, "")
	}
	repo := filepath.Join(t.TempDir(), "gitops.git")
	testworld.Git(t, "", "init", "--quiet", "--bare", "--initial-branch=main", repo)
	global := filepath.Join(t.TempDir(), "gitconfig")
	t.Setenv("GIT_CONFIG_GLOBAL", global)

	commit := func(opts Options, cs ChangeSet) (string, error) {
		r, err := Open(ctxT(t), repo, opts)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		cs.Message = "m"
		cs.Files = []FileChange{write("f", time.Now().String())}
		res, err := r.Apply(ctxT(t), cs)
		if err != nil {
			return "", err
		}
		return testworld.Git(t, repo, "log", "-1", "--format=%an <%ae>|%cn <%ce>", res.Commit), nil
	}

	if _, err := commit(Options{}, ChangeSet{}); err == nil || !strings.Contains(err.Error(), "user.name") {
		t.Fatalf("no identity anywhere: %v, want an error that says to set user.name", err)
	}
	os.WriteFile(global, []byte("[user]\n\tname = Global Gal\n\temail = global@example.com\n"), 0o644)
	for _, tc := range []struct {
		name  string
		setup func()
		opts  Options
		cs    ChangeSet
		want  string
	}{
		{"global config", func() {}, Options{}, ChangeSet{}, "Global Gal <global@example.com>|Global Gal <global@example.com>"},
		{"repository config wins", func() {
			testworld.Git(t, repo, "config", "user.name", "Repo Rick")
			testworld.Git(t, repo, "config", "user.email", "repo@example.com")
		}, Options{}, ChangeSet{}, "Repo Rick <repo@example.com>|Repo Rick <repo@example.com>"},
		{"environment wins", func() {
			t.Setenv("GIT_COMMITTER_NAME", "Env Ed")
			t.Setenv("GIT_COMMITTER_EMAIL", "env@example.com")
		}, Options{}, ChangeSet{}, "Repo Rick <repo@example.com>|Env Ed <env@example.com>"},
		{"Options.Identity wins", func() {}, Options{Identity: &Signature{Name: "Opt Olga", Email: "opt@example.com"}}, ChangeSet{},
			"Opt Olga <opt@example.com>|Opt Olga <opt@example.com>"},
		{"change set's author", func() {}, Options{}, ChangeSet{Author: &Signature{Name: "Ann Author", Email: "ann@example.com"}},
			"Ann Author <ann@example.com>|Env Ed <env@example.com>"},
	} {
		tc.setup()
		got, err := commit(tc.opts, tc.cs)
		if err != nil || got != tc.want {
			t.Errorf("%s: %q %v, want %q", tc.name, got, err, tc.want)
		}
	}
	testworld.Git(t, repo, "fsck", "--strict", "--no-dangling")
}
