package e2e

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/back-stack/idp/internal/testworld"
)

// newWorld is a git server with a GitOps repository (holding the
// platform's .idp/platform.yaml) and an idp config whose forge is the
// server's own folder of bare repositories.
func newWorld(t *testing.T, changes string) (srv *testworld.GitServer, cfgPath string, environ []string) {
	t.Helper()
	srv = testworld.StartGitServer(t)
	srv.CreateRepo(t, "gitops")
	work := filepath.Join(t.TempDir(), "gitops")
	testworld.Git(t, "", "clone", "--quiet", srv.AuthURL("gitops"), work)
	os.MkdirAll(filepath.Join(work, ".idp"), 0o755)
	os.WriteFile(filepath.Join(work, ".idp", "platform.yaml"), []byte("apiVersion: idp.back-stack.io/v1alpha1\nkind: PlatformConfig\ngitops:\n  changes: "+changes+"\n"), 0o644)
	testworld.Git(t, work, "add", ".")
	testworld.Git(t, work, "commit", "--quiet", "-m", "platform")
	testworld.Git(t, work, "push", "--quiet", "origin", "HEAD:main")

	cfgPath = filepath.Join(t.TempDir(), "config.yaml")
	os.WriteFile(cfgPath, []byte("gitops: "+srv.RepoURL("gitops")+"\nforge:\n  type: local\n  dir: "+srv.Root+"\n  url: "+srv.URL+"\n"), 0o644)
	environ = append(os.Environ(), env(t, "IDP_GIT_USERNAME="+srv.User, "IDP_GIT_TOKEN="+srv.Password,
		"GIT_AUTHOR_NAME=Dev", "GIT_AUTHOR_EMAIL=dev@example.com", "GIT_COMMITTER_NAME=Dev", "GIT_COMMITTER_EMAIL=dev@example.com")...)
	return srv, cfgPath, environ
}

func runIdp(t *testing.T, environ []string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(testworld.IdpBinary(t), args...)
	cmd.Env = environ
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, out.String(), errb.String()
}

type newResult struct {
	Service    string
	Repository struct {
		URL, Branch, Commit string
		Files               []string
	}
	GitOps struct {
		Policy, Branch, Commit, PullRequestURL string
		Paths                                  []string
	}
	DryRun bool
}

// `idp new --yes -o json` creates the service repository and commits
// apps/NAME/ to the GitOps repository; both are there for git clone.
func TestNewServiceEndToEnd(t *testing.T) {
	srv, cfg, environ := newWorld(t, "direct")

	// --dry-run writes nothing, and says what it would have done.
	code, out, errOut := runIdp(t, environ, "--config", cfg, "new", "go-service", "--set", "name=payments-api", "--set", "database=true", "--dry-run", "-o", "json")
	if code != 0 {
		t.Fatalf("dry run: %d %s", code, errOut)
	}
	var dry newResult
	if err := json.Unmarshal([]byte(out), &dry); err != nil || !dry.DryRun || len(dry.GitOps.Paths) != 3 {
		t.Fatalf("dry run result %s (%v)", out, err)
	}
	if !strings.Contains(errOut, "+++ b/apps/payments-api/database.yaml") {
		t.Errorf("the preview lacks the diff:\n%s", errOut)
	}
	if _, err := os.Stat(srv.RepoPath("payments-api")); err == nil {
		t.Fatal("--dry-run created the repository")
	}

	code, out, errOut = runIdp(t, environ, "--config", cfg, "new", "go-service", "--set", "name=payments-api", "--set", "database=true", "--set", "dbSize=medium", "--yes", "-o", "json")
	if code != 0 {
		t.Fatalf("idp new: %d\n%s", code, errOut)
	}
	var res newResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if res.Repository.URL != srv.RepoURL("payments-api") || res.Repository.Commit == "" || res.GitOps.Commit == "" || res.GitOps.Branch != "main" {
		t.Errorf("result %+v", res)
	}

	svc := filepath.Join(t.TempDir(), "svc")
	testworld.Git(t, "", "clone", "--quiet", srv.AuthURL("payments-api"), svc)
	for _, f := range []string{"Dockerfile", "README.md", "deploy/deployment.yaml", "main.go", "go.mod"} {
		if _, err := os.Stat(filepath.Join(svc, f)); err != nil {
			t.Errorf("the service repository lacks %s", f)
		}
	}
	if head := testworld.Git(t, svc, "rev-parse", "HEAD"); head != res.Repository.Commit {
		t.Errorf("service HEAD %s, result %s", head, res.Repository.Commit)
	}
	testworld.Git(t, "", "--git-dir", srv.RepoPath("payments-api"), "fsck", "--strict")

	gitopsClone := filepath.Join(t.TempDir(), "g")
	testworld.Git(t, "", "clone", "--quiet", srv.AuthURL("gitops"), gitopsClone)
	if got := testworld.Git(t, gitopsClone, "log", "-1", "--format=%H %s"); got != res.GitOps.Commit+" New service payments-api from go-service" {
		t.Errorf("GitOps head: %s", got)
	}
	if files := testworld.Git(t, gitopsClone, "ls-files", "apps"); files != "apps/payments-api/application.yaml\napps/payments-api/database.yaml\napps/payments-api/namespace.yaml" {
		t.Errorf("GitOps files:\n%s", files)
	}
	app, _ := os.ReadFile(filepath.Join(gitopsClone, "apps", "payments-api", "application.yaml"))
	if !strings.Contains(string(app), "repoURL: "+srv.RepoURL("payments-api")) || strings.Contains(string(app), srv.Password) {
		t.Errorf("application.yaml:\n%s", app)
	}
	db, _ := os.ReadFile(filepath.Join(gitopsClone, "apps", "payments-api", "database.yaml"))
	if !strings.Contains(string(db), "size: medium") {
		t.Errorf("database.yaml:\n%s", db)
	}
	testworld.Git(t, "", "--git-dir", srv.RepoPath("gitops"), "fsck", "--strict")

	// The same service again: a clear error, a non-zero exit, nothing written.
	before := testworld.Git(t, "", "--git-dir", srv.RepoPath("gitops"), "rev-parse", "main")
	for _, args := range [][]string{
		{"new", "go-service", "--set", "name=payments-api", "--yes"},
		{"new", "go-service", "--set", "name=Payments_API", "--yes"},
		{"new", "rails", "--set", "name=x", "--yes"},
		{"new", "go-service", "--set", "name=x", "--set", "colour=red", "--yes"},
		{"new", "go-service", "--set", "name=x"}, // no terminal to ask, no --yes
	} {
		code, _, errOut := runIdp(t, environ, append([]string{"--config", cfg}, args...)...)
		if code == 0 || !strings.HasPrefix(errOut, "Error: ") {
			t.Errorf("%v: exit %d, stderr %q", args, code, errOut)
		}
	}
	if after := testworld.Git(t, "", "--git-dir", srv.RepoPath("gitops"), "rev-parse", "main"); after != before {
		t.Error("a refused run changed the GitOps repository")
	}
	if _, err := os.Stat(srv.RepoPath("x")); err == nil {
		t.Error("a refused run created a repository")
	}
}

// A platform whose rule is "every change goes through a PR" gets a branch
// for the GitOps change; the default branch is untouched.
func TestNewServicePullRequest(t *testing.T) {
	srv, cfg, environ := newWorld(t, "pull-request")
	before := testworld.Git(t, "", "--git-dir", srv.RepoPath("gitops"), "rev-parse", "main")
	code, out, errOut := runIdp(t, environ, "--config", cfg, "new", "static-site", "--set", "name=docs", "--yes", "-o", "json")
	if code != 0 {
		t.Fatalf("idp new: %d\n%s", code, errOut)
	}
	var res newResult
	json.Unmarshal([]byte(out), &res)
	if res.GitOps.Policy != "pull-request" || res.GitOps.Branch != "idp/new-service-docs" {
		t.Errorf("result %+v", res)
	}
	if after := testworld.Git(t, "", "--git-dir", srv.RepoPath("gitops"), "rev-parse", "main"); after != before {
		t.Error("the default branch moved")
	}
	if got := testworld.Git(t, "", "--git-dir", srv.RepoPath("gitops"), "ls-tree", "-r", "--name-only", "idp/new-service-docs", "apps"); got != "apps/docs/application.yaml" {
		t.Errorf("branch files: %s", got)
	}
}

// A credential in any answer is refused: nothing is created on the forge or
// committed to the GitOps repository, and the error names file, line and
// rule, never the secret (all ten kinds the issue tried used to land).
func TestNewRefusesSecrets(t *testing.T) {
	srv, cfg, environ := newWorld(t, "direct")
	before := testworld.Git(t, "", "--git-dir", srv.RepoPath("gitops"), "rev-parse", "main")
	for name, secret := range map[string]string{
		"github token": "ghp_Zk3RbV9qT1mWx7LcP2sHd8NfJ4yGa6EuQ0oB",
		"private key":  "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAx8Lc3kP2sHd8NfJ4yGa6EuQ0oBZk3RbV9qT1mWx7LcP2sHd8NfJ4\nyGa6EuQ0oBZk3RbV9qT1mWx7LcP2sHd8NfJ4yGa6EuQ0oBZk3RbV9qT1mWx7LcP2sH\n-----END RSA PRIVATE KEY-----",
		"url password": "see https://deploy:s3cr3t-Pa55@git.example.com/x.git",
	} {
		code, _, errOut := runIdp(t, environ, "--config", cfg, "new", "go-service", "--set", "name=leaky", "--set", "description="+secret, "--yes")
		if code == 0 || !strings.Contains(errOut, "looks like a secret") || !strings.Contains(errOut, " line ") {
			t.Errorf("%s: exit %d, stderr %q", name, code, errOut)
		}
		if strings.Contains(errOut, "Zk3RbV9q") || strings.Contains(errOut, "s3cr3t") || strings.Contains(errOut, "MIIEow") {
			t.Errorf("%s: the error repeats the secret: %s", name, errOut)
		}
	}
	if _, err := os.Stat(srv.RepoPath("leaky")); err == nil {
		t.Error("a repository was created")
	}
	if after := testworld.Git(t, "", "--git-dir", srv.RepoPath("gitops"), "rev-parse", "main"); after != before {
		t.Error("the GitOps repository changed")
	}
}
