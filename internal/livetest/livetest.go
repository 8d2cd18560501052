// Package livetest sets up what the live views' tests need on the test
// world's real API server: the upstream Argo CD, Crossplane and Kyverno CRDs,
// XR CRDs generated from XRDs the way Crossplane does, managed-resource CRDs,
// and stand-ins that write status the way Argo CD's and Crossplane's
// controllers do. Nothing here is used by the idp binary.
package livetest

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"

	"github.com/back-stack/idp/internal/testworld"
	"github.com/back-stack/idp/platform/argocd"
)

// KyvernoModule holds the upstream PolicyReport CRDs (wgpolicyk8s.io).
const KyvernoModule = "github.com/kyverno/kyverno@v1.19.1"

var (
	installMu sync.Mutex
	installed = map[string]map[string]bool{} // cluster URL -> what is installed
)

// once runs install for a cluster once per test process.
func once(t testing.TB, c *testworld.Cluster, what string, install func(ctx context.Context) error) {
	t.Helper()
	installMu.Lock()
	defer installMu.Unlock()
	if installed[c.URL][what] {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := install(ctx); err != nil {
		t.Fatalf("livetest: installing %s: %v", what, err)
	}
	if installed[c.URL] == nil {
		installed[c.URL] = map[string]bool{}
	}
	installed[c.URL][what] = true
}

// ArgoCD installs Argo CD's CRDs.
func ArgoCD(t testing.TB, c *testworld.Cluster) {
	once(t, c, "argocd", func(ctx context.Context) error {
		files, err := testworld.ArgoCDCRDFiles(ctx)
		if err != nil {
			return err
		}
		return testworld.InstallCRDs(ctx, c.Config, files...)
	})
}

// Kyverno installs the PolicyReport and ClusterPolicyReport CRDs from
// Kyverno's module.
func Kyverno(t testing.TB, c *testworld.Cluster) {
	once(t, c, "kyverno", func(ctx context.Context) error {
		dir, err := testworld.ModuleDir(ctx, KyvernoModule)
		if err != nil {
			return err
		}
		files, err := filepath.Glob(filepath.Join(dir, "config", "crds", "policyreport", "*.yaml"))
		if err != nil || len(files) == 0 {
			return fmt.Errorf("no policy report CRDs in %s: %v", dir, err)
		}
		return testworld.InstallCRDs(ctx, c.Config, files...)
	})
}

// Dynamic is a dynamic client for cfg.
func Dynamic(t testing.TB, cfg *rest.Config) dynamic.Interface {
	t.Helper()
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return dyn
}

// Ctx is a context for one call in a test.
func Ctx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// Application returns an Application manifest with a single Git source.
func Application(namespace, name, project string, labels map[string]string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "argoproj.io/v1alpha1",
		"kind":       "Application",
		"metadata":   map[string]any{"name": name, "namespace": namespace},
		"spec": map[string]any{
			"project": project,
			"source": map[string]any{
				"repoURL": "https://git.example.com/platform/gitops.git", "path": "apps/" + name, "targetRevision": "HEAD",
			},
			"destination": map[string]any{"server": "https://kubernetes.default.svc", "namespace": name},
		},
	}}
	if labels != nil {
		l := map[string]any{}
		for k, v := range labels {
			l[k] = v
		}
		u.Object["metadata"].(map[string]any)["labels"] = l
	}
	return u
}

// CreateApp creates an Application and returns it as stored.
func CreateApp(t testing.TB, dyn dynamic.Interface, app *unstructured.Unstructured) *unstructured.Unstructured {
	t.Helper()
	out, err := dyn.Resource(argocd.Applications).Namespace(app.GetNamespace()).Create(Ctx(t), app, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("creating application %s: %v", app.GetName(), err)
	}
	return out
}

// AppStatus is what the Argo CD controller stand-in writes.
type AppStatus struct {
	Sync, Health, HealthMessage, Revision string
	Conditions                            []map[string]any
	Resources                             []map[string]any
	Operation                             map[string]any // status.operationState
}

// WriteAppStatus writes .status the way Argo CD's application controller
// does: the Application CRD has no status subresource, so it is a plain
// update of the whole object (retried on conflicts).
func WriteAppStatus(t testing.TB, dyn dynamic.Interface, namespace, name string, st AppStatus) {
	t.Helper()
	ri := dyn.Resource(argocd.Applications).Namespace(namespace)
	for {
		u, err := ri.Get(Ctx(t), name, metav1.GetOptions{})
		if err != nil {
			t.Fatalf("getting application %s: %v", name, err)
		}
		status := map[string]any{
			"sync":         map[string]any{"status": st.Sync, "revision": st.Revision},
			"health":       map[string]any{"status": st.Health},
			"reconciledAt": time.Now().UTC().Format(time.RFC3339),
		}
		if st.HealthMessage != "" {
			status["health"].(map[string]any)["message"] = st.HealthMessage
		}
		if st.Conditions != nil {
			status["conditions"] = toAny(st.Conditions)
		}
		if st.Resources != nil {
			status["resources"] = toAny(st.Resources)
		}
		if st.Operation != nil {
			status["operationState"] = st.Operation
		}
		u.Object["status"] = status
		_, err = ri.Update(Ctx(t), u, metav1.UpdateOptions{})
		if err == nil {
			return
		}
		if !apierrors.IsConflict(err) {
			t.Fatalf("writing status of application %s: %v", name, err)
		}
	}
}

func toAny(ms []map[string]any) []any {
	out := make([]any, len(ms))
	for i, m := range ms {
		out[i] = m
	}
	return out
}

// Restricted returns a config for a user who may do only what rules allow,
// cluster-wide. The test world's API server has one token user (in
// system:masters), so the user is impersonated: the API server checks the
// impersonated user's own RBAC, as for a real one.
func Restricted(t testing.TB, c *testworld.Cluster, user string, rules []rbacv1.PolicyRule) *rest.Config {
	t.Helper()
	cs := c.Clientset(t)
	ctx := Ctx(t)
	role := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: user}, Rules: rules}
	if _, err := cs.RbacV1().ClusterRoles().Create(ctx, role, metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating cluster role: %v", err)
	}
	binding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: user},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: user},
		Subjects:   []rbacv1.Subject{{APIGroup: "rbac.authorization.k8s.io", Kind: "User", Name: user}},
	}
	if _, err := cs.RbacV1().ClusterRoleBindings().Create(ctx, binding, metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating cluster role binding: %v", err)
	}
	cfg := rest.CopyConfig(c.Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: user}
	return cfg
}

// Eventually polls cond until it holds or the deadline passes; it is for
// waiting on the API server, never a timing assertion.
func Eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("livetest: %s: not after 30s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
