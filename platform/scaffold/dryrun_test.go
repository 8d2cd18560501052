package scaffold

import (
	"context"
	"io/fs"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/restmapper"
	"sigs.k8s.io/yaml"

	"github.com/back-stack/idp/assets"
	"github.com/back-stack/idp/internal/testworld"
	"github.com/back-stack/idp/internal/xcrdgen"
	"github.com/back-stack/idp/platform/platformconfig"
	"github.com/back-stack/idp/platform/templates"
)

func TestMain(m *testing.M) { testworld.Main(m) }

var (
	xrdGVR = schema.GroupVersionResource{Group: "apiextensions.crossplane.io", Version: "v1", Resource: "compositeresourcedefinitions"}
	crdGVR = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
)

// kube is a dynamic client with a mapper that learns new CRDs on Reset.
type kube struct {
	dyn    dynamic.Interface
	mapper *restmapper.DeferredDiscoveryRESTMapper
}

// apply server-side dry-runs one object: the API server validates it
// against the kind's schema (unknown fields are errors in server-side
// apply) and runs admission, and stores nothing.
func (k *kube) apply(ctx context.Context, obj *unstructured.Unstructured) error {
	m, err := k.mapper.RESTMapping(obj.GroupVersionKind().GroupKind(), obj.GroupVersionKind().Version)
	if err != nil {
		return err
	}
	var ri dynamic.ResourceInterface = k.dyn.Resource(m.Resource)
	if ns := obj.GetNamespace(); ns != "" {
		ri = k.dyn.Resource(m.Resource).Namespace(ns)
	}
	_, err = ri.Apply(ctx, obj.GetName(), obj, metav1.ApplyOptions{FieldManager: "idp-test", DryRun: []string{metav1.DryRunAll}, Force: true})
	return err
}

func decodeYAML(t *testing.T, name string, data []byte) *unstructured.Unstructured {
	t.Helper()
	var m map[string]any
	if err := yaml.Unmarshal(data, &m); err != nil {
		t.Fatalf("%s does not parse: %v\n%s", name, err, data)
	}
	return &unstructured.Unstructured{Object: m}
}

// generatedCRDs applies an XRD from assets (so Crossplane's own XRD schema
// checks it), reads it back as v1 and generates its CRDs the way
// Crossplane does.
func generatedCRDs(t *testing.T, ctx context.Context, k *kube, file string) []*unstructured.Unstructured {
	t.Helper()
	data, err := fs.ReadFile(assets.Platform(), file)
	if err != nil {
		t.Fatal(err)
	}
	crds, err := xcrdgen.Generate(ctx, k.dyn, decodeYAML(t, file, data))
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return crds
}

func installGenerated(t *testing.T, ctx context.Context, c *testworld.Cluster, crds []*unstructured.Unstructured) {
	t.Helper()
	if err := testworld.InstallCRDObjects(ctx, c.Config, crds...); err != nil {
		t.Fatal(err)
	}
}

func deleteCRD(t *testing.T, ctx context.Context, k *kube, name string) {
	t.Helper()
	if err := k.dyn.Resource(crdGVR).Delete(ctx, name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	for {
		_, err := k.dyn.Resource(crdGVR).Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("CRD %s still there: %v", name, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// TestBuiltinTemplatesDryRun renders every built-in template, with and
// without a database, and has the real API server validate what idp would
// write: the Argo CD Application against Argo CD's own CRD, the database
// against the CRD Crossplane generates from the platform's XRD (as a v2
// namespaced XR, then as a v1 claim), the namespace, and the service's
// deploy/ manifests.
func TestBuiltinTemplatesDryRun(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	c := testworld.SharedCluster(t)
	if err := testworld.InstallPlatformCRDs(ctx, c.Config); err != nil {
		t.Fatal(err)
	}
	disc := memory.NewMemCacheClient(discovery.NewDiscoveryClientForConfigOrDie(c.Config))
	k := &kube{dyn: dynamic.NewForConfigOrDie(c.Config), mapper: restmapper.NewDeferredDiscoveryRESTMapper(disc)}
	argoNS, appNS := c.Namespace(t), c.Namespace(t)

	var cat templates.Catalog
	if err := cat.LoadFS(assets.Templates(), ".", templates.BuiltinSource); err != nil {
		t.Fatal(err)
	}
	env := templates.Env{Repo: func(_, name string) (string, string) {
		return "https://git.example.com/acme/" + name + ".git", "https://git.example.com/acme/" + name
	}}
	check := func(t *testing.T, api string) {
		opts := Options{ArgoCDNamespace: argoNS, CrossplaneAPI: api}
		for _, tpl := range cat.Templates {
			for _, db := range []bool{false, true} {
				plan, err := tpl.Execute(map[string]any{"name": "shop-" + tpl.Name, "namespace": appNS, "database": db, "dbSize": "medium"}, env)
				if err != nil {
					t.Fatalf("%s: %v", tpl.Name, err)
				}
				docs := map[string][]byte{}
				if docs["application.yaml"], err = ApplicationManifest(plan.Application, tpl.Name, opts); err != nil {
					t.Fatal(err)
				}
				if db {
					if docs["database.yaml"], err = DatabaseManifest(plan.Database, plan.Application.Name, opts); err != nil {
						t.Fatal(err)
					}
					if docs["namespace.yaml"], err = NamespaceManifest(plan.Database.Namespace, plan.Application.Name); err != nil {
						t.Fatal(err)
					}
				}
				for _, f := range plan.Files {
					if strings.HasPrefix(f.Path, "deploy/") {
						docs[f.Path] = f.Content
					}
				}
				for name, data := range docs {
					obj := decodeYAML(t, name, data)
					if err := k.apply(ctx, obj); err != nil {
						t.Errorf("%s (database %v, crossplane %s): %s is refused: %v\n%s", tpl.Name, db, api, name, err, data)
					}
				}
			}
		}
		// The check has teeth: a size the XRD does not offer is refused.
		bad, _ := DatabaseManifest(&templates.DatabaseRequest{Name: "bad-db", Namespace: appNS, Size: "huge", Version: "16", StorageGB: 32}, "bad", opts)
		if err := k.apply(ctx, decodeYAML(t, "bad", bad)); err == nil || !strings.Contains(err.Error(), "huge") {
			t.Errorf("a database of size huge was accepted: %v", err)
		}
		app, _ := ApplicationManifest(&templates.ApplicationRequest{Name: "x", RepoURL: "https://x/y.git", Path: "deploy", Revision: "main", Namespace: appNS, Project: "default"}, "", opts)
		obj := decodeYAML(t, "app", app)
		unstructured.SetNestedField(obj.Object, "red", "spec", "source", "colour")
		if err := k.apply(ctx, obj); err == nil || !strings.Contains(err.Error(), "colour") {
			t.Errorf("an Application with an unknown field was accepted: %v", err)
		}
	}

	v2 := generatedCRDs(t, ctx, k, assets.DatabaseXRD)
	if len(v2) != 1 || v2[0].GetName() != "postgresqlinstances."+DatabaseGroup {
		t.Fatalf("CRDs for the v2 XRD: %v", names(v2))
	}
	if scope, _, _ := unstructured.NestedString(v2[0].Object, "spec", "scope"); scope != "Namespaced" {
		t.Fatalf("the v2 XR's CRD is %s, want Namespaced", scope)
	}
	installGenerated(t, ctx, c, v2)
	k.mapper.Reset()
	t.Run("v2 namespaced XR", func(t *testing.T) { check(t, platformconfig.CrossplaneV2) })

	// v1: the claim's CRD has the XR's name from v2, so that one goes first.
	deleteCRD(t, ctx, k, v2[0].GetName())
	v1 := generatedCRDs(t, ctx, k, assets.DatabaseClaimXRD)
	if got := names(v1); got != "xpostgresqlinstances."+DatabaseGroup+",postgresqlinstances."+DatabaseGroup {
		t.Fatalf("CRDs for the v1 XRD: %s", got)
	}
	installGenerated(t, ctx, c, v1)
	k.mapper.Reset()
	t.Run("v1 claim", func(t *testing.T) { check(t, platformconfig.CrossplaneV1) })
}

func names(objs []*unstructured.Unstructured) string {
	var out []string
	for _, o := range objs {
		out = append(out, o.GetName())
	}
	return strings.Join(out, ",")
}
