package gitops

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/back-stack/idp/internal/testworld"
)

func TestWrongCredentialsFailClearly(t *testing.T) {
	isolate(t)
	srv := testworld.StartGitServer(t)
	base := seed(t, srv, "gitops", map[string]string{"a.yaml": "a\n"})
	wrong := strings.Replace(srv.AuthURL("gitops"), srv.Password, "not-the-password", 1)

	_, err := Open(ctxT(t), wrong, Options{CacheDir: t.TempDir()})
	var ae *AuthError
	if !errors.As(err, &ae) || ae.Source != "the URL" {
		t.Fatalf("wrong password in URL: %v, want an AuthError from the URL", err)
	}
	if strings.Contains(err.Error(), "not-the-password") {
		t.Fatalf("the error shows the password: %v", err)
	}
	if !strings.Contains(err.Error(), srv.RepoURL("gitops")) || !strings.Contains(err.Error(), "authentication") {
		t.Fatalf("message %q does not say what failed where", err)
	}

	_, err = Open(ctxT(t), srv.RepoURL("gitops"), Options{CacheDir: t.TempDir()})
	if !errors.As(err, &ae) || ae.Source != "" || !strings.Contains(err.Error(), "IDP_GIT_TOKEN") {
		t.Fatalf("no credentials: %v, want an AuthError that says how to give some", err)
	}

	// A token from the environment works; a wrong one fails the push
	// clearly, keeps the commit pending, and the right one pushes it.
	t.Setenv("IDP_GIT_USERNAME", srv.User)
	t.Setenv("IDP_GIT_TOKEN", srv.Password)
	cache := t.TempDir()
	r, err := Open(ctxT(t), srv.RepoURL("gitops"), Options{CacheDir: cache})
	if err != nil {
		t.Fatalf("token from IDP_GIT_TOKEN: %v", err)
	}
	defer r.Close()
	c, err := r.Commit(ctxT(t), ChangeSet{Message: "m", Files: []FileChange{write("b.yaml", "b\n")}})
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("IDP_GIT_TOKEN", "expired")
	_, err = r.Push(ctxT(t), c)
	if !errors.As(err, &ae) || ae.Source != "IDP_GIT_TOKEN" {
		t.Fatalf("expired token: %v", err)
	}
	if got := testworld.Git(t, srv.RepoPath("gitops"), "rev-parse", "main"); got != base {
		t.Fatalf("remote moved to %s", got)
	}
	if p, _ := r.Pending(ctxT(t)); len(p) != 1 {
		t.Fatalf("%d pending, want the commit kept", len(p))
	}
	// Options.Token wins over the environment.
	r2, err := Open(ctxT(t), srv.RepoURL("gitops"), Options{CacheDir: cache, Token: srv.Password, Username: srv.User})
	if err != nil {
		t.Fatal(err)
	}
	defer r2.Close()
	if _, err := r2.PushPending(ctxT(t), c.ID); err != nil {
		t.Fatalf("push with Options.Token: %v", err)
	}
	if got := testworld.Git(t, srv.RepoPath("gitops"), "log", "-1", "--format=%s", "main"); got != "m" {
		t.Fatalf("remote head %q", got)
	}
}

// With nothing in the environment, idp asks git's credential helper (here
// git's own store helper), and tells it when the credentials were wrong.
func TestCredentialHelper(t *testing.T) {
	isolate(t)
	srv := testworld.StartGitServer(t)
	seed(t, srv, "gitops", map[string]string{"a.yaml": "a\n"})
	dir := t.TempDir()
	store := filepath.Join(dir, "credentials")
	cfg := filepath.Join(dir, "gitconfig")
	os.WriteFile(cfg, []byte("[credential]\n\thelper = store --file="+store+"\n"), 0o600)
	t.Setenv("GIT_CONFIG_GLOBAL", cfg)
	line := func(pw string) string {
		return strings.Replace(srv.URL, "http://", "http://"+srv.User+":"+pw+"@", 1) + "\n"
	}

	os.WriteFile(store, []byte(line(srv.Password)), 0o600)
	r, err := Open(ctxT(t), srv.RepoURL("gitops"), Options{CacheDir: t.TempDir()})
	if err != nil {
		t.Fatalf("credentials from the helper: %v", err)
	}
	if _, err := r.Apply(ctxT(t), ChangeSet{Message: "via helper", Files: []FileChange{write("h.yaml", "h\n")}}); err != nil {
		t.Fatal(err)
	}
	r.Close()
	if got := testworld.Git(t, srv.RepoPath("gitops"), "log", "-1", "--format=%s", "main"); got != "via helper" {
		t.Fatalf("remote head %q", got)
	}

	os.WriteFile(store, []byte(line("stale")), 0o600)
	_, err = Open(ctxT(t), srv.RepoURL("gitops"), Options{CacheDir: t.TempDir()})
	var ae *AuthError
	if !errors.As(err, &ae) || ae.Source != "the git credential helper" {
		t.Fatalf("stale helper credentials: %v", err)
	}
	if got := readFile(t, store); strings.Contains(got, "stale") {
		t.Fatalf("the rejected credentials are still stored: %q", got)
	}
}
