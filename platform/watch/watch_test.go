package watch_test

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/back-stack/idp/internal/livetest"
	"github.com/back-stack/idp/internal/testworld"
	"github.com/back-stack/idp/platform/watch"
)

func TestMain(m *testing.M) { testworld.Main(m) }

var configMaps = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}

// value is what the test's Convert keeps of a ConfigMap.
func spec(ns string) watch.Spec {
	return watch.Spec{
		Resource: configMaps, Namespace: ns, ConvertName: "value",
		Convert: func(u *unstructured.Unstructured) any {
			v, _, _ := unstructured.NestedString(u.Object, "data", "v")
			return v
		},
	}
}

type collector struct {
	t      *testing.T
	ch     <-chan watch.Event[string]
	values map[string]string
	status watch.Status
	states []watch.State
	// onUpsert, when set, sees every upserted key.
	onUpsert func(key string)
}

func (c *collector) until(what string, timeout time.Duration, cond func() bool) {
	c.t.Helper()
	deadline := time.After(timeout)
	for !cond() {
		select {
		case ev, ok := <-c.ch:
			if !ok {
				c.t.Fatalf("%s: stream closed", what)
			}
			switch ev.Type {
			case watch.Upserted:
				c.values[ev.Key] = ev.Object
				if c.onUpsert != nil {
					c.onUpsert(ev.Key)
				}
			case watch.Deleted:
				delete(c.values, ev.Key)
			case watch.StatusChanged:
				c.status = ev.Status
				c.states = append(c.states, ev.Status.State)
			}
		case <-deadline:
			c.t.Fatalf("%s: not after %s (status %v, values %v)", what, timeout, c.status, c.values)
		}
	}
}

func setValue(t *testing.T, c *testworld.Cluster, ns, name, v string) {
	t.Helper()
	cs := c.Clientset(t)
	ctx := livetest.Ctx(t)
	cm, err := cs.CoreV1().ConfigMaps(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		cm = &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Data: map[string]string{"v": v}}
		if _, err := cs.CoreV1().ConfigMaps(ns).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		return
	}
	cm.Data = map[string]string{"v": v}
	if _, err := cs.CoreV1().ConfigMaps(ns).Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// Two subscribers share one informer; each gets the objects that existed
// before it joined, and Live only after them.
func TestSubscribersShareAndGetInitialObjects(t *testing.T) {
	c := testworld.SharedCluster(t)
	ns := c.Namespace(t)
	setValue(t, c, ns, "a", "1")
	pool, err := watch.NewPoolForConfig(c.Config)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	first := &collector{t: t, ch: watch.Watch[string](ctx, pool, 16, spec(ns)), values: map[string]string{}}
	upserts := 0
	first.onUpsert = func(key string) {
		if key == ns+"/a" {
			upserts++
		}
	}
	first.until("first live", 30*time.Second, func() bool { return first.status.State == watch.Live })
	if first.values[ns+"/a"] != "1" {
		t.Fatalf("live before the initial object: %v", first.values)
	}
	if upserts != 1 {
		t.Errorf("the initial object came %d times (a preview must not be repeated by the informer)", upserts)
	}
	if first.states[0] != watch.Loading {
		t.Errorf("states %v do not start with loading", first.states)
	}
	setValue(t, c, ns, "b", "2")
	second := &collector{t: t, ch: watch.Watch[string](ctx, pool, 16, spec(ns)), values: map[string]string{}}
	second.until("second live", 30*time.Second, func() bool { return second.status.State == watch.Live })
	if second.values[ns+"/a"] != "1" {
		t.Fatalf("second subscriber live with %v", second.values)
	}
	// b was written just before the second subscriber joined; the shared
	// informer may still have its event in flight, so b may arrive after Live.
	second.until("second sees b", 30*time.Second, func() bool { return second.values[ns+"/b"] == "2" })
	first.until("first sees b", 30*time.Second, func() bool { return first.values[ns+"/b"] == "2" })
}

func TestForbiddenAndNotInstalled(t *testing.T) {
	c := testworld.SharedCluster(t)
	ns := c.Namespace(t)
	cfg := livetest.Restricted(t, c, "cm-nobody-"+ns, []rbacv1.PolicyRule{
		{APIGroups: []string{""}, Resources: []string{"namespaces"}, Verbs: []string{"get"}},
	})
	pool, err := watch.NewPoolForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := &collector{t: t, ch: watch.Watch[string](ctx, pool, 16, spec(ns)), values: map[string]string{}}
	w.until("forbidden", 30*time.Second, func() bool { return w.status.State == watch.Forbidden })

	missing := spec("")
	missing.Resource = schema.GroupVersionResource{Group: "nothing.example.com", Version: "v1", Resource: "things"}
	admin, err := watch.NewPoolForConfig(c.Config)
	if err != nil {
		t.Fatal(err)
	}
	n := &collector{t: t, ch: watch.Watch[string](ctx, admin, 16, missing), values: map[string]string{}}
	n.until("not installed", 30*time.Second, func() bool { return n.status.State == watch.NotInstalled })

	if _, _, err := admin.Resource(ctx, schema.GroupVersionKind{Group: "nothing.example.com", Version: "v1", Kind: "Thing"}); watch.Classify(err) != watch.NotInstalled {
		t.Errorf("resolving an unknown kind: %v", err)
	}
	gvr, namespaced, err := admin.Resource(ctx, schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"})
	if err != nil || gvr != configMaps || !namespaced {
		t.Errorf("ConfigMap resolves to %v namespaced=%v err=%v", gvr, namespaced, err)
	}
}

// The channel closes after the context ends, and the informer stops once
// its last subscriber has gone.
func TestStreamClosesAndInformerStops(t *testing.T) {
	c := testworld.SharedCluster(t)
	ns := c.Namespace(t)
	pool, err := watch.NewPoolForConfig(c.Config)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	w := &collector{t: t, ch: watch.Watch[string](ctx, pool, 1, spec(ns)), values: map[string]string{}}
	w.until("live", 30*time.Second, func() bool { return w.status.State == watch.Live })
	if pool.Sources() != 1 {
		t.Fatalf("%d sources running", pool.Sources())
	}
	setValue(t, c, ns, "x", "1") // an event may be in flight while we cancel
	cancel()
	for range w.ch {
	}
	livetest.Eventually(t, "informer stopped", func() bool { return pool.Sources() == 0 })
}
