package sim

import (
	"context"
	"fmt"
	"io/fs"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/restmapper"

	"github.com/back-stack/idp/assets"
	"github.com/back-stack/idp/internal/livetest"
	"github.com/back-stack/idp/internal/testworld"
	"github.com/back-stack/idp/internal/xcrdgen"
)

func TestMain(m *testing.M) { testworld.Main(m) }

// TestAgainstAPIServer runs the simulator against a real kube-apiserver with
// Argo CD's and Crossplane's own CRDs and the CRD Crossplane generates from
// the platform's database XRD: every object and status it writes must pass
// the API server's schema validation, and status lands through the status
// subresource where the CRD has one. So what the demo shows is what the
// real controllers could have written.
func TestAgainstAPIServer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c := testworld.SharedCluster(t)
	if err := testworld.InstallPlatformCRDs(ctx, c.Config); err != nil {
		t.Fatal(err)
	}
	// provider-azure's CRDs are not available offline: stand-ins shaped
	// like them (any spec, a status subresource).
	const mrGroup = "dbforpostgresql.azure.m.upbound.io"
	if err := testworld.InstallCRDObjects(ctx, c.Config,
		livetest.ManagedCRD(mrGroup, "FlexibleServer", "flexibleservers", true),
		livetest.ManagedCRD(mrGroup, "FlexibleServerDatabase", "flexibleserverdatabases", true),
		livetest.ManagedCRD(mrGroup, "FlexibleServerFirewallRule", "flexibleserverfirewallrules", true)); err != nil {
		t.Fatal(err)
	}
	dyn := dynamic.NewForConfigOrDie(c.Config)
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(discovery.NewDiscoveryClientForConfigOrDie(c.Config)))
	resolve := func(gvk schema.GroupVersionKind) (schema.GroupVersionResource, bool, bool) {
		m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			mapper.Reset()
			if m, err = mapper.RESTMapping(gvk.GroupKind(), gvk.Version); err != nil {
				return schema.GroupVersionResource{}, false, false
			}
		}
		return m.Resource, m.Scope.Name() == "namespace", true
	}

	// The database API: its XRD, and the CRD Crossplane would generate.
	xrdData, err := fs.ReadFile(assets.Platform(), assets.DatabaseXRD)
	if err != nil {
		t.Fatal(err)
	}
	crds, err := xcrdgen.Generate(ctx, dyn, decode(t, xrdData))
	if err != nil {
		t.Fatal(err)
	}
	if err := testworld.InstallCRDObjects(ctx, c.Config, crds...); err != nil {
		t.Fatal(err)
	}
	comp, err := fs.ReadFile(assets.Platform(), assets.DatabaseComposition)
	if err != nil {
		t.Fatal(err)
	}

	argoNS, appNS := c.Namespace(t), c.Namespace(t)
	const repo = "https://git.example.com/acme/platform-gitops.git"
	snap := Snapshot{Revision: "4b825dc642cb6eb9a060e54bf8d69288fbee4904", Files: map[string][]byte{
		"platform/database/composition.yaml": comp,
		"apps/web/application.yaml": fmt.Appendf(nil, `apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: web, namespace: %s}
spec:
  project: default
  source: {repoURL: "https://git.example.com/acme/web.git", path: deploy, targetRevision: main}
  destination: {server: "https://kubernetes.default.svc", namespace: %s}
  syncPolicy: {automated: {prune: true, selfHeal: true}}
`, argoNS, appNS),
		"apps/web/database.yaml": fmt.Appendf(nil, `apiVersion: platform.back-stack.io/v1alpha1
kind: PostgreSQLInstance
metadata: {name: web-db, namespace: %s}
spec:
  parameters: {size: large, version: "17", storageGB: 64}
  connectionSecretName: web-db
`, appNS),
	}}
	s := New(dyn, Options{
		Source:  func(context.Context) (Snapshot, error) { return snap, nil },
		RepoURL: repo, Resolve: resolve, Namespace: argoNS, Phase: 10 * time.Millisecond,
	})
	root := fmt.Appendf(nil, `apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: root, namespace: %s}
spec:
  project: default
  source: {repoURL: %q, path: ., targetRevision: main, directory: {recurse: true}}
  destination: {server: "https://kubernetes.default.svc", namespace: %s}
  syncPolicy: {automated: {prune: true}}
`, argoNS, repo, argoNS)
	if err := s.Apply(ctx, root); err != nil {
		t.Fatal(err)
	}

	appGVR := Applications
	xrGVR := schema.GroupVersionResource{Group: "platform.back-stack.io", Version: "v1alpha1", Resource: "postgresqlinstances"}
	deadline := time.Now().Add(90 * time.Second)
	for {
		if err := s.Step(ctx); err != nil {
			t.Fatalf("the API server refused what the simulator wrote: %v", err)
		}
		web, _ := dyn.Resource(appGVR).Namespace(argoNS).Get(ctx, "web", metav1.GetOptions{})
		xr, _ := dyn.Resource(xrGVR).Namespace(appNS).Get(ctx, "web-db", metav1.GetOptions{})
		rootApp, _ := dyn.Resource(appGVR).Namespace(argoNS).Get(ctx, "root", metav1.GetOptions{})
		if health(web) == "Healthy" && health(rootApp) == "Healthy" && ready(xr) {
			refs, _, _ := unstructured.NestedSlice(xr.Object, "spec", "crossplane", "resourceRefs")
			if len(refs) != 3 {
				t.Fatalf("resourceRefs = %v, want the composition's 3 resources", refs)
			}
			srv, err := dyn.Resource(schema.GroupVersionResource{Group: "dbforpostgresql.azure.m.upbound.io", Version: "v1beta1", Resource: "flexibleservers"}).
				Namespace(appNS).Get(ctx, "web-db-server", metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if !ready(srv) {
				t.Fatal("the XR is Ready before its server")
			}
			if v, _, _ := unstructured.NestedString(srv.Object, "spec", "forProvider", "version"); v != "17" {
				t.Fatalf("server version = %q, want the XR's 17", v)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("never settled: web %q root %q xr ready %v", health(web), health(rootApp), ready(xr))
		}
		time.Sleep(20 * time.Millisecond)
	}

	// Argo CD's controller records Events about the application.
	events, err := dynamic.NewForConfigOrDie(c.Config).Resource(schema.GroupVersionResource{Version: "v1", Resource: "events"}).Namespace(argoNS).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	reasons := map[string]bool{}
	for _, e := range events.Items {
		var ev corev1.Event
		if err := runtimeFrom(e.Object, &ev); err != nil {
			t.Fatal(err)
		}
		if ev.InvolvedObject.Name == "web" {
			reasons[ev.Reason] = true
		}
	}
	for _, r := range []string{"OperationStarted", "OperationCompleted", "ResourceUpdated"} {
		if !reasons[r] {
			t.Errorf("no %s event for web (got %v)", r, reasons)
		}
	}
}

func health(u *unstructured.Unstructured) string {
	if u == nil {
		return ""
	}
	h, _, _ := unstructured.NestedString(u.Object, "status", "health", "status")
	return h
}

func ready(u *unstructured.Unstructured) bool {
	if u == nil {
		return false
	}
	st, _, ok := condition(u, "Ready")
	return ok && st == "True"
}

func decode(t *testing.T, data []byte) *unstructured.Unstructured {
	t.Helper()
	objs, err := Decode(data)
	if err != nil || len(objs) != 1 {
		t.Fatalf("decode: %v (%d objects)", err, len(objs))
	}
	return objs[0]
}
