package gitops

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/back-stack/idp/internal/testworld"
)

func TestMain(m *testing.M) { testworld.Main(m) }

// isolate gives the test a clean environment: no user git config, no
// credentials from the developer's machine, a fixed identity.
func isolate(t testing.TB) {
	t.Helper()
	home := t.TempDir()
	for k, v := range map[string]string{
		"HOME": home, "XDG_CONFIG_HOME": "", "GIT_CONFIG_GLOBAL": os.DevNull, "GIT_CONFIG_NOSYSTEM": "1",
		"GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "", "SSH_ASKPASS": "",
		"IDP_GIT_TOKEN": "", "IDP_GIT_USERNAME": "", "GITHUB_TOKEN": "", "GH_TOKEN": "",
		"SSH_AUTH_SOCK": "", "IDP_SSH_KEY": "", "SSH_KNOWN_HOSTS": "",
		"GIT_AUTHOR_NAME": "Ada Ops", "GIT_AUTHOR_EMAIL": "ada@example.com",
		"GIT_COMMITTER_NAME": "Ada Ops", "GIT_COMMITTER_EMAIL": "ada@example.com",
	} {
		t.Setenv(k, v)
	}
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// seed makes repo name on the server with files committed by the git CLI,
// and returns the commit.
func seed(t testing.TB, srv *testworld.GitServer, name string, files map[string]string) string {
	t.Helper()
	srv.CreateRepo(t, name)
	testworld.Git(t, srv.RepoPath(name), "config", "core.logAllRefUpdates", "always")
	if len(files) == 0 {
		return ""
	}
	dir := filepath.Join(t.TempDir(), "seed")
	testworld.Git(t, "", "clone", "--quiet", srv.AuthURL(name), dir)
	writeFiles(t, dir, files)
	testworld.Git(t, dir, "add", "-A")
	testworld.Git(t, dir, "commit", "--quiet", "-m", "seed")
	testworld.Git(t, dir, "push", "--quiet", "origin", "HEAD:main")
	return testworld.Git(t, dir, "rev-parse", "HEAD")
}

func writeFiles(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for p, c := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		mode := os.FileMode(0o644)
		if strings.HasSuffix(p, ".sh") {
			mode = 0o755
		}
		if err := os.WriteFile(full, []byte(c), mode); err != nil {
			t.Fatal(err)
		}
	}
}

// cloneCLI clones the server's repository with the git CLI, the independent
// reader of what idp wrote, and checks it with git fsck --strict.
func cloneCLI(t *testing.T, srv *testworld.GitServer, name string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "check")
	testworld.Git(t, "", "clone", "--quiet", "--no-local", srv.AuthURL(name), dir)
	testworld.Git(t, srv.RepoPath(name), "fsck", "--strict", "--no-dangling")
	testworld.Git(t, dir, "fsck", "--strict", "--no-dangling")
	return dir
}

func openURL(t *testing.T, srv *testworld.GitServer, name string, opts Options) *Repo {
	t.Helper()
	if opts.CacheDir == "" {
		opts.CacheDir = t.TempDir()
	}
	r, err := Open(ctxT(t), srv.AuthURL(name), opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func write(path, content string) FileChange { return FileChange{Path: path, Content: []byte(content)} }

func readFile(t testing.TB, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
