package bootstrap_test

import (
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/back-stack/idp/platform/bootstrap"
)

var (
	widgetsGVR      = schema.GroupVersionResource{Group: "lifecycle.idp.test", Version: "v1", Resource: "widgets"}
	jobsGVR         = schema.GroupVersionResource{Group: "batch", Version: "v1", Resource: "jobs"}
	podsGVR         = schema.GroupVersionResource{Version: "v1", Resource: "pods"}
	clusterRolesGVR = schema.GroupVersionResource{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterroles"}
)

// playJobs completes every Job in ns as the Job controller would, until ctx ends.
func playJobs(ctx context.Context, t *testing.T, dyn dynamic.Interface, ns string) {
	for ctx.Err() == nil {
		l, err := dyn.Resource(jobsGVR).Namespace(ns).List(ctx, metav1.ListOptions{})
		if err == nil {
			for _, j := range l.Items {
				if ok := hasTrue(&j, "Complete"); ok {
					continue
				}
				now := time.Now().UTC().Format(time.RFC3339)
				j.Object["status"] = map[string]any{
					"startTime": now, "completionTime": now, "succeeded": int64(1),
					"conditions": []any{
						map[string]any{"type": "SuccessCriteriaMet", "status": "True", "lastTransitionTime": now},
						map[string]any{"type": "Complete", "status": "True", "lastTransitionTime": now},
					},
				}
				if _, err := dyn.Resource(jobsGVR).Namespace(ns).UpdateStatus(ctx, &j, metav1.UpdateOptions{}); err != nil && ctx.Err() == nil {
					t.Logf("completing job %s: %v", j.GetName(), err)
				}
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func rv(t *testing.T, u *unstructured.Unstructured) int {
	t.Helper()
	n, err := strconv.Atoi(u.GetResourceVersion())
	if err != nil {
		t.Fatalf("resourceVersion %q: %v", u.GetResourceVersion(), err)
	}
	return n
}

// A chart goes through install, a second install that changes nothing,
// two upgrades (one adds an object, one drops it) and an uninstall on a
// real API server: objects in Helm's install order, server-side applied
// with idp's field manager, CRDs first, hooks around them, prune and
// delete from the release record.
func TestChartLifecycle(t *testing.T) {
	w := getWorld(t)
	ns := w.seed.Namespace(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	go playJobs(ctx, t, w.seedDyn, ns)

	chart := bootstrap.HelmChart{Release: "lc", Namespace: ns, Path: filepath.Join("testdata", "charts", "lifecycle")}
	client := func(values map[string]any) *bootstrap.ChartClient {
		c := chart
		c.Values = values
		start := time.Now()
		cc, err := bootstrap.NewChartClient(w.seed.Kubeconfig, "plat", c, func(s string) { t.Logf("%6.2fs %s", time.Since(start).Seconds(), s) })
		if err != nil {
			t.Fatal(err)
		}
		return cc
	}

	// Install.
	c := client(nil)
	if rev, installed, err := c.Install(ctx); err != nil || rev != 1 || !installed {
		t.Fatalf("install: revision %d, installed %v, %v", rev, installed, err)
	}
	cm := get(t, w.seedDyn, configMapsGVR, ns, "lc-config")
	if cm == nil {
		t.Fatal("no ConfigMap lc-config")
	}
	data, _, _ := unstructured.NestedStringMap(cm.Object, "data")
	if data["greeting"] != "hello" || data["revision"] != "1" || data["install"] != "true" || data["configmaps"] != "true" {
		t.Errorf("rendered ConfigMap data %v", data)
	}
	managers := []string{}
	for _, f := range cm.GetManagedFields() {
		managers = append(managers, f.Manager+"/"+string(f.Operation))
	}
	if strings.Join(managers, ",") != bootstrap.DefaultFieldManager+"/Apply" {
		t.Errorf("ConfigMap managed by %v, want only %s applying", managers, bootstrap.DefaultFieldManager)
	}
	widget := get(t, w.seedDyn, widgetsGVR, ns, "lc-widget")
	if widget == nil {
		t.Error("the Widget (a kind from the chart's crds/) is not in the release's namespace")
	}
	if get(t, w.seedDyn, clusterRolesGVR, "", "lc-"+ns) == nil {
		t.Error("no ClusterRole")
	}
	pre := get(t, w.seedDyn, configMapsGVR, ns, "lc-pre")
	if pre == nil {
		t.Fatal("the pre-install hook's ConfigMap is missing (before-hook-creation keeps it)")
	}
	if rv(t, pre) >= rv(t, cm) {
		t.Errorf("the pre-install hook (rv %s) was not applied before the chart's objects (rv %s)", pre.GetResourceVersion(), cm.GetResourceVersion())
	}
	if get(t, w.seedDyn, jobsGVR, ns, "lc-migrate") != nil {
		t.Error("the hook-succeeded Job was not deleted once complete")
	}
	if get(t, w.seedDyn, podsGVR, ns, "lc-test") != nil {
		t.Error("the test hook was applied")
	}
	if names := strings.Join(sortedNames(list(t, w.seedDyn, configMapsGVR, ns)), ","); names != ns+"/lc-config,"+ns+"/lc-pre" {
		t.Errorf("ConfigMaps %s, want lc-config and the hook's lc-pre", names)
	}
	st, err := c.Release()
	if err != nil || st == nil || st.Status != "deployed" || st.Revision != 1 || st.Chart != "lifecycle" || st.Version != "1.0.0" || !st.CreatedByIdp {
		t.Fatalf("release record %+v, %v", st, err)
	}
	if len(st.Objects) != 3 {
		t.Errorf("the record names %v; want the Widget, the ConfigMap and the ClusterRole (no hooks, no crds/)", st.Objects)
	}

	// The same chart and values again: nothing is applied.
	if ok, err := c.UpToDate(); err != nil || !ok {
		t.Errorf("up to date: %v, %v", ok, err)
	}
	if rev, installed, err := client(nil).Install(ctx); err != nil || rev != 1 || installed {
		t.Errorf("second install: revision %d, installed %v, %v", rev, installed, err)
	}
	if again := get(t, w.seedDyn, configMapsGVR, ns, "lc-config"); again.GetResourceVersion() != cm.GetResourceVersion() {
		t.Errorf("a second install with the same values changed lc-config")
	}

	// Upgrade: new values add an object; the pre-upgrade hook runs again.
	up := client(map[string]any{"greeting": "hi", "extra": true})
	if ok, _ := up.UpToDate(); ok {
		t.Error("new values reported up to date")
	}
	if rev, installed, err := up.Install(ctx); err != nil || rev != 2 || installed {
		t.Fatalf("upgrade: revision %d, installed %v, %v", rev, installed, err)
	}
	data, _, _ = unstructured.NestedStringMap(get(t, w.seedDyn, configMapsGVR, ns, "lc-config").Object, "data")
	if data["greeting"] != "hi" || data["revision"] != "2" || data["install"] != "false" {
		t.Errorf("upgraded ConfigMap data %v", data)
	}
	if get(t, w.seedDyn, configMapsGVR, ns, "lc-extra") == nil {
		t.Error("the upgrade did not add lc-extra")
	}
	if d, _, _ := unstructured.NestedString(get(t, w.seedDyn, configMapsGVR, ns, "lc-pre").Object, "data", "revision"); d != "2" {
		t.Errorf("the pre-upgrade hook holds revision %q", d)
	}

	// Upgrade: the object the chart no longer renders is pruned.
	if rev, _, err := client(map[string]any{"greeting": "hi", "extra": false}).Install(ctx); err != nil || rev != 3 {
		t.Fatalf("second upgrade: revision %d, %v", rev, err)
	}
	if get(t, w.seedDyn, configMapsGVR, ns, "lc-extra") != nil {
		t.Error("lc-extra was not pruned")
	}

	// Uninstall: what the record names goes; crds/ and the namespace stay.
	if removed, err := c.Uninstall(ctx); err != nil || !removed {
		t.Fatalf("uninstall: %v, %v", removed, err)
	}
	if get(t, w.seedDyn, configMapsGVR, ns, "lc-config") != nil || get(t, w.seedDyn, clusterRolesGVR, "", "lc-"+ns) != nil {
		t.Error("uninstall left the chart's objects")
	}
	if st, err := c.Release(); err != nil || st != nil {
		t.Errorf("release record after uninstall: %+v, %v", st, err)
	}
	if get(t, w.seedDyn, crdGVR, "", "widgets.lifecycle.idp.test") == nil {
		t.Error("uninstall deleted the CRD of crds/ (Helm never does)")
	}
	if removed, err := c.Uninstall(ctx); err != nil || removed {
		t.Errorf("uninstalling again: %v, %v", removed, err)
	}
}

// A release someone installed with Helm is taken over (the chart applied
// over it) but never counted as idp's, so removing what idp installed
// leaves it.
func TestChartOverAHelmRelease(t *testing.T) {
	w := getWorld(t)
	ns := w.seed.Namespace(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	go playJobs(ctx, t, w.seedDyn, ns)
	helmSecret := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Secret",
		"metadata": map[string]any{"name": "sh.helm.release.v1.lc.v3", "namespace": ns,
			"labels": map[string]any{"owner": "helm", "name": "lc", "status": "deployed", "version": "3"}},
		"type": "helm.sh/release.v1",
	}}
	if _, err := w.seedDyn.Resource(secretsGVR).Namespace(ns).Create(ctx, helmSecret, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	c, err := bootstrap.NewChartClient(w.seed.Kubeconfig, "plat", bootstrap.HelmChart{Release: "lc", Namespace: ns,
		Path: filepath.Join("testdata", "charts", "lifecycle")}, func(s string) { t.Log(s) })
	if err != nil {
		t.Fatal(err)
	}
	if _, installed, err := c.Install(ctx); err != nil || !installed {
		t.Fatalf("install over a Helm release: %v, %v", installed, err)
	}
	if st, err := c.Release(); err != nil || st == nil || st.CreatedByIdp {
		t.Errorf("release record %+v, %v: want one not created by idp", st, err)
	}
}
