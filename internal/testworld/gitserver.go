package testworld

import (
	"bytes"
	"crypto/subtle"
	"fmt"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// GitServer serves bare repositories over git's smart HTTP protocol with
// `git http-backend` behind net/http/cgi, guarded by HTTP basic auth: the
// same protocol and the same refusals a real forge gives.
type GitServer struct {
	// URL is the server's base address, http://127.0.0.1:PORT.
	URL string
	// User and Password are the one account the server accepts.
	User, Password string
	// Root is the folder holding the bare repositories.
	Root string

	srv      *httptest.Server
	backend  string
	requests atomic.Int64
}

// StartGitServer starts a server over an empty folder; it stops when the test ends.
func StartGitServer(t testing.TB) *GitServer {
	t.Helper()
	backend, err := gitHTTPBackend()
	if err != nil {
		t.Fatal(err)
	}
	s := &GitServer{User: "idp", Password: randomHex(8), Root: t.TempDir(), backend: backend}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	t.Cleanup(s.srv.Close)
	return s
}

func (s *GitServer) serve(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	user, pass, ok := r.BasicAuth()
	if !ok || subtle.ConstantTimeCompare([]byte(user), []byte(s.User)) != 1 ||
		subtle.ConstantTimeCompare([]byte(pass), []byte(s.Password)) != 1 {
		w.Header().Set("WWW-Authenticate", `Basic realm="testworld git"`)
		http.Error(w, "authentication required", http.StatusUnauthorized)
		return
	}
	h := &cgi.Handler{
		Path: s.backend,
		Root: "/",
		Env: []string{
			"GIT_PROJECT_ROOT=" + s.Root,
			"GIT_HTTP_EXPORT_ALL=1",
			// With REMOTE_USER set, http-backend allows pushes (receive-pack).
			"REMOTE_USER=" + user,
			"GIT_CONFIG_NOSYSTEM=1",
			"HOME=" + s.Root,
		},
	}
	h.ServeHTTP(w, r)
}

// Requests counts the HTTP requests the server has answered.
func (s *GitServer) Requests() int64 { return s.requests.Load() }

// CreateRepo makes an empty bare repository name.git whose default branch is
// main, and returns its URL (without credentials).
func (s *GitServer) CreateRepo(t testing.TB, name string) string {
	t.Helper()
	path := filepath.Join(s.Root, name+".git")
	Git(t, "", "init", "--quiet", "--bare", "--initial-branch=main", path)
	return s.RepoURL(name)
}

// RepoPath is the bare repository's folder on disk.
func (s *GitServer) RepoPath(name string) string { return filepath.Join(s.Root, name+".git") }

// RepoURL is the repository's URL without credentials.
func (s *GitServer) RepoURL(name string) string { return s.URL + "/" + name + ".git" }

// AuthURL is the repository's URL with the server's credentials in it, for
// the git CLI.
func (s *GitServer) AuthURL(name string) string {
	return strings.Replace(s.RepoURL(name), "http://", fmt.Sprintf("http://%s:%s@", s.User, s.Password), 1)
}

// Git runs the git CLI in dir with a clean, prompt-free environment and
// returns its trimmed output; a failure fails the test with git's message.
func Git(t testing.TB, dir string, args ...string) string {
	t.Helper()
	out, err := RunGit(dir, args...)
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// RunGit is Git without a test: it returns git's output and error.
func RunGit(dir string, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = GitEnv()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return strings.TrimSpace(out.String()), err
}

// GitEnv is the environment for git commands in tests: no system or user
// configuration, no prompts, a fixed identity.
func GitEnv() []string {
	env := []string{
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL=" + os.DevNull,
		"GIT_TERMINAL_PROMPT=0",
		"GIT_ASKPASS=",
		"SSH_ASKPASS=",
		"GIT_AUTHOR_NAME=Testworld",
		"GIT_AUTHOR_EMAIL=testworld@example.com",
		"GIT_COMMITTER_NAME=Testworld",
		"GIT_COMMITTER_EMAIL=testworld@example.com",
	}
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "PATH=") || strings.HasPrefix(kv, "HOME=") || strings.HasPrefix(kv, "TMPDIR=") {
			env = append(env, kv)
		}
	}
	return env
}

func gitHTTPBackend() (string, error) {
	out, err := exec.Command("git", "--exec-path").Output()
	if err != nil {
		return "", fmt.Errorf("testworld: git not found (scripts/test installs it): %w", err)
	}
	path := filepath.Join(strings.TrimSpace(string(out)), "git-http-backend")
	if !IsExecutable(path) {
		return "", fmt.Errorf("testworld: %s missing: install git", path)
	}
	return path, nil
}
