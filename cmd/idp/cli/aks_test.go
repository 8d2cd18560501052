package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/back-stack/idp/internal/testworld"
	"github.com/back-stack/idp/platform/aks"
	"github.com/back-stack/idp/platform/aks/akstest"
)

// aksWorld is a GitOps repository on the real git server naming the cluster,
// and the cluster on the Azure SDK's fake server.
func aksWorld(t *testing.T, cl *akstest.Cluster) (gitopsURL string, srv *testworld.GitServer) {
	t.Helper()
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	t.Setenv("GIT_AUTHOR_NAME", "Ada Lovelace")
	t.Setenv("GIT_AUTHOR_EMAIL", "ada@example.com")
	srv = testworld.StartGitServer(t)
	srv.CreateRepo(t, "gitops")
	work := filepath.Join(t.TempDir(), "work")
	testworld.Git(t, "", "clone", "--quiet", srv.AuthURL("gitops"), work)
	os.MkdirAll(filepath.Join(work, ".idp"), 0o755)
	os.WriteFile(filepath.Join(work, ".idp", "platform.yaml"), []byte(`apiVersion: idp.back-stack.io/v1alpha1
kind: PlatformConfig
azure:
  subscriptionID: 00000000-0000-0000-0000-000000000001
  resourceGroup: platform
  aks:
    name: platform-aks
`), 0o644)
	testworld.Git(t, work, "add", ".")
	testworld.Git(t, work, "commit", "--quiet", "-m", "platform config")
	testworld.Git(t, work, "push", "--quiet", "origin", "HEAD:main")
	return srv.AuthURL("gitops"), srv
}

func runAKS(t *testing.T, cl *akstest.Cluster, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	root := newRoot(azureDeps{cred: akstest.Credential(), opts: cl.ClientOptions(), pollEvery: time.Millisecond})
	var out, errb bytes.Buffer
	cfg := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(cfg, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	root.SetArgs(append([]string{"--config", cfg}, args...))
	root.SetOut(&out)
	root.SetErr(&errb)
	root.SetIn(strings.NewReader(""))
	if err := root.ExecuteContext(context.Background()); err != nil {
		errb.WriteString("Error: " + err.Error())
		return 1, out.String(), errb.String()
	}
	return 0, out.String(), errb.String()
}

func TestAKSStatusJSON(t *testing.T) {
	cl := &akstest.Cluster{Power: aks.Running, Provisioning: "Succeeded"}
	url, _ := aksWorld(t, cl)
	code, out, errOut := runAKS(t, cl, "--gitops", url, "aks", "status", "-o", "json")
	if code != 0 {
		t.Fatalf("code %d: %s", code, errOut)
	}
	var got aks.Cluster
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if got.PowerState != aks.Running || got.Ref.Name != "platform-aks" || len(got.NodePools) != 1 {
		t.Errorf("status %+v", got)
	}
}

func TestAKSStopWaitsAndIsRecorded(t *testing.T) {
	cl := &akstest.Cluster{Power: aks.Running, Provisioning: "Succeeded", Steps: 2}
	url, srv := aksWorld(t, cl)
	code, out, errOut := runAKS(t, cl, "--gitops", url, "aks", "stop", "--yes", "--wait", "-o", "json")
	if code != 0 {
		t.Fatalf("code %d: %s", code, errOut)
	}
	var got struct {
		Outcome     string `json:"outcome"`
		AuditCommit string `json:"auditCommit"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if got.Outcome != aks.Succeeded || got.AuditCommit == "" || cl.Power != aks.Stopped {
		t.Fatalf("result %+v, cluster %s", got, cl.Power)
	}
	log := testworld.Git(t, "", "--git-dir", srv.RepoPath("gitops"), "log", "-1", "--format=%H %s")
	if log != got.AuditCommit+" aks: stop platform-aks (succeeded)" {
		t.Errorf("remote log %q, audit commit %s", log, got.AuditCommit)
	}
}

func TestAKSRefusals(t *testing.T) {
	cl := &akstest.Cluster{Power: aks.Running, Provisioning: "Succeeded"}
	url, _ := aksWorld(t, cl)
	for name, tc := range map[string]struct {
		args []string
		want string
	}{
		"no confirmation without a terminal": {[]string{"--gitops", url, "aks", "stop"}, "pass --yes"},
		"nowhere to record":                  {[]string{"aks", "stop", "--yes", "--subscription", "s", "--resource-group", "rg", "--cluster", "c"}, "recorded in the GitOps repository"},
		"which cluster":                      {[]string{"aks", "status", "--subscription", "s"}, "missing --resource-group"},
		"already running":                    {[]string{"--gitops", url, "aks", "start", "--yes"}, "already running"},
		"bad output":                         {[]string{"--gitops", url, "aks", "status", "-o", "xml"}, "valid values are text, json"},
	} {
		t.Run(name, func(t *testing.T) {
			code, _, errOut := runAKS(t, cl, tc.args...)
			if code == 0 || !strings.Contains(errOut, tc.want) {
				t.Errorf("code %d, stderr %q; want an error with %q", code, errOut, tc.want)
			}
			if cl.Power != aks.Running || cl.Provisioning != "Succeeded" {
				t.Errorf("the cluster changed: %s/%s", cl.Power, cl.Provisioning)
			}
		})
	}
}
