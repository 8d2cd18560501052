package crossplane_test

import (
	"context"
	"strings"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/back-stack/idp/internal/livetest"
	"github.com/back-stack/idp/internal/testworld"
	"github.com/back-stack/idp/platform/crossplane"
	"github.com/back-stack/idp/platform/watch"
)

func TestMain(m *testing.M) { testworld.Main(m) }

type follower struct {
	t     *testing.T
	ch    <-chan crossplane.Event
	state *crossplane.State
}

func follow(t *testing.T, ctx context.Context, cfg *watch.Pool) *follower {
	return &follower{t: t, ch: crossplane.Watch(ctx, cfg), state: crossplane.NewState()}
}

func (f *follower) until(what string, cond func([]crossplane.Tree) bool) []crossplane.Tree {
	f.t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		if f.state.Settled() {
			if trees := f.state.Trees(); cond(trees) {
				return trees
			}
		}
		select {
		case ev, ok := <-f.ch:
			if !ok {
				f.t.Fatalf("%s: stream closed", what)
			}
			f.state.Apply(ev)
		case <-deadline:
			f.t.Fatalf("%s: not after 30s; sources %v; trees:\n%s", what, f.state.Sources(), dump(f.state.Trees()))
		}
	}
}

func dump(trees []crossplane.Tree) string {
	var b strings.Builder
	for _, t := range trees {
		t.Walk(func(n *crossplane.Node, last []bool) {
			b.WriteString(strings.Repeat("  ", len(last)) + n.Ref.String() + " synced=" + n.Synced.Status + " ready=" + n.Ready.Status)
			if n.Missing {
				b.WriteString(" missing " + n.Problem)
			}
			b.WriteString("\n")
		})
	}
	return b.String()
}

// find returns the tree whose root is named name.
func find(trees []crossplane.Tree, name string) *crossplane.Tree {
	for i := range trees {
		if trees[i].Root.Name == name {
			return &trees[i]
		}
	}
	return nil
}

// findIn is find for a root in namespace ns.
func findIn(trees []crossplane.Tree, ns, name string) *crossplane.Tree {
	for i := range trees {
		if trees[i].Root.Namespace == ns && trees[i].Root.Name == name {
			return &trees[i]
		}
	}
	return nil
}

const (
	mAPI      = "dbforpostgresql.azure.m.upbound.io/v1beta1"
	legacyAPI = "dbforpostgresql.azure.upbound.io/v1beta1"
)

// A v2 namespaced XR and its managed resources, as Crossplane and a
// provider write them: the tree follows each status change, and the
// deepest, most severe failure is found first.
func TestNamespacedXRTree(t *testing.T) {
	c := testworld.SharedCluster(t)
	livetest.Crossplane(t, c)
	ns := c.Namespace(t)
	dyn := livetest.Dynamic(t, c.Config)
	pool, err := watch.NewPoolForConfig(c.Config)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f := follow(t, ctx, pool)

	livetest.Create(t, dyn, livetest.XPostgreSQLs, livetest.Object(livetest.XPostgreSQLs, "XPostgreSQL", ns, "orders", map[string]any{"size": "small"}))
	f.until("XR without refs", func(ts []crossplane.Tree) bool { return find(ts, "orders") != nil })

	livetest.SetRefs(t, dyn, livetest.XPostgreSQLs, ns, "orders", []any{
		livetest.Ref(mAPI, "FlexibleServer", "", "orders-server"),
		livetest.Ref(mAPI, "FlexibleServerDatabase", "", "orders-db"),
	}, "spec", "crossplane", "resourceRefs")
	trees := f.until("missing children", func(ts []crossplane.Tree) bool {
		tr := find(ts, "orders")
		return tr != nil && len(tr.Root.Children) == 2
	})
	if tr := find(trees, "orders"); !tr.Root.Children[0].Missing || tr.Failure == nil {
		t.Fatalf("children not yet created are not shown as missing:\n%s", dump(trees))
	}

	livetest.Create(t, dyn, livetest.FlexibleServers, livetest.Object(livetest.FlexibleServers, "FlexibleServer", ns, "orders-server", map[string]any{"forProvider": map[string]any{"location": "westeurope"}}))
	livetest.Create(t, dyn, livetest.FlexibleServerDBs, livetest.Object(livetest.FlexibleServerDBs, "FlexibleServerDatabase", ns, "orders-db", map[string]any{"forProvider": map[string]any{}}))
	livetest.SetConditions(t, dyn, livetest.FlexibleServers, ns, "orders-server",
		livetest.Cond("Synced", "True", "ReconcileSuccess", ""), livetest.Cond("Ready", "False", "Creating", ""))
	msg := "cannot resolve references: mg.Spec.ForProvider.ServerID: referenced field was empty (referenced resource may not yet be ready)"
	livetest.SetConditions(t, dyn, livetest.FlexibleServerDBs, ns, "orders-db",
		livetest.Cond("Synced", "False", "ReconcileError", msg), livetest.Cond("Ready", "False", "Creating", ""))
	livetest.SetConditions(t, dyn, livetest.XPostgreSQLs, ns, "orders",
		livetest.Cond("Synced", "True", "ReconcileSuccess", ""), livetest.Cond("Ready", "False", "Creating", "Unready resources: orders-db, orders-server"))

	trees = f.until("statuses", func(ts []crossplane.Tree) bool {
		tr := find(ts, "orders")
		return tr != nil && tr.Failure != nil && tr.Failure.Name == "orders-db" && tr.Root.Ready.Status == "False"
	})
	tr := find(trees, "orders")
	if got := tr.Failure.Reason(); got.Message != msg || got.Type != "Synced" {
		t.Errorf("failure reason = %+v", got)
	}
	if tr.Root.Children[0].Name != "orders-db" || len(tr.Path) != 2 {
		t.Errorf("the failing child is not listed first:\n%s", dump(trees))
	}

	livetest.SetConditions(t, dyn, livetest.FlexibleServers, ns, "orders-server", livetest.Cond("Synced", "True", "ReconcileSuccess", ""), livetest.Cond("Ready", "True", "Available", ""))
	livetest.SetConditions(t, dyn, livetest.FlexibleServerDBs, ns, "orders-db", livetest.Cond("Synced", "True", "ReconcileSuccess", ""), livetest.Cond("Ready", "True", "Available", ""))
	livetest.SetConditions(t, dyn, livetest.XPostgreSQLs, ns, "orders", livetest.Cond("Synced", "True", "ReconcileSuccess", ""), livetest.Cond("Ready", "True", "Available", ""))
	f.until("all ready", func(ts []crossplane.Tree) bool {
		tr := find(ts, "orders")
		return tr != nil && tr.Failure == nil && tr.Root.Healthy() && tr.Root.Children[0].Healthy() && tr.Root.Children[1].Healthy()
	})
}

// A v1 claim -> cluster-scoped XR -> cluster-scoped managed resource.
func TestClaimTree(t *testing.T) {
	c := testworld.SharedCluster(t)
	livetest.Crossplane(t, c)
	ns := c.Namespace(t)
	dyn := livetest.Dynamic(t, c.Config)
	pool, err := watch.NewPoolForConfig(c.Config)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f := follow(t, ctx, pool)

	xr := ns + "-x7k2p"
	server := ns + "-server"
	livetest.Create(t, dyn, livetest.DatabaseClaims, livetest.Object(livetest.DatabaseClaims, "Database", ns, "shop-db", map[string]any{"size": "small"}))
	livetest.Create(t, dyn, livetest.XDatabases, livetest.Object(livetest.XDatabases, "XDatabase", "", xr, map[string]any{
		"claimRef":     map[string]any{"apiVersion": "legacy.example.org/v1alpha1", "kind": "Database", "namespace": ns, "name": "shop-db"},
		"resourceRefs": []any{livetest.Ref(legacyAPI, "FlexibleServer", "", server)},
	}))
	livetest.Create(t, dyn, livetest.ClusterFlexibleServer, livetest.Object(livetest.ClusterFlexibleServer, "FlexibleServer", "", server, map[string]any{"forProvider": map[string]any{}}))
	livetest.SetRefs(t, dyn, livetest.DatabaseClaims, ns, "shop-db", livetest.Ref("legacy.example.org/v1alpha1", "XDatabase", "", xr), "spec", "resourceRef")
	quota := "create failed: async create failed: failed to create the resource: POST https://management.azure.com/...: 409 Conflict: QuotaExceeded: the subscription has no quota left for Standard_D2ds_v5 in westeurope; request an increase or choose another SKU"
	livetest.SetConditions(t, dyn, livetest.ClusterFlexibleServer, "", server, livetest.Cond("Synced", "False", "ReconcileError", quota), livetest.Cond("Ready", "False", "Creating", ""))
	livetest.SetConditions(t, dyn, livetest.XDatabases, "", xr, livetest.Cond("Synced", "True", "ReconcileSuccess", ""), livetest.Cond("Ready", "False", "Creating", "Unready resources: server"))

	trees := f.until("claim tree", func(ts []crossplane.Tree) bool {
		// The server's conditions arrive after the server itself: wait for
		// them, not for the first failure (a server not yet Ready).
		tr := findIn(ts, ns, "shop-db")
		return tr != nil && tr.Failure != nil && tr.Failure.Name == server && tr.Failure.Reason().Message != ""
	})
	tr := findIn(trees, ns, "shop-db")
	if tr.Root.Role != crossplane.RoleClaim || tr.Root.Children[0].Role != crossplane.RoleComposite || tr.Failure.Role != crossplane.RoleResource || len(tr.Path) != 3 {
		t.Errorf("claim tree shape:\n%s", dump(trees))
	}
	if tr.Failure.Reason().Message != quota {
		t.Errorf("message cut or wrong: %q", tr.Failure.Reason().Message)
	}
	if find(trees, xr) != nil {
		t.Errorf("the claimed XR is also shown as a root:\n%s", dump(trees))
	}
}

// A user who may read XRDs and managed resources but not the XRs of one
// kind sees that kind as forbidden.
func TestForbiddenXRKind(t *testing.T) {
	c := testworld.SharedCluster(t)
	livetest.Crossplane(t, c)
	ns := c.Namespace(t)
	cfg := livetest.Restricted(t, c, "no-xr-"+ns, []rbacv1.PolicyRule{
		{APIGroups: []string{"apiextensions.crossplane.io"}, Resources: []string{"compositeresourcedefinitions"}, Verbs: []string{"get", "list", "watch"}},
		{APIGroups: []string{"legacy.example.org"}, Resources: []string{"*"}, Verbs: []string{"get", "list", "watch"}},
	})
	pool, err := watch.NewPoolForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f := follow(t, ctx, pool)
	f.until("forbidden XR kind", func([]crossplane.Tree) bool {
		return f.state.Sources()["XPostgreSQL.db.example.org"].State == watch.Forbidden &&
			f.state.Sources()["Database.legacy.example.org"].State == watch.Live
	})
}
