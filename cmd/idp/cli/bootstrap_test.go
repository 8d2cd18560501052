package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/back-stack/idp/internal/testworld"
)

const platformFile = `apiVersion: idp.back-stack.io/v1alpha1
kind: PlatformConfig
name: acme
azure:
  subscriptionID: 00000000-0000-0000-0000-000000000001
  tenantID: 00000000-0000-0000-0000-000000000002
  location: westeurope
  resourceGroup: rg-acme
  aks: {name: aks-acme}
  acr: {name: acmeplatform}
gitops:
  url: %s
`

// bootstrapEnv isolates the state dir (checkpoints), the config and the git
// identity.
func bootstrapEnv(t *testing.T) (state string) {
	t.Helper()
	state = t.TempDir()
	t.Setenv("XDG_STATE_HOME", state)
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	t.Setenv("GIT_AUTHOR_NAME", "Ada Ops")
	t.Setenv("GIT_AUTHOR_EMAIL", "ada@example.com")
	t.Setenv("AZURE_CREDENTIALS_FILE", "")
	return state
}

func writePlatform(t *testing.T, gitopsURL string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "platform.yaml")
	if err := os.WriteFile(p, []byte(strings.Replace(platformFile, "%s", gitopsURL, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestBootstrapRefusesBadInput(t *testing.T) {
	bootstrapEnv(t)
	good := writePlatform(t, "https://github.com/acme/platform-gitops.git")
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte(strings.Replace(strings.Replace(platformFile, "%s", "https://github.com/acme/g.git", 1), "acmeplatform", "acme-platform", 1)), 0o644)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"bootstrap"}, "the wizard needs a terminal"},
		{[]string{"bootstrap", "--config", "/nowhere.yaml"}, "no such file"},
		{[]string{"bootstrap", "--config", bad, "--dry-run"}, "azure.acr.name"},
		{[]string{"bootstrap", "--config", good, "--azure-credentials", "/nowhere.json"}, "--azure-credentials"},
		{[]string{"bootstrap", "--config", good, "-o", "yaml"}, "yaml"},
		{[]string{"bootstrap", "--config", good}, "terminal"}, // no --yes and no one to ask
	} {
		code, _, errOut := run(t, tc.args...)
		if code == 0 || !strings.Contains(errOut, tc.want) {
			t.Errorf("idp %v: exit %d, %q; want %q", tc.args, code, errOut, tc.want)
		}
	}
}

// --dry-run prints the files, the plan and the manifests, and touches
// nothing: no checkpoint, no repository.
func TestBootstrapDryRun(t *testing.T) {
	state := bootstrapEnv(t)
	file := writePlatform(t, "https://github.com/acme/platform-gitops.git")
	code, out, errOut := run(t, "bootstrap", "--config", file, "--dry-run")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		"Would commit 27 files to https://github.com/acme/platform-gitops.git (main, direct)",
		"bootstrap/root.yaml", "Bootstrap plan for acme", "8. Delete the seed", "Manifests:", "kind: AKSCluster",
		"apply bootstrap/infrastructure.yaml",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the dry run lacks %q", want)
		}
	}
	code, out, errOut = run(t, "bootstrap", "--config", file, "--dry-run", "-o", "json")
	if code != 0 {
		t.Fatalf("json: exit %d: %s", code, errOut)
	}
	var plan struct {
		Files []string
		Plan  struct{ Steps []struct{ ID string } }
	}
	if err := json.Unmarshal([]byte(out), &plan); err != nil || len(plan.Files) != 27 || len(plan.Plan.Steps) != 8 {
		t.Fatalf("json dry run: %v %d files %d steps", err, len(plan.Files), len(plan.Plan.Steps))
	}
	if entries, _ := os.ReadDir(state); len(entries) != 0 {
		t.Fatalf("the dry run wrote to the state dir: %v", entries)
	}
}

// Git first: the platform is committed before anything is installed; a
// step that fails says what to do next, the run is checkpointed, and a
// second run without --resume is told to resume.
func TestBootstrapCommitsFirstAndSaysWhatNext(t *testing.T) {
	state := bootstrapEnv(t)
	srv := testworld.StartGitServer(t)
	srv.CreateRepo(t, "gitops")
	t.Setenv("IDP_GIT_USERNAME", srv.User)
	t.Setenv("IDP_GIT_TOKEN", srv.Password)
	file := writePlatform(t, srv.RepoURL("gitops"))
	seed := filepath.Join(t.TempDir(), "seed.kubeconfig")
	os.WriteFile(seed, []byte("apiVersion: v1\nkind: Config\nclusters:\n- name: s\n  cluster: {server: https://127.0.0.1:1}\nusers:\n- name: u\n  user: {token: x}\ncontexts:\n- name: s\n  context: {cluster: s, user: u}\ncurrent-context: s\n"), 0o600)

	code, out, errOut := run(t, "bootstrap", "--config", file, "--seed-kubeconfig", seed, "--yes")
	if code == 0 {
		t.Fatalf("a seed that does not answer passed:\n%s", out)
	}
	for _, want := range []string{"[1/9] Commit the platform to the GitOps repository", "committed", "[2/9] Pre-flight checks", "failed after", "next: "} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if !strings.HasPrefix(errOut, "Error: ") {
		t.Errorf("stderr %q", errOut)
	}
	clone := filepath.Join(t.TempDir(), "g")
	testworld.Git(t, "", "clone", "--quiet", srv.AuthURL("gitops"), clone)
	if _, err := os.Stat(filepath.Join(clone, "bootstrap", "root.yaml")); err != nil {
		t.Fatal("the platform was not committed first")
	}
	if _, err := os.Stat(filepath.Join(state, "idp", "bootstrap", "acme.json")); err != nil {
		t.Fatalf("no checkpoint: %v", err)
	}

	code, _, errOut = run(t, "bootstrap", "--config", file, "--seed-kubeconfig", seed, "--yes")
	if code == 0 || !strings.Contains(errOut, "--resume") {
		t.Fatalf("a second run without --resume: exit %d, %q", code, errOut)
	}
	code, out, _ = run(t, "bootstrap", "--config", file, "--seed-kubeconfig", seed, "--yes", "--resume", "-o", "json")
	if code == 0 {
		t.Fatal("the resumed run passed with the seed still down")
	}
	first := strings.SplitN(out, "\n", 2)[0]
	var ev struct{ Type, Step string }
	if err := json.Unmarshal([]byte(first), &ev); err != nil {
		t.Fatalf("-o json line %q: %v", first, err)
	}
	if !strings.Contains(out, `"type":"skipped","step":"commit"`) {
		t.Errorf("the resumed run did not skip the commit:\n%s", out)
	}
	if n := testworld.Git(t, "", "--git-dir", srv.RepoPath("gitops"), "rev-list", "--count", "main"); n != "1" {
		t.Errorf("%s commits after the resumed run, want 1", n)
	}
}
