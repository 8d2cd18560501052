package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/back-stack/idp/internal/livetest"
	"github.com/back-stack/idp/internal/testworld"
	"github.com/back-stack/idp/platform/kyverno"
	"github.com/back-stack/idp/platform/live"
	"github.com/back-stack/idp/platform/watch"
)

// status runs `idp status ... -o json` and decodes its output.
func status(t *testing.T, kubeconfig string, args ...string) live.Snapshot {
	t.Helper()
	return statusExit(t, kubeconfig, 0, args...)
}

// statusExit is status for a run that must exit with code: 3 when a source
// could not be read (the output is still printed, and is incomplete).
func statusExit(t *testing.T, kubeconfig string, code int, args ...string) live.Snapshot {
	t.Helper()
	idp := testworld.IdpBinary(t)
	cmd := exec.Command(idp, append([]string{"status", "--kubeconfig", kubeconfig, "-o", "json"}, args...)...)
	cmd.Env = env(t)
	out, err := cmd.Output()
	got := 0
	stderr := ""
	if ee, ok := err.(*exec.ExitError); ok {
		got, stderr = ee.ExitCode(), string(ee.Stderr)
	} else if err != nil {
		t.Fatalf("idp status %v: %v", args, err)
	}
	if got != code {
		t.Fatalf("idp status %v: exit %d, want %d\n%s", args, got, code, stderr)
	}
	var s live.Snapshot
	if err := json.Unmarshal(out, &s); err != nil {
		t.Fatalf("decoding %s: %v", out, err)
	}
	return s
}

func tree(s live.Snapshot, name string) *live.Tree {
	for i := range s.Composites {
		if s.Composites[i].Root.Name == name {
			return &s.Composites[i]
		}
	}
	return nil
}

// Every change the controllers write shows in `idp status -o json`:
// applications, a composite resource and its managed resources, and for
// one application its Kyverno results and events.
func TestStatusJSONReflectsEachChange(t *testing.T) {
	c := testworld.SharedCluster(t)
	livetest.ArgoCD(t, c)
	livetest.Crossplane(t, c)
	livetest.Kyverno(t, c)
	ns := c.Namespace(t)
	dyn := livetest.Dynamic(t, c.Config)
	filter := []string{"--filter", "namespace=" + ns}

	livetest.CreateApp(t, dyn, livetest.Application(ns, "web", "shop", nil))
	s := status(t, c.Kubeconfig, filter...)
	if len(s.Applications) != 1 || s.Applications[0].Name != "web" || s.Applications[0].Health != "Unknown" {
		t.Fatalf("new application: %+v", s.Applications)
	}

	livetest.WriteAppStatus(t, dyn, ns, "web", livetest.AppStatus{
		Sync: "Synced", Health: "Progressing", Revision: "4f3c2b1a0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b",
		Resources: []map[string]any{
			{"group": "apps", "version": "v1", "kind": "Deployment", "namespace": ns, "name": "web", "status": "Synced", "health": map[string]any{"status": "Progressing"}},
			{"group": "db.example.org", "version": "v1alpha1", "kind": "XPostgreSQL", "namespace": ns, "name": "web-db", "status": "Synced", "health": map[string]any{"status": "Progressing"}},
		},
	})
	s = status(t, c.Kubeconfig, filter...)
	if a := s.Applications[0]; a.Sync != "Synced" || a.Health != "Progressing" || len(a.Resources) != 2 {
		t.Fatalf("after the status write: %+v", a)
	}

	livetest.Create(t, dyn, livetest.XPostgreSQLs, livetest.Object(livetest.XPostgreSQLs, "XPostgreSQL", ns, "web-db", map[string]any{"size": "small"}))
	livetest.SetRefs(t, dyn, livetest.XPostgreSQLs, ns, "web-db", []any{livetest.Ref(mAPI, "FlexibleServer", "", "web-db-server")}, "spec", "crossplane", "resourceRefs")
	livetest.Create(t, dyn, livetest.FlexibleServers, livetest.Object(livetest.FlexibleServers, "FlexibleServer", ns, "web-db-server", map[string]any{"forProvider": map[string]any{}}))
	quota := "create failed: 409 Conflict: QuotaExceeded: no quota left for Standard_D2ds_v5 in westeurope"
	livetest.SetConditions(t, dyn, livetest.FlexibleServers, ns, "web-db-server", livetest.Cond("Synced", "False", "ReconcileError", quota), livetest.Cond("Ready", "False", "Creating", ""))
	s = status(t, c.Kubeconfig, filter...)
	tr := tree(s, "web-db")
	if tr == nil || tr.Failure == nil || tr.Failure.Name != "web-db-server" || tr.Failure.Condition.Message != quota {
		t.Fatalf("composite tree: %+v", tr)
	}

	livetest.SetConditions(t, dyn, livetest.FlexibleServers, ns, "web-db-server", livetest.Cond("Synced", "True", "ReconcileSuccess", ""), livetest.Cond("Ready", "True", "Available", ""))
	livetest.SetConditions(t, dyn, livetest.XPostgreSQLs, ns, "web-db", livetest.Cond("Synced", "True", "ReconcileSuccess", ""), livetest.Cond("Ready", "True", "Available", ""))
	s = status(t, c.Kubeconfig, filter...)
	if tr := tree(s, "web-db"); tr == nil || tr.Failure != nil || tr.Root.Ready.Status != "True" || tr.Root.Children[0].Ready.Status != "True" {
		t.Fatalf("after everything got ready: %+v", tr)
	}

	// Kyverno's report for the Deployment and an event on the Application.
	report := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "wgpolicyk8s.io/v1alpha2", "kind": "PolicyReport",
		"metadata": map[string]any{"name": "deploy-web", "namespace": ns},
		"scope":    map[string]any{"apiVersion": "apps/v1", "kind": "Deployment", "namespace": ns, "name": "web"},
		"summary":  map[string]any{"pass": int64(1), "fail": int64(1)},
		"results": []any{
			map[string]any{"policy": "require-labels", "rule": "check-team", "result": "fail", "message": "validation error: label team is required", "source": "kyverno"},
			map[string]any{"policy": "disallow-latest", "rule": "validate-image-tag", "result": "pass", "source": "kyverno"},
		},
	}}
	if _, err := dyn.Resource(kyverno.PolicyReports).Namespace(ns).Create(livetest.Ctx(t), report, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	ev := &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{Name: "web.sync", Namespace: ns},
		InvolvedObject: corev1.ObjectReference{APIVersion: "argoproj.io/v1alpha1", Kind: "Application", Namespace: ns, Name: "web"},
		Reason:         "OperationStarted", Message: "dev initiated sync to HEAD", Type: "Normal",
		Source: corev1.EventSource{Component: "argocd-server"}, LastTimestamp: metav1.Now(), Count: 1,
	}
	if _, err := c.Clientset(t).CoreV1().Events(ns).Create(livetest.Ctx(t), ev, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	s = status(t, c.Kubeconfig, ns+"/web")
	d := s.Application
	if d == nil || d.Policy == nil || d.Policy.Pass != 1 || d.Policy.Fail != 1 || len(d.Policy.Findings) != 1 ||
		d.Policy.Findings[0].Message != "validation error: label team is required" {
		t.Fatalf("policy: %+v", d)
	}
	if len(d.Events) != 1 || d.Events[0].Reason != "OperationStarted" {
		t.Fatalf("events: %+v", d.Events)
	}
	if len(s.Composites) != 1 || s.Composites[0].Root.Name != "web-db" {
		t.Fatalf("the application's own composites: %+v", s.Composites)
	}
}

// --watch streams a change as it happens.
func TestStatusWatchStreamsChanges(t *testing.T) {
	c := testworld.SharedCluster(t)
	livetest.ArgoCD(t, c)
	ns := c.Namespace(t)
	dyn := livetest.Dynamic(t, c.Config)
	livetest.CreateApp(t, dyn, livetest.Application(ns, "api", "shop", nil))

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := exec.CommandContext(ctx, testworld.IdpBinary(t), "status", "--kubeconfig", c.Kubeconfig, "--watch", "-o", "json", "--filter", "namespace="+ns)
	cmd.Env = env(t)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cancel()
		_ = cmd.Wait()
	}()
	dec := json.NewDecoder(bufio.NewReader(stdout))
	var first live.Snapshot
	if err := dec.Decode(&first); err != nil || len(first.Applications) != 1 {
		t.Fatalf("first snapshot: %v %+v", err, first)
	}
	livetest.WriteAppStatus(t, dyn, ns, "api", livetest.AppStatus{Sync: "OutOfSync", Health: "Degraded"})
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		var ch live.Change
		if err := dec.Decode(&ch); err != nil {
			t.Fatalf("reading changes: %v", err)
		}
		if ch.Application != nil && ch.Application.Name == "api" && ch.Application.Health == "Degraded" {
			return
		}
	}
	t.Fatal("no change with the new health")
}

// A user who may read applications but not one kind of XR gets the
// applications, and that kind reported as forbidden, not as empty.
func TestStatusForbiddenKindIsReported(t *testing.T) {
	c := testworld.SharedCluster(t)
	livetest.ArgoCD(t, c)
	livetest.Crossplane(t, c)
	ns := c.Namespace(t)
	dyn := livetest.Dynamic(t, c.Config)
	livetest.CreateApp(t, dyn, livetest.Application(ns, "ro", "shop", nil))
	user := "reader-" + ns
	livetest.Restricted(t, c, user, []rbacv1.PolicyRule{
		{APIGroups: []string{"argoproj.io"}, Resources: []string{"applications"}, Verbs: []string{"get", "list", "watch"}},
		{APIGroups: []string{"apiextensions.crossplane.io"}, Resources: []string{"compositeresourcedefinitions"}, Verbs: []string{"get", "list", "watch"}},
		{APIGroups: []string{"legacy.example.org"}, Resources: []string{"*"}, Verbs: []string{"get", "list", "watch"}},
	})
	kubeconfig := impersonatingKubeconfig(t, c, user)
	// A forbidden kind makes the output incomplete: exit 3, rows still printed.
	s := statusExit(t, kubeconfig, 3, "--filter", "namespace="+ns)
	if len(s.Applications) != 1 || s.Applications[0].Name != "ro" {
		t.Fatalf("applications: %+v", s.Applications)
	}
	found := false
	for _, src := range s.Sources {
		if src.Source == "XPostgreSQL.db.example.org" {
			found = src.State == watch.Forbidden && strings.Contains(src.Error, "forbidden")
		}
	}
	if !found {
		t.Fatalf("XPostgreSQL not reported as forbidden: %+v", s.Sources)
	}
}

// impersonatingKubeconfig is the test world's kubeconfig acting as user
// (kubectl's --as), so the API server applies user's RBAC.
func impersonatingKubeconfig(t *testing.T, c *testworld.Cluster, user string) string {
	t.Helper()
	cfg, err := clientcmd.LoadFromFile(c.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range cfg.AuthInfos {
		a.Impersonate = user
	}
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	return path
}

const mAPI = "dbforpostgresql.azure.m.upbound.io/v1beta1"

// A cluster that cannot be reached is not "no applications": idp status
// prints what it has, says which sources it could not read, and exits 3,
// in every output format.
func TestStatusUnreachableClusterExitsNonZero(t *testing.T) {
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	// A port nothing listens on: every request is refused.
	cfg := `apiVersion: v1
kind: Config
clusters: [{name: gone, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: gone, context: {cluster: gone, user: u}}]
current-context: gone
`
	if err := os.WriteFile(kubeconfig, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, output := range []string{"table", "json", "yaml"} {
		code, out, errOut := runIdp(t, env(t), "status", "--kubeconfig", kubeconfig, "--timeout", "3s", "-o", output)
		if code != 3 {
			t.Errorf("-o %s: exit %d, want 3\nstdout:\n%s\nstderr:\n%s", output, code, out, errOut)
		}
		if !strings.Contains(errOut, "applications.argoproj.io (reconnecting") || !strings.Contains(errOut, "incomplete") {
			t.Errorf("-o %s: stderr does not name the source it could not read:\n%s", output, errOut)
		}
	}
}
