package bootstrap

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/restmapper"

	"github.com/back-stack/idp/internal/testworld"
	"github.com/back-stack/idp/internal/xcrdgen"
)

// providerCRDsEnv names a folder of provider-azure v2's CRDs (its
// package/crds). They are not in the Go module proxy, so the test cannot
// fetch them: without the folder, provider-azure's objects (the
// ClusterProviderConfig, and the managed resources the compositions
// compose) are checked for shape only; with it, against the real schema.
const providerCRDsEnv = "IDP_PROVIDER_AZURE_CRDS"

// renderKube is a dynamic client whose mapper learns new CRDs on Reset.
type renderKube struct {
	dyn    dynamic.Interface
	mapper *restmapper.DeferredDiscoveryRESTMapper
}

func (k *renderKube) resource(o *unstructured.Unstructured) (dynamic.ResourceInterface, error) {
	gvk := o.GroupVersionKind()
	m, err := k.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return nil, err
	}
	if ns := o.GetNamespace(); ns != "" {
		return k.dyn.Resource(m.Resource).Namespace(ns), nil
	}
	return k.dyn.Resource(m.Resource), nil
}

// apply applies o server-side; dryRun has the API server validate it
// against the kind's schema (unknown fields are errors in server-side
// apply) and run admission, storing nothing.
func (k *renderKube) apply(ctx context.Context, o *unstructured.Unstructured, dryRun bool) error {
	ri, err := k.resource(o)
	if err != nil {
		return err
	}
	opts := metav1.ApplyOptions{FieldManager: "idp-render-test", Force: true}
	if dryRun {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	_, err = ri.Apply(ctx, o.GetName(), o, opts)
	return err
}

func unstructuredOf(o rendered) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: jsonRoundTrip(map[string]any(o))}
}

// jsonRoundTrip turns YAML-decoded values (int) into JSON ones (int64,
// float64) as unstructured expects.
func jsonRoundTrip(m map[string]any) map[string]any {
	data, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	var out map[string]any
	if err := json.Unmarshal(data, &out); err != nil {
		panic(err)
	}
	return out
}

func isProviderAzure(o rendered) bool {
	group, _, _ := strings.Cut(fmt.Sprint(o["apiVersion"]), "/")
	return group == azureFamilyGroup || strings.HasSuffix(group, azureGroupSuffix)
}

// TestRenderedManifestsDryRun has a real kube-apiserver validate every
// rendered object: the Argo CD Applications against Argo CD's CRDs, the
// Crossplane packages, runtime config, activation policy, XRDs and
// Compositions against Crossplane's, and the infrastructure XRs against the
// CRDs Crossplane's own code generates from the rendered XRDs.
func TestRenderedManifestsDryRun(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	c := testworld.SharedCluster(t)
	if err := testworld.InstallPlatformCRDs(ctx, c.Config); err != nil {
		t.Fatal(err)
	}
	providerCRDs := os.Getenv(providerCRDsEnv)
	if providerCRDs != "" {
		files, err := filepath.Glob(filepath.Join(providerCRDs, "*.yaml"))
		if err != nil || len(files) == 0 {
			t.Fatalf("%s=%s holds no CRDs: %v", providerCRDsEnv, providerCRDs, err)
		}
		var want []string
		for _, f := range files {
			b := filepath.Base(f)
			if strings.HasPrefix(b, "azure.m.upbound.io_") || strings.Contains(b, ".azure.m.upbound.io_") {
				want = append(want, f)
			}
		}
		if err := testworld.InstallCRDs(ctx, c.Config, want...); err != nil {
			t.Fatal(err)
		}
	}
	disc := memory.NewMemCacheClient(discovery.NewDiscoveryClientForConfigOrDie(c.Config))
	k := &renderKube{dyn: dynamic.NewForConfigOrDie(c.Config), mapper: restmapper.NewDeferredDiscoveryRESTMapper(disc)}
	cs := c.Clientset(t)
	for _, ns := range []string{ArgoCDNamespace, CrossplaneNamespace} {
		_, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
	}

	files := mustRender(t, renderTestConfig())
	all := allRenderedObjects(t, files)

	// The XRDs for real (so Crossplane's XRD schema checks them), then the
	// CRDs Crossplane generates from them, and the infrastructure namespace.
	var crds []*unstructured.Unstructured
	for p, objs := range all {
		if !strings.HasPrefix(p, "platform/crossplane/xrds/") {
			continue
		}
		for _, o := range objs {
			u := unstructuredOf(o)
			generated, err := xcrdgen.Generate(ctx, k.dyn, u)
			if err != nil {
				t.Fatalf("%s: %v", p, err)
			}
			crds = append(crds, generated...)
		}
	}
	if err := testworld.InstallCRDObjects(ctx, c.Config, crds...); err != nil {
		t.Fatal(err)
	}
	for _, crd := range crds {
		if scope, _, _ := unstructured.NestedString(crd.Object, "spec", "scope"); scope != "Namespaced" {
			t.Errorf("CRD %s is %s, want Namespaced", crd.GetName(), scope)
		}
	}
	k.mapper.Reset()
	if err := k.apply(ctx, unstructuredOf(renderedObjects(t, files, "infrastructure/namespace.yaml", 1)[0]), false); err != nil {
		t.Fatal(err)
	}

	checked := 0
	for p, objs := range all {
		for _, o := range objs {
			u := unstructuredOf(o)
			if isProviderAzure(o) && providerCRDs == "" {
				checkProviderConfigShape(t, p, o)
				continue
			}
			if err := k.apply(ctx, u, true); err != nil {
				t.Errorf("%s: %s %s is refused: %v", p, u.GetKind(), u.GetName(), err)
			}
			checked++
		}
	}
	if checked < 25 {
		t.Errorf("only %d objects were validated", checked)
	}

	// The composed resources, as function-patch-and-transform would make
	// them from the rendered XRs (with the status a ready cluster reports).
	composed := composeForTest(t, files)
	for _, o := range composed {
		if providerCRDs == "" {
			checkManagedShape(t, o)
			continue
		}
		if err := k.apply(ctx, unstructuredOf(o), true); err != nil {
			t.Errorf("composed %s is refused by provider-azure's CRD: %v\n%v", o.id(), err, o)
		}
	}
	if providerCRDs == "" {
		t.Logf("provider-azure's CRDs are not available offline: %d composed resources and the ClusterProviderConfig were checked for shape only (set %s to validate them)", len(composed), providerCRDsEnv)
	}

	// The checks have teeth: the schemas refuse what they should.
	aks := unstructuredOf(renderedObjects(t, files, "infrastructure/aks.yaml", 1)[0])
	bad := aks.DeepCopy()
	unstructured.SetNestedField(bad.Object, int64(0), "spec", "parameters", "nodeCount")
	if err := k.apply(ctx, bad, true); err == nil || !strings.Contains(err.Error(), "nodeCount") {
		t.Errorf("an AKS cluster of 0 nodes was accepted: %v", err)
	}
	bad = aks.DeepCopy()
	unstructured.SetNestedField(bad.Object, "Standard D4s", "spec", "parameters", "nodeVMSize")
	if err := k.apply(ctx, bad, true); err == nil || !strings.Contains(err.Error(), "nodeVMSize") {
		t.Errorf("a malformed VM size was accepted: %v", err)
	}
	// A cluster cannot move region: the XRD makes location immutable.
	if err := k.apply(ctx, aks, false); err != nil {
		t.Fatal(err)
	}
	moved := aks.DeepCopy()
	unstructured.SetNestedField(moved.Object, "northeurope", "spec", "parameters", "location")
	if err := k.apply(ctx, moved, true); err == nil || !strings.Contains(err.Error(), "immutable") {
		t.Errorf("moving the AKS cluster to another region was accepted: %v", err)
	}
	app := unstructuredOf(renderedObjects(t, files, RootPath, 1)[0])
	unstructured.SetNestedField(app.Object, "red", "spec", "source", "colour")
	if err := k.apply(ctx, app, true); err == nil || !strings.Contains(err.Error(), "colour") {
		t.Errorf("an Application with an unknown field was accepted: %v", err)
	}
	comp := unstructuredOf(renderedObjects(t, files, "platform/crossplane/compositions/aksclusters.yaml", 1)[0])
	unstructured.SetNestedField(comp.Object, "Sometimes", "spec", "mode")
	if err := k.apply(ctx, comp, true); err == nil || !strings.Contains(err.Error(), "mode") {
		t.Errorf("a Composition with mode Sometimes was accepted: %v", err)
	}
}

// checkProviderConfigShape checks a provider-azure object without its CRD.
func checkProviderConfigShape(t *testing.T, p string, o rendered) {
	t.Helper()
	if o["kind"] != "ClusterProviderConfig" || o["apiVersion"] != "azure.m.upbound.io/v1beta1" {
		t.Errorf("%s: unexpected provider-azure object %s %s", p, o["apiVersion"], o.id())
		return
	}
	ref := rendered(o.get("spec", "credentials", "secretRef").(map[string]any))
	if o.str("spec", "credentials", "source") != "Secret" || ref.str("name") == "" || ref.str("namespace") == "" || ref.str("key") == "" {
		t.Errorf("%s: the ClusterProviderConfig must name a Secret's namespace, name and key: %v", p, o)
	}
	if o.str("metadata", "namespace") != "" {
		t.Errorf("%s: a ClusterProviderConfig is cluster-scoped", p)
	}
}

// checkManagedShape checks a composed managed resource without its CRD:
// the fields the provider requires (its CEL rules say so) are there.
func checkManagedShape(t *testing.T, o rendered) {
	t.Helper()
	if o.str("metadata", "annotations", "crossplane.io/external-name") == "" {
		t.Errorf("composed %s has no external name", o.id())
	}
	required := map[string][]string{
		"ResourceGroup":               {"location"},
		"KubernetesCluster":           {"location", "resourceGroupName", "dnsPrefix", "defaultNodePool.name", "defaultNodePool.vmSize", "defaultNodePool.nodeCount", "identity.type"},
		"Registry":                    {"location", "resourceGroupName", "sku"},
		"UserAssignedIdentity":        {"location", "resourceGroupName", "name"},
		"FederatedIdentityCredential": {"audience", "issuer", "parentId", "subject", "resourceGroupName"},
	}[fmt.Sprint(o["kind"])]
	for _, f := range required {
		if o.get(append([]string{"spec", "forProvider"}, strings.Split(f, ".")...)...) == nil {
			t.Errorf("composed %s lacks spec.forProvider.%s", o.id(), f)
		}
	}
}

// composeForTest plays function-patch-and-transform for the rendered XRs:
// each resource's base with its FromCompositeFieldPath patches applied
// (Format and Regexp string transforms), skipping a resource when a
// Required patch's source is missing, as the function does. The XRs get
// the status a ready AKS cluster would report, so everything is composed.
func composeForTest(t *testing.T, files Files) []rendered {
	t.Helper()
	comps := map[string]rendered{}
	for p, objs := range allRenderedObjects(t, files) {
		if strings.HasPrefix(p, compsDir) {
			for _, o := range objs {
				comps[o.str("spec", "compositeTypeRef", "kind")] = o
			}
		}
	}
	var out []rendered
	for _, f := range []string{"infrastructure/aks.yaml", "infrastructure/acr.yaml", "infrastructure/identities.yaml"} {
		xr := renderedObjects(t, files, f, 1)[0]
		if xr["kind"] == "AKSCluster" {
			xr["status"] = map[string]any{"oidcIssuerURL": "https://swedencentral.oic.prod-aks.azure.com/tenant/issuer/"}
		}
		comp, ok := comps[fmt.Sprint(xr["kind"])]
		if !ok {
			t.Fatalf("no composition for %s", xr.id())
		}
		steps := comp.get("spec", "pipeline").([]any)
		resources := rendered(steps[0].(map[string]any)).get("input", "resources").([]any)
	next:
		for _, r := range resources {
			res := rendered(r.(map[string]any))
			base := jsonRoundTrip(res.get("base").(map[string]any))
			for _, p := range mapList(res.get("patches")) {
				pt := rendered(p)
				if pt.str("type") != "FromCompositeFieldPath" {
					continue
				}
				v, ok := fieldPathGet(map[string]any(xr), pt.str("fromFieldPath"))
				if !ok {
					if pt.str("policy", "fromFieldPath") == "Required" {
						continue next
					}
					continue
				}
				for _, tr := range mapList(pt.get("transforms")) {
					v = applyStringTransform(t, rendered(tr), v)
				}
				fieldPathSet(base, pt.str("toFieldPath"), v)
			}
			m := rendered(jsonRoundTrip(base))
			meta, _ := m["metadata"].(map[string]any)
			if meta == nil {
				meta = map[string]any{}
				m["metadata"] = meta
			}
			meta["name"] = xr.str("metadata", "name") + "-" + res.str("name")
			meta["namespace"] = xr.str("metadata", "namespace")
			out = append(out, m)
		}
	}
	kinds := map[string]bool{}
	for _, o := range out {
		kinds[fmt.Sprint(o["kind"])] = true
	}
	for _, k := range []string{"ResourceGroup", "KubernetesCluster", "FederatedIdentityCredential", "Registry", "UserAssignedIdentity"} {
		if !kinds[k] {
			t.Errorf("the rendered XRs compose no %s", k)
		}
	}
	return out
}

// fieldPathSegments splits a Crossplane field path: a.b[c.d/e].f.
func fieldPathSegments(p string) []string {
	var out []string
	for p != "" {
		i := strings.IndexAny(p, ".[")
		switch {
		case i < 0:
			out = append(out, p)
			p = ""
		case p[i] == '.':
			out = append(out, p[:i])
			p = p[i+1:]
		default:
			if i > 0 {
				out = append(out, p[:i])
			}
			j := strings.IndexByte(p, ']')
			out = append(out, p[i+1:j])
			p = strings.TrimPrefix(p[j+1:], ".")
		}
	}
	return out
}

func fieldPathGet(m map[string]any, p string) (any, bool) {
	var cur any = m
	for _, s := range fieldPathSegments(p) {
		mm, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = mm[s]; !ok {
			return nil, false
		}
	}
	return cur, true
}

func fieldPathSet(m map[string]any, p string, v any) {
	segs := fieldPathSegments(p)
	cur := m
	for _, s := range segs[:len(segs)-1] {
		next, ok := cur[s].(map[string]any)
		if !ok {
			next = map[string]any{}
			cur[s] = next
		}
		cur = next
	}
	cur[segs[len(segs)-1]] = v
}

func applyStringTransform(t *testing.T, tr rendered, v any) any {
	t.Helper()
	s := fmt.Sprint(v)
	switch tr.str("string", "type") {
	case "Format":
		return fmt.Sprintf(tr.str("string", "fmt"), s)
	case "Regexp":
		re := regexp.MustCompile(tr.str("string", "regexp", "match"))
		m := re.FindStringSubmatch(s)
		g, _ := tr.get("string", "regexp", "group").(int)
		if m == nil || g >= len(m) {
			t.Errorf("regexp %s does not match %q", re, s)
			return s
		}
		return m[g]
	}
	t.Errorf("transform %v is not simulated", tr)
	return v
}
