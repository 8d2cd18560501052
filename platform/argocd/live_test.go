package argocd_test

import (
	"context"
	"errors"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/back-stack/idp/internal/livetest"
	"github.com/back-stack/idp/internal/testworld"
	"github.com/back-stack/idp/platform/argocd"
	"github.com/back-stack/idp/platform/watch"
)

func TestMain(m *testing.M) { testworld.Main(m) }

// collector keeps the latest state of a watch for assertions.
type collector struct {
	t      *testing.T
	events <-chan argocd.Event
	apps   map[string]argocd.App
	status watch.Status
	seen   []watch.State
}

func collect(t *testing.T, ch <-chan argocd.Event) *collector {
	return &collector{t: t, events: ch, apps: map[string]argocd.App{}}
}

// until applies events until cond holds.
func (c *collector) until(what string, cond func() bool) {
	c.t.Helper()
	deadline := time.After(30 * time.Second)
	for !cond() {
		select {
		case ev, ok := <-c.events:
			if !ok {
				c.t.Fatalf("%s: stream closed", what)
			}
			switch ev.Type {
			case watch.Upserted:
				c.apps[ev.Key] = ev.Object
			case watch.Deleted:
				delete(c.apps, ev.Key)
			case watch.StatusChanged:
				c.status = ev.Status
				c.seen = append(c.seen, ev.Status.State)
			}
		case <-deadline:
			c.t.Fatalf("%s: not after 30s (status %v, %d apps)", what, c.status, len(c.apps))
		}
	}
}

func newPool(t *testing.T, c *testworld.Cluster) *watch.Pool {
	t.Helper()
	p, err := watch.NewPoolForConfig(c.Config)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestWatchFollowsApplications(t *testing.T) {
	c := testworld.SharedCluster(t)
	livetest.ArgoCD(t, c)
	ns := c.Namespace(t)
	dyn := livetest.Dynamic(t, c.Config)
	livetest.CreateApp(t, dyn, livetest.Application(ns, "web", "shop", map[string]string{"team": "payments"}))

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := collect(t, argocd.Watch(ctx, newPool(t, c)))
	key := ns + "/web"
	w.until("initial list", func() bool { return w.status.State == watch.Live })
	if _, ok := w.apps[key]; !ok {
		t.Fatalf("live without %s", key)
	}
	if got := w.apps[key]; got.Sync != argocd.StatusUnknown || got.Health != argocd.StatusUnknown || got.Project != "shop" {
		t.Errorf("fresh app = %+v", got)
	}

	sha := "4f3c2b1a0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b"
	livetest.WriteAppStatus(t, dyn, ns, "web", livetest.AppStatus{
		Sync: "OutOfSync", Health: "Degraded", HealthMessage: "Deployment web: 0/2 ready", Revision: sha,
		Conditions: []map[string]any{{"type": "ComparisonError", "message": "rpc error: repo not found"}},
		Resources: []map[string]any{{"version": "v1", "kind": "Service", "namespace": "web", "name": "web", "status": "Synced",
			"health": map[string]any{"status": "Healthy"}}},
	})
	w.until("status change", func() bool { return w.apps[key].Health == "Degraded" })
	got := w.apps[key]
	if got.Sync != "OutOfSync" || got.ShortRevision() != "4f3c2b1" || got.HealthMessage != "Deployment web: 0/2 ready" {
		t.Errorf("after status write: %+v", got)
	}
	if errs, warns := got.Problems(); errs != 1 || warns != 0 {
		t.Errorf("problems = %d errors, %d warnings", errs, warns)
	}
	if len(got.Resources) != 1 || got.Resources[0].Kind != "Service" || got.Resources[0].Health != "Healthy" {
		t.Errorf("resources = %+v", got.Resources)
	}

	if err := dyn.Resource(argocd.Applications).Namespace(ns).Delete(livetest.Ctx(t), "web", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	w.until("delete", func() bool { _, ok := w.apps[key]; return !ok })

	cancel()
	for range w.events { // the channel closes once the subscription ends
	}
}

func TestRefreshAndSyncWriteWhatArgoCDReads(t *testing.T) {
	c := testworld.SharedCluster(t)
	livetest.ArgoCD(t, c)
	ns := c.Namespace(t)
	dyn := livetest.Dynamic(t, c.Config)
	app := livetest.Application(ns, "api", "default", nil)
	app.Object["spec"].(map[string]any)["syncPolicy"] = map[string]any{
		"syncOptions": []any{"CreateNamespace=true"},
		"retry":       map[string]any{"limit": int64(3)},
	}
	livetest.CreateApp(t, dyn, app)
	livetest.WriteAppStatus(t, dyn, ns, "api", livetest.AppStatus{Sync: "Synced", Health: "Healthy",
		Operation: map[string]any{"phase": "Succeeded", "startedAt": "2026-01-02T03:04:05Z", "operation": map[string]any{"sync": map[string]any{}}}})
	ctx := livetest.Ctx(t)

	if err := argocd.Refresh(ctx, dyn, ns, "api", true); err != nil {
		t.Fatal(err)
	}
	u, err := dyn.Resource(argocd.Applications).Namespace(ns).Get(ctx, "api", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := u.GetAnnotations()[argocd.RefreshAnnotation]; got != "hard" {
		t.Errorf("refresh annotation = %q, want hard", got)
	}

	if err := argocd.Sync(ctx, dyn, ns, "api", argocd.SyncOptions{Prune: true, Initiator: "dev"}); err != nil {
		t.Fatal(err)
	}
	u, err = dyn.Resource(argocd.Applications).Namespace(ns).Get(ctx, "api", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	op, _ := u.Object["operation"].(map[string]any)
	sync, _ := op["sync"].(map[string]any)
	if sync["prune"] != true || sync["source"] == nil || op["initiatedBy"].(map[string]any)["username"] != "dev" {
		t.Errorf("operation = %v", op)
	}
	if opts, _ := sync["syncOptions"].([]any); len(opts) != 1 || opts[0] != "CreateNamespace=true" {
		t.Errorf("sync options = %v", sync["syncOptions"])
	}
	if op["retry"] == nil {
		t.Errorf("retry strategy not copied from the spec: %v", op)
	}
	if _, found := u.Object["status"].(map[string]any)["operationState"]; found {
		t.Error("the previous operation state was not cleared")
	}
	if a := argocd.FromUnstructured(u); !a.PendingOperation {
		t.Error("pending operation not reported")
	}
	if err := argocd.Sync(ctx, dyn, ns, "api", argocd.SyncOptions{}); !errors.Is(err, argocd.ErrOperationInProgress) {
		t.Errorf("second sync: %v, want ErrOperationInProgress", err)
	}
}

// A user without any right on Applications sees the source as forbidden,
// not as an empty list.
func TestForbiddenIsNotEmpty(t *testing.T) {
	c := testworld.SharedCluster(t)
	livetest.ArgoCD(t, c)
	cfg := livetest.Restricted(t, c, "no-apps-"+c.Namespace(t), []rbacv1.PolicyRule{
		{APIGroups: []string{""}, Resources: []string{"namespaces"}, Verbs: []string{"list"}},
	})
	p, err := watch.NewPoolForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := collect(t, argocd.Watch(ctx, p))
	w.until("forbidden", func() bool { return w.status.State == watch.Forbidden })
	if w.status.Err == nil {
		t.Error("forbidden without the server's message")
	}
}

// A user who may list applications in one namespace only gets that
// namespace's applications, and Overall says which namespaces they are.
func TestNamespaceFallbackWhenClusterWideIsForbidden(t *testing.T) {
	c := testworld.SharedCluster(t)
	livetest.ArgoCD(t, c)
	ns := c.Namespace(t)
	dyn := livetest.Dynamic(t, c.Config)
	livetest.CreateApp(t, dyn, livetest.Application(ns, "mine", "default", nil))
	user := "ns-reader-" + ns
	cfg := livetest.Restricted(t, c, user, nil) // no cluster-wide rights at all
	cs := c.Clientset(t)
	ctx := livetest.Ctx(t)
	role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "apps-reader", Namespace: ns},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{"argoproj.io"}, Resources: []string{"applications"}, Verbs: []string{"get", "list", "watch"}}}}
	if _, err := cs.RbacV1().Roles(ns).Create(ctx, role, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	binding := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "apps-reader", Namespace: ns},
		RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: "apps-reader"},
		Subjects: []rbacv1.Subject{{APIGroup: "rbac.authorization.k8s.io", Kind: "User", Name: user}}}
	if _, err := cs.RbacV1().RoleBindings(ns).Create(ctx, binding, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	p, err := watch.NewPoolForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch := argocd.Watch(wctx, p, ns, "argocd")
	apps := map[string]bool{}
	sources := map[string]watch.Status{}
	deadline := time.After(30 * time.Second)
	for {
		st, scope := argocd.Overall(sources)
		if st.State == watch.Live && apps[ns+"/mine"] {
			if len(scope) != 1 || scope[0] != ns {
				t.Fatalf("scope %v", scope)
			}
			return
		}
		select {
		case ev := <-ch:
			switch ev.Type {
			case watch.Upserted:
				apps[ev.Key] = true
			case watch.StatusChanged:
				sources[ev.Source] = ev.Status
			}
		case <-deadline:
			t.Fatalf("no fallback: sources %v, apps %v", sources, apps)
		}
	}
}
