package gitops

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/back-stack/idp/gitops/secrets"
	"github.com/back-stack/idp/internal/testworld"
)

func TestCheckPath(t *testing.T) {
	for _, tc := range []struct {
		path, reason string
	}{
		{"apps/pay/application.yaml", ""},
		{"a", ""},
		{".idp/platform.yaml", ""},
		{".gitignore", ""},
		{".github/workflows/ci.yaml", ""},
		{"", "empty"},
		{"../x", "escapes"},
		{"apps/../../x", "escapes"},
		{"apps/..", "escapes"},
		{"/etc/passwd", "absolute"},
		{"C:/x", "absolute"},
		{`apps\x`, "backslash"},
		{".git/config", ".git"},
		{"sub/.git/hooks/pre-commit", ".git"},
		{".GIT/config", ".git"},
		{".git./config", ".git"},
		{"git~1/config", ".git"},
		{".git", ".git"},
		{"./a", "not clean"},
		{"a//b", "not clean"},
		{"a/", "not clean"},
		{"a/./b", "not clean"},
		{"a\x00b", "NUL"},
	} {
		err := CheckPath(tc.path)
		if tc.reason == "" {
			if err != nil {
				t.Errorf("CheckPath(%q) = %v, want ok", tc.path, err)
			}
			continue
		}
		var pe *PathError
		if !errors.As(err, &pe) || !strings.Contains(err.Error(), tc.reason) {
			t.Errorf("CheckPath(%q) = %v, want a PathError about %q", tc.path, err, tc.reason)
		}
	}
}

func TestValidateChangeSet(t *testing.T) {
	ok := write("a.yaml", "a")
	for name, tc := range map[string]struct {
		cs   ChangeSet
		want string
	}{
		"no message":   {ChangeSet{Files: []FileChange{ok}}, "message"},
		"duplicate":    {ChangeSet{Message: "m", Files: []FileChange{ok, ok}}, "twice"},
		"nested":       {ChangeSet{Message: "m", Files: []FileChange{write("a", "x"), write("a/b", "y")}}, "inside"},
		"delete+data":  {ChangeSet{Message: "m", Files: []FileChange{{Path: "a", Delete: true, Content: []byte("x")}}}, "deleted and given content"},
		"device":       {ChangeSet{Message: "m", Files: []FileChange{{Path: "a", Mode: fs.ModeDevice}}}, "unsupported"},
		"no slug":      {ChangeSet{Message: "!!!", PullRequest: true, Files: []FileChange{ok}}, "branch name"},
		"half author":  {ChangeSet{Message: "m", Author: &Signature{Name: "x"}, Files: []FileChange{ok}}, "author"},
		"escape":       {ChangeSet{Message: "m", Files: []FileChange{ok, write("../x", "")}}, "escapes"},
		"dotgit":       {ChangeSet{Message: "m", Files: []FileChange{{Path: ".git/HEAD", Delete: true}}}, ".git"},
		"fine":         {ChangeSet{Message: "m", Files: []FileChange{ok, {Path: "b", Delete: true}, {Path: "l", Content: []byte("a"), Mode: fs.ModeSymlink}}}, ""},
		"fine nesting": {ChangeSet{Message: "m", Files: []FileChange{write("ab", "x"), write("a/b", "y"), write("a.b", "")}}, ""},
	} {
		err := tc.cs.validate()
		if (err == nil) != (tc.want == "") || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s: validate() = %v, want %q", name, err, tc.want)
		}
	}
}

func TestSlugify(t *testing.T) {
	for in, want := range map[string]string{
		"Add service pay-api (team: Payments)": "add-service-pay-api-team-payments",
		"  Ünïcode & spaces  ":                 "n-code-spaces",
		strings.Repeat("abc ", 40):             "abc-abc-abc-abc-abc-abc-abc-abc-abc-abc-abc-abc-abc-abc-abc",
	} {
		if got := Slugify(in); got != want {
			t.Errorf("Slugify(%q) = %q, want %q", in, got, want)
		}
	}
}

// A change set with one bad path among good ones is refused before
// anything is written: no object, no ref, no commit, remote untouched.
func TestBadPathWritesNothing(t *testing.T) {
	isolate(t)
	srv := testworld.StartGitServer(t)
	base := seed(t, srv, "gitops", map[string]string{"a.yaml": "a\n"})
	r := openURL(t, srv, "gitops", Options{})
	before := snapshot(t, r.Dir())
	for _, bad := range []string{"../outside.yaml", "/etc/x", ".git/hooks/post-checkout", "apps/../../x"} {
		_, err := r.Apply(ctxT(t), ChangeSet{Message: "evil", Files: []FileChange{write("ok.yaml", "fine\n"), write(bad, "#!/bin/sh\n")}})
		var pe *PathError
		if !errors.As(err, &pe) || pe.Path != bad {
			t.Fatalf("%s: err %v, want a PathError for it", bad, err)
		}
	}
	if after := snapshot(t, r.Dir()); after != before {
		t.Fatalf("the clone changed:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	if got := testworld.Git(t, srv.RepoPath("gitops"), "rev-parse", "main"); got != base {
		t.Fatalf("remote moved")
	}
	// Writing under a path that is a file, or a file over a directory,
	// is refused the same way.
	for _, f := range []FileChange{write("a.yaml/x", "x"), write("apps", "x")} {
		if f.Path == "apps" {
			if _, err := r.Apply(ctxT(t), ChangeSet{Message: "dir", Files: []FileChange{write("apps/x.yaml", "x")}}); err != nil {
				t.Fatal(err)
			}
			before = snapshot(t, r.Dir())
		}
		_, err := r.Apply(ctxT(t), ChangeSet{Message: "clash", Files: []FileChange{f}})
		var pe *PathError
		if !errors.As(err, &pe) {
			t.Fatalf("%s: err %v, want a PathError", f.Path, err)
		}
		if after := snapshot(t, r.Dir()); after != before {
			t.Fatalf("%s: the clone changed:\n%s\n%s", f.Path, before, after)
		}
	}
}

// snapshot lists every file in a git directory with its size: any object
// or ref written shows up.
func snapshot(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.Contains(p, string(filepath.Separator)+"idp"+string(filepath.Separator)) {
			return err
		}
		fi, _ := os.Stat(p)
		b.WriteString(strings.TrimPrefix(p, dir) + " " + fi.ModTime().String() + "\n")
		return nil
	})
	return b.String()
}

// Every change set passes the secret scan before anything is written: a
// token in a file or in the message is refused by Preview, Commit and
// Apply alike, naming file, line and rule but not the token; an explicit
// allow-list entry lets it through.
func TestSecretsRefusedBeforeAnythingIsWritten(t *testing.T) {
	isolate(t)
	srv := testworld.StartGitServer(t)
	base := seed(t, srv, "gitops", map[string]string{"a.yaml": "a\n"})
	r := openURL(t, srv, "gitops", Options{})
	before := snapshot(t, r.Dir())
	token := "ghp_" + "Zk3RbV9qT1mWx7LcP2sHd8NfJ4yGa6EuQ0oB" // shaped like a GitHub token, high entropy
	for name, cs := range map[string]ChangeSet{
		"file":    {Message: "leak", Files: []FileChange{write("ok.yaml", "fine\n"), write("apps/x/app.yaml", "kind: Application\ndescription: "+token+"\n")}},
		"message": {Message: "leak\n\ntoken " + token, Files: []FileChange{write("ok.yaml", "fine\n")}},
	} {
		for op, do := range map[string]func() error{
			"Apply":   func() error { _, err := r.Apply(ctxT(t), cs); return err },
			"Commit":  func() error { _, err := r.Commit(ctxT(t), cs); return err },
			"Preview": func() error { _, err := r.Preview(ctxT(t), cs); return err },
		} {
			err := do()
			var se *secrets.Error
			if !errors.As(err, &se) || len(se.Findings) != 1 || se.Findings[0].Rule != "github-pat" {
				t.Fatalf("%s %s: err %v, want one github-pat finding", name, op, err)
			}
			if f := se.Findings[0]; name == "file" && (f.Path != "apps/x/app.yaml" || f.Line != 2) {
				t.Errorf("%s %s: finding %+v", name, op, f)
			}
			if strings.Contains(err.Error(), token[4:]) {
				t.Fatalf("the error repeats the token: %v", err)
			}
		}
	}
	if after := snapshot(t, r.Dir()); after != before {
		t.Fatalf("the clone changed:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	if got := testworld.Git(t, srv.RepoPath("gitops"), "rev-parse", "main"); got != base {
		t.Fatalf("remote moved")
	}
	allowed := ChangeSet{Message: "sample", Files: []FileChange{write("docs/token.md", token+"\n")},
		AllowSecrets: []secrets.Allow{{Path: "docs/*.md", Rule: "github-pat", Reason: "a revoked sample"}}}
	if _, err := r.Apply(ctxT(t), allowed); err != nil {
		t.Fatalf("allowed: %v", err)
	}
}
