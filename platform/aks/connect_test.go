package aks

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/back-stack/idp/gitops"
	"github.com/back-stack/idp/internal/testworld"
	"github.com/back-stack/idp/platform/aks/akstest"
)

const platformYAML = `apiVersion: idp.back-stack.io/v1alpha1
kind: PlatformConfig
azure:
  subscriptionID: 00000000-0000-0000-0000-000000000001
  resourceGroup: platform
  aks:
    name: platform-aks
`

// gitopsRepo is a GitOps repository on the real git server holding the
// platform configuration.
func gitopsRepo(t *testing.T) *testworld.GitServer {
	t.Helper()
	srv := testworld.StartGitServer(t)
	srv.CreateRepo(t, "gitops")
	work := filepath.Join(t.TempDir(), "work")
	testworld.Git(t, "", "clone", "--quiet", srv.AuthURL("gitops"), work)
	if err := os.MkdirAll(filepath.Join(work, ".idp"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(work, ".idp", "platform.yaml"), []byte(platformYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	testworld.Git(t, work, "add", ".")
	testworld.Git(t, work, "commit", "--quiet", "-m", "platform config")
	testworld.Git(t, work, "push", "--quiet", "origin", "HEAD:main")
	return srv
}

func target(t *testing.T, srv *testworld.GitServer, cl *akstest.Cluster, password string) Target {
	return Target{
		GitOps: srv.RepoURL("gitops"),
		GitOptions: gitops.Options{
			CacheDir: t.TempDir(),
			Username: srv.User, Token: password,
			Identity: &gitops.Signature{Name: "Ada Lovelace", Email: "ada@example.com"},
		},
		Credential:    akstest.Credential(),
		ClientOptions: cl.ClientOptions(),
	}
}

func TestStopIsRecordedAsACommit(t *testing.T) {
	srv := gitopsRepo(t)
	cl := &akstest.Cluster{Power: Running, Provisioning: "Succeeded", Steps: 2}
	c, audit, err := target(t, srv, cl, srv.Password).Connect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if c.Ref() != ref {
		t.Fatalf("cluster from .idp/platform.yaml: %+v", c.Ref())
	}
	c.PollEvery = 0
	out := Do(context.Background(), c, Stop, true, audit, nil)
	if out.Err != nil || out.AuditErr != nil || out.AuditCommit == "" {
		t.Fatalf("outcome %+v", out)
	}

	back := filepath.Join(t.TempDir(), "back")
	testworld.Git(t, "", "clone", "--quiet", srv.AuthURL("gitops"), back)
	testworld.Git(t, back, "fsck", "--strict")
	if got := testworld.Git(t, back, "rev-parse", "HEAD"); got != out.AuditCommit {
		t.Errorf("remote tip %s, audit commit %s", got, out.AuditCommit)
	}
	if got := testworld.Git(t, back, "log", "-1", "--format=%s|%an"); got != "aks: stop platform-aks (succeeded)|Ada Lovelace" {
		t.Errorf("commit %q", got)
	}
	files, _ := filepath.Glob(filepath.Join(back, ".idp", "audit", "*-stop-platform-aks.yaml"))
	if len(files) != 1 {
		t.Fatalf("audit files %v", files)
	}
	data, _ := os.ReadFile(files[0])
	for _, want := range []string{"who: Ada Lovelace <ada@example.com>", "outcome: succeeded", "powerState: Stopped"} {
		if !strings.Contains(string(data), want) {
			t.Errorf("record lacks %q:\n%s", want, data)
		}
	}
}

func TestFlagsWinOverThePlatformConfig(t *testing.T) {
	srv := gitopsRepo(t)
	tg := target(t, srv, &akstest.Cluster{Power: Running, Provisioning: "Succeeded"}, srv.Password)
	tg.Flags = Ref{Name: "other-aks"}
	c, _, err := tg.Connect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if want := (Ref{SubscriptionID: ref.SubscriptionID, ResourceGroup: "platform", Name: "other-aks"}); c.Ref() != want {
		t.Errorf("ref %+v, want %+v", c.Ref(), want)
	}
}

// A failed audit commit is reported, and the Azure action stands.
func TestAuditFailureDoesNotUndoTheAction(t *testing.T) {
	srv := gitopsRepo(t)
	cl := &akstest.Cluster{Power: Stopped, Provisioning: "Succeeded"}
	c, audit, err := target(t, srv, cl, srv.Password).Connect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	c.PollEvery = 0
	srv.Password = "rotated" // the server now refuses idp's credentials
	out := Do(context.Background(), c, Start, true, audit, nil)
	if out.Err != nil || out.Result.Outcome != Succeeded {
		t.Fatalf("the start itself failed: %+v", out)
	}
	if out.AuditErr == nil || !strings.Contains(out.AuditErr.Error(), "not recorded") {
		t.Errorf("audit error %v", out.AuditErr)
	}
	if cl.Power != Running {
		t.Errorf("power %s after a successful start", cl.Power)
	}
}

func TestNoGitOpsSaysWhereTheClusterComesFrom(t *testing.T) {
	_, _, err := Target{Credential: akstest.Credential()}.Connect(context.Background())
	if err == nil || !strings.Contains(err.Error(), "azure.aks.name") || !strings.Contains(err.Error(), "pass --gitops") {
		t.Errorf("error %v", err)
	}
}
