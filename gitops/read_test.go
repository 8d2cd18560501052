package gitops

import (
	"errors"
	"fmt"
	"io/fs"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/back-stack/idp/internal/testworld"
)

// gitAt runs git with both dates fixed, so history order is unambiguous.
func gitAt(t *testing.T, dir string, unix int, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	date := fmt.Sprintf("%d +0000", 1700000000+unix)
	cmd.Env = append(testworld.GitEnv(), "GIT_AUTHOR_DATE="+date, "GIT_COMMITTER_DATE="+date)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// History with a merge, read back by idp and compared with git log.
func TestReadSide(t *testing.T) {
	isolate(t)
	srv := testworld.StartGitServer(t)
	srv.CreateRepo(t, "gitops")
	dir := filepath.Join(t.TempDir(), "w")
	testworld.Git(t, "", "clone", "--quiet", srv.AuthURL("gitops"), dir)
	commit := func(when int, files map[string]string, msg string) string {
		writeFiles(t, dir, files)
		testworld.Git(t, dir, "add", "-A")
		gitAt(t, dir, when, "commit", "--quiet", "-m", msg)
		return testworld.Git(t, dir, "rev-parse", "HEAD")
	}
	c1 := commit(1000, map[string]string{"apps/a.yaml": "a1\n", "apps/b.yaml": "b1\n", "README.md": "r1\n", "bin/run.sh": "#!/bin/sh\n"}, "one")
	c2 := commit(2000, map[string]string{"apps/a.yaml": "a2\n"}, "two")
	testworld.Git(t, dir, "checkout", "--quiet", "-b", "feature")
	commit(3000, map[string]string{"apps/b.yaml": "b2\n"}, "feature b")
	testworld.Git(t, dir, "checkout", "--quiet", "main")
	commit(3500, map[string]string{"README.md": "r2\n"}, "readme")
	gitAt(t, dir, 4000, "merge", "--quiet", "--no-ff", "-m", "merge feature", "feature")
	commit(5000, map[string]string{"apps/a.yaml": "a3\n"}, "three")
	testworld.Git(t, dir, "push", "--quiet", "origin", "main", "feature")

	r := openURL(t, srv, "gitops", Options{})
	ctx := ctxT(t)
	for _, tc := range []struct {
		rev, path string
		n         int
	}{
		{"", "apps/a.yaml", 10}, {"", "apps/b.yaml", 10}, {"", "apps", 10}, {"", "README.md", 10},
		{"", "", 10}, {"", "", 2}, {"main~1", "apps/a.yaml", 10}, {"feature", "apps", 10}, {"", "nope", 5},
	} {
		log, err := r.Log(ctx, tc.rev, tc.path, tc.n)
		if err != nil {
			t.Fatalf("Log(%q, %q): %v", tc.rev, tc.path, err)
		}
		var got []string
		for _, e := range log {
			got = append(got, e.Hash)
		}
		rev := tc.rev
		if rev == "" {
			rev = "main"
		}
		args := []string{"log", "--format=%H", fmt.Sprintf("-n%d", tc.n), "origin/" + rev}
		if tc.path != "" {
			args = append(args, "--", tc.path)
		}
		want := testworld.Git(t, dir, args...)
		if strings.Join(got, "\n") != want {
			t.Errorf("Log(%q, %q, %d) = \n%s\nwant (git log):\n%s", tc.rev, tc.path, tc.n, strings.Join(got, "\n"), want)
		}
	}
	if log, _ := r.Log(ctx, "", "apps/a.yaml", 1); len(log) != 1 || log[0].Subject != "three" || log[0].Author.Name != "Testworld" {
		t.Fatalf("log entry %+v", log)
	}

	for _, tc := range []struct{ rev, path, want string }{
		{"", "apps/a.yaml", "a3\n"}, {c2, "apps/a.yaml", "a2\n"}, {"main~1", "README.md", "r2\n"},
		{c1, "apps/b.yaml", "b1\n"}, {"feature", "apps/b.yaml", "b2\n"},
	} {
		got, err := r.ReadFile(ctx, tc.rev, tc.path)
		if err != nil || string(got) != tc.want {
			t.Errorf("ReadFile(%q, %q) = %q, %v; want %q", tc.rev, tc.path, got, err, tc.want)
		}
	}
	if _, err := r.ReadFile(ctx, "", "apps/missing.yaml"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	if _, err := r.ReadFile(ctx, "", "apps"); err == nil {
		t.Errorf("reading a directory succeeded")
	}
	var pe *PathError
	if _, err := r.ReadFile(ctx, "", "../etc/passwd"); !errors.As(err, &pe) {
		t.Errorf("escaping path: %v", err)
	}
	if _, err := r.ReadFile(ctx, "no-such-branch", "README.md"); err == nil {
		t.Errorf("unknown revision succeeded")
	}

	entries, err := r.List(ctx, "", "")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, fmt.Sprintf("%s %o", e.Path, e.Mode))
	}
	if want := "README.md 644|apps/a.yaml 644|apps/b.yaml 644|bin/run.sh 755"; strings.Join(got, "|") != want {
		t.Fatalf("List = %v, want %s", got, want)
	}
	if entries, err := r.List(ctx, c1, "apps"); err != nil || len(entries) != 2 || entries[0].Path != "apps/a.yaml" {
		t.Fatalf("List apps at c1: %v %v", entries, err)
	}
	if _, err := r.List(ctx, "", "nope"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("List of a missing dir: %v", err)
	}
}
