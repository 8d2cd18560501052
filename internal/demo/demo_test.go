package demo

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/back-stack/idp/gitops"
	"github.com/back-stack/idp/internal/sim"
	"github.com/back-stack/idp/platform/aks/akstest"
)

// application is an Argo CD Application for a service's own repository,
// as idp new writes it.
func application(name string) string {
	return fmt.Sprintf(`apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: %[1]s
  namespace: argocd
spec:
  project: default
  source: {repoURL: "file:///srv/git/%[1]s.git", path: deploy, targetRevision: main}
  destination: {server: "https://kubernetes.default.svc", namespace: %[1]s}
  syncPolicy:
    automated: {prune: true, selfHeal: true}
`, name)
}

var webApp, paymentsApp = application("web"), application("payments")

const webDB = `apiVersion: platform.back-stack.io/v1alpha1
kind: PostgreSQLInstance
metadata:
  name: web-db
  namespace: web
spec:
  parameters: {size: medium, version: "16", storageGB: 32}
  connectionSecretName: web-db
`

func open(t *testing.T, dir string) *Playground {
	t.Helper()
	t.Setenv("GIT_AUTHOR_NAME", "Test")
	t.Setenv("GIT_AUTHOR_EMAIL", "test@example.com")
	p, err := Open(context.Background(), Options{Dir: dir, Phase: 60 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

func commit(t *testing.T, p *Playground, files map[string]string) {
	t.Helper()
	repo, err := gitops.Open(context.Background(), p.Config.GitOps, gitops.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer repo.Close()
	var cs gitops.ChangeSet
	for path, content := range files {
		cs.Files = append(cs.Files, gitops.FileChange{Path: path, Content: []byte(content)})
	}
	cs.Message = "test change"
	if _, err := repo.Apply(context.Background(), cs); err != nil {
		t.Fatal(err)
	}
}

func get(t *testing.T, p *Playground, apiVersion, kind, ns, name string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	u.SetAPIVersion(apiVersion)
	u.SetKind(kind)
	k, ok := p.cluster.KindFor(u.GroupVersionKind())
	if !ok {
		t.Fatalf("%s %s not served", apiVersion, kind)
	}
	obj, err := p.cluster.Dynamic().Resource(k.GVR()).Namespace(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		return nil
	}
	return obj
}

// waitFor polls until cond holds, failing with what it last saw.
func waitFor(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	last := ""
	for time.Now().Before(deadline) {
		ok, seen := cond()
		if ok {
			return
		}
		last = seen
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s: never happened; last seen: %s", what, last)
}

func appStatus(t *testing.T, p *Playground, name string) (sync, health, message string) {
	app := get(t, p, "argoproj.io/v1alpha1", "Application", "argocd", name)
	if app == nil {
		return "", "", ""
	}
	sync, _, _ = unstructured.NestedString(app.Object, "status", "sync", "status")
	health, _, _ = unstructured.NestedString(app.Object, "status", "health", "status")
	message, _, _ = unstructured.NestedString(app.Object, "status", "health", "message")
	return sync, health, message
}

// The whole loop: a service committed to apps/ is created by the apps app
// of apps, synced and becomes Healthy; its database is composed and Ready;
// the failing example ends Degraded with its message; the platform's own
// applications end Healthy; the app of apps reports its worst child.
func TestPlaygroundLoop(t *testing.T) {
	p := open(t, filepath.Join(t.TempDir(), "pg"))
	if !p.Created {
		t.Fatal("a new folder should give a new playground")
	}
	commit(t, p, map[string]string{
		"apps/web/application.yaml": webApp, "apps/web/database.yaml": webDB,
		"apps/payments/application.yaml": paymentsApp,
	})
	if err := p.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	waitFor(t, "web Healthy", func() (bool, string) {
		s, h, _ := appStatus(t, p, "web")
		seen[s+"/"+h] = true
		return h == "Healthy", s + "/" + h
	})
	if !seen["Synced/Progressing"] {
		t.Errorf("web went %v, never through Synced/Progressing", seen)
	}
	if s, _, _ := appStatus(t, p, "web"); s != "Synced" {
		t.Errorf("web sync = %s", s)
	}
	waitFor(t, "payments Degraded", func() (bool, string) {
		_, h, msg := appStatus(t, p, "payments")
		return h == "Degraded" && strings.Contains(msg, "exceeded its progress deadline"), h + ": " + msg
	})
	waitFor(t, "web-db Ready", func() (bool, string) {
		xr := get(t, p, "platform.back-stack.io/v1alpha1", "PostgreSQLInstance", "web", "web-db")
		if xr == nil {
			return false, "no XR"
		}
		refs, _, _ := unstructured.NestedSlice(xr.Object, "spec", "crossplane", "resourceRefs")
		conds, _, _ := unstructured.NestedSlice(xr.Object, "status", "conditions")
		ready := false
		for _, c := range conds {
			m := c.(map[string]any)
			ready = ready || (m["type"] == "Ready" && m["status"] == "True")
		}
		return ready && len(refs) == 3, fmt.Sprintf("refs %v conditions %v", refs, conds)
	})
	server := get(t, p, "dbforpostgresql.azure.m.upbound.io/v1beta1", "FlexibleServer", "web", "web-db-server")
	if server == nil {
		t.Fatal("the composed FlexibleServer is missing")
	}
	// The composition's patches reach the managed resource: size medium
	// maps to its SKU, and the connection secret is the XR's.
	if sku, _, _ := unstructured.NestedString(server.Object, "spec", "forProvider", "skuName"); sku != "GP_Standard_D2ds_v5" {
		t.Errorf("skuName = %q, want the medium size's GP_Standard_D2ds_v5", sku)
	}
	if s, _, _ := unstructured.NestedString(server.Object, "spec", "writeConnectionSecretToRef", "name"); s != "web-db" {
		t.Errorf("connection secret = %q", s)
	}
	// The rendered platform's infrastructure is composed too, with the
	// external names its compositions patch from the XRs (what adoption
	// relies on).
	waitFor(t, "the AKS cluster composed", func() (bool, string) {
		mr := get(t, p, "containerservice.azure.m.upbound.io/v1beta1", "KubernetesCluster", "infrastructure", ClusterName+"-cluster")
		if mr == nil {
			return false, "no KubernetesCluster"
		}
		ext := mr.GetAnnotations()["crossplane.io/external-name"]
		return ext == ClusterName, "external name " + ext
	})
	for _, name := range []string{"argocd", "crossplane", "kyverno", "infrastructure"} {
		waitFor(t, name+" Healthy", func() (bool, string) {
			s, h, _ := appStatus(t, p, name)
			return s == "Synced" && h == "Healthy", s + "/" + h
		})
	}
	waitFor(t, "apps reports its Degraded child", func() (bool, string) {
		_, h, _ := appStatus(t, p, "apps")
		return h == "Degraded", h
	})

	// Removing a service from Git prunes its Application.
	repo, err := gitops.Open(context.Background(), p.Config.GitOps, gitops.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer repo.Close()
	if _, err := repo.Apply(context.Background(), gitops.ChangeSet{Message: "remove web", Files: []gitops.FileChange{{Path: "apps/web", Delete: true}}}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "web pruned", func() (bool, string) {
		return get(t, p, "argoproj.io/v1alpha1", "Application", "argocd", "web") == nil, "still there"
	})
}

// A sync asked for through .operation (what the TUI's S does) runs and
// is cleared, with the user recorded as its initiator.
func TestPlaygroundManualSync(t *testing.T) {
	p := open(t, filepath.Join(t.TempDir(), "pg"))
	commit(t, p, map[string]string{"apps/web/application.yaml": webApp})
	if err := p.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "web Healthy", func() (bool, string) {
		_, h, _ := appStatus(t, p, "web")
		return h == "Healthy", h
	})
	dyn := p.cluster.Dynamic()
	apps := dyn.Resource(sim.Applications).Namespace("argocd")
	app, err := apps.Get(context.Background(), "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	app.Object["operation"] = map[string]any{"sync": map[string]any{}, "initiatedBy": map[string]any{"username": "ada"}}
	if _, err := apps.Update(context.Background(), app, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the sync ran", func() (bool, string) {
		app, err := apps.Get(context.Background(), "web", metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		_, pending := app.Object["operation"]
		user, _, _ := unstructured.NestedString(app.Object, "status", "operationState", "operation", "initiatedBy", "username")
		phase, _, _ := unstructured.NestedString(app.Object, "status", "operationState", "phase")
		return !pending && user == "ada" && phase == "Succeeded", fmt.Sprintf("pending=%v user=%q phase=%q", pending, user, phase)
	})
}

func TestPlaygroundReuseAndReset(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pg")
	p := open(t, dir)
	commit(t, p, map[string]string{"apps/web/application.yaml": webApp})
	p.Close()

	p = open(t, dir)
	if p.Created {
		t.Fatal("a second run should reuse the playground")
	}
	snap, err := p.snapshot()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := snap.Files["apps/web/application.yaml"]; !ok {
		t.Fatal("the reused playground lost its commits")
	}
	p.Close()

	p, err = Open(context.Background(), Options{Dir: dir, Reset: true})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if !p.Created {
		t.Fatal("--reset should make a new playground")
	}
	snap, err = p.snapshot()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := snap.Files["apps/web/application.yaml"]; ok {
		t.Fatal("--reset kept the old commits")
	}
	if _, ok := snap.Files["bootstrap/root.yaml"]; !ok {
		t.Fatal("the reset playground has no bootstrap/root.yaml")
	}
}

func TestPlaygroundInUse(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pg")
	open(t, dir)
	_, err := Open(context.Background(), Options{Dir: dir})
	if err == nil || !strings.Contains(err.Error(), "in use by another idp demo") || !strings.Contains(err.Error(), "--dir") {
		t.Fatalf("second Open of one folder: %v", err)
	}
}

// --reset never deletes a folder that is not a playground.
func TestPlaygroundRefusesForeignFolder(t *testing.T) {
	dir := t.TempDir()
	mine := filepath.Join(dir, "thesis.tex")
	if err := os.WriteFile(mine, []byte("precious"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Open(context.Background(), Options{Dir: dir, Reset: true})
	if err == nil || !strings.Contains(err.Error(), "not an idp playground") {
		t.Fatalf("Open of a foreign folder: %v", err)
	}
	if _, err := os.Stat(mine); err != nil {
		t.Fatalf("the user's file is gone: %v", err)
	}
}

// Two playgrounds side by side share nothing.
func TestPlaygroundsAreIndependent(t *testing.T) {
	a := open(t, filepath.Join(t.TempDir(), "a"))
	b := open(t, filepath.Join(t.TempDir(), "b"))
	commit(t, a, map[string]string{"apps/web/application.yaml": webApp})
	for _, p := range []*Playground{a, b} {
		if err := p.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "web in a", func() (bool, string) {
		_, h, _ := appStatus(t, a, "web")
		return h == "Healthy", h
	})
	if get(t, b, "argoproj.io/v1alpha1", "Application", "argocd", "web") != nil {
		t.Fatal("b's cluster has a's service")
	}
}

// Argo CD and Crossplane run on the AKS cluster: while Cluster power has it
// stopped, nothing is reconciled; started again, the backlog is.
func TestPlaygroundPausesWhileAKSStopped(t *testing.T) {
	p := open(t, filepath.Join(t.TempDir(), "pg"))
	if err := p.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "root synced", func() (bool, string) {
		s, _, _ := appStatus(t, p, "root")
		return s == "Synced", s
	})
	p.AKS.Update(func(c *akstest.Cluster) { c.Power = "Stopped" })
	time.Sleep(50 * time.Millisecond) // a tick in flight finishes
	commit(t, p, map[string]string{"apps/web/application.yaml": webApp})
	time.Sleep(15 * p.opts.Phase)
	if get(t, p, "argoproj.io/v1alpha1", "Application", "argocd", "web") != nil {
		t.Fatal("web was deployed while the cluster was stopped")
	}
	p.AKS.Update(func(c *akstest.Cluster) { c.Power = "Running" })
	waitFor(t, "web Healthy after start", func() (bool, string) {
		_, h, _ := appStatus(t, p, "web")
		return h == "Healthy", h
	})
}

// A cluster stopped in one run is stopped in the next, as Git records it.
func TestPlaygroundKeepsAKSPower(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pg")
	p := open(t, dir)
	if p.AKS.Power != "Running" {
		t.Fatalf("a new playground's cluster is %s", p.AKS.Power)
	}
	p.AKS.Update(func(c *akstest.Cluster) { c.Power = "Stopped" })
	p.Close()
	p = open(t, dir)
	if p.AKS.Power != "Stopped" {
		t.Fatalf("the stopped cluster came back %s", p.AKS.Power)
	}
}

// Every resolve of the environment names the same in-process cluster, so
// the views share one informer pool (a refresh must not start another).
func TestPlaygroundEnvironmentIsStable(t *testing.T) {
	p := open(t, filepath.Join(t.TempDir(), "pg"))
	if env := p.Environment(); env.InProcess != nil || env.KubeErr == nil {
		t.Fatal("an unstarted playground has a cluster")
	}
	if err := p.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	a, b := p.Environment(), p.Environment()
	if a.InProcess == nil || a.InProcess != b.InProcess {
		t.Fatalf("two resolves: %p and %p", a.InProcess, b.InProcess)
	}
}

// client-go's fakes record every call for tests to inspect; the playground
// forgets them, or a demo left running would grow without end.
func TestPlaygroundKeepsNoCallRecord(t *testing.T) {
	p := open(t, filepath.Join(t.TempDir(), "pg"))
	if err := p.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "root synced", func() (bool, string) {
		s, _, _ := appStatus(t, p, "root")
		return s == "Synced", s
	})
	time.Sleep(20 * p.opts.Phase) // many passes of the simulator
	if n := len(p.cluster.fake.Actions()); n > 5 {
		t.Fatalf("the fake client holds %d recorded calls", n)
	}
}
