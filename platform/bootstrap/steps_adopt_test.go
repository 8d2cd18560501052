package bootstrap

import (
	"encoding/json"
	"reflect"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/back-stack/idp/platform/crossplane"
)

func obj(t *testing.T, y string) *unstructured.Unstructured {
	t.Helper()
	var m map[string]any
	if err := yaml.Unmarshal([]byte(y), &m); err != nil {
		t.Fatal(err)
	}
	return &unstructured.Unstructured{Object: m}
}

// A v2 namespaced managed resource is kept in Azure through management
// policies without Delete; a v1 cluster-scoped one through deletionPolicy
// Orphan. The copy for AKS drops what idp set and what ties it to the seed.
func TestOrphanAndAdoptCopy(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		wantSpec   map[string]any
	}{
		{"namespaced v2", `
apiVersion: containerservice.azure.m.upbound.io/v1beta1
kind: KubernetesCluster
metadata:
  name: platform-x1
  namespace: infra
  annotations: {crossplane.io/external-name: aks-prod, crossplane.io/composition-resource-name: aks}
  labels: {crossplane.io/composite: platform}
  ownerReferences: [{apiVersion: platform.idp.test/v1alpha1, kind: XPlatform, name: platform, uid: u1}]
spec: {forProvider: {location: westeurope}}
status: {atProvider: {id: x}}
`, map[string]any{"managementPolicies": noDeletePolicies}},
		{"cluster-scoped v1", `
apiVersion: containerservice.azure.upbound.io/v1beta1
kind: KubernetesCluster
metadata:
  name: platform-x2
  annotations: {crossplane.io/external-name: aks-prod}
spec: {forProvider: {location: westeurope}, deletionPolicy: Delete}
`, map[string]any{"deletionPolicy": "Orphan"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := obj(t, tc.yaml)
			if orphaned(u) {
				t.Fatal("orphaned before the patch")
			}
			var patch map[string]any
			json.Unmarshal(orphanPatch(u), &patch)
			if !reflect.DeepEqual(patch["spec"], toAny(tc.wantSpec)) {
				t.Errorf("patch spec %v, want %v", patch["spec"], tc.wantSpec)
			}
			// Apply the patch by hand, as the API server would.
			for k, v := range patch["spec"].(map[string]any) {
				unstructured.SetNestedField(u.Object, v, "spec", k)
			}
			ann := u.GetAnnotations()
			ann[PausedAnnotation], ann[OrphanedAnnotation] = "true", "true"
			u.SetAnnotations(ann)
			if !orphaned(u) {
				t.Fatal("not orphaned after the patch")
			}
			if p := string(orphanPatch(u)); p != string(pausePatch) {
				t.Errorf("an orphaned resource is patched again with %s", p)
			}

			c := adoptCopy(u)
			if c.GetAnnotations()[ExternalNameAnnotation] != "aks-prod" {
				t.Errorf("copy lost the external name: %v", c.GetAnnotations())
			}
			for _, k := range []string{PausedAnnotation, OrphanedAnnotation} {
				if _, ok := c.GetAnnotations()[k]; ok {
					t.Errorf("copy kept %s", k)
				}
			}
			if orphaned(c) || len(c.GetOwnerReferences()) != 0 || c.Object["status"] != nil {
				t.Errorf("copy %v", c.Object)
			}
			if loc, _, _ := unstructured.NestedString(c.Object, "spec", "forProvider", "location"); loc != "westeurope" {
				t.Errorf("copy lost the spec: %v", c.Object["spec"])
			}
			if c.GetName() != u.GetName() || c.GetNamespace() != u.GetNamespace() || !reflect.DeepEqual(c.GetLabels(), u.GetLabels()) {
				t.Errorf("copy is not the same object: %v", c.Object["metadata"])
			}
		})
	}
}

func toAny(m map[string]any) any {
	b, _ := json.Marshal(m)
	var out any
	json.Unmarshal(b, &out)
	return out
}

// The AKS kubeconfig is looked for in a v1 XR's connection secret first,
// then in the cluster resource's, then in composed Secrets.
func TestKubeconfigCandidates(t *testing.T) {
	xr := obj(t, `
apiVersion: platform.example.org/v1alpha1
kind: XCluster
metadata: {name: prod}
spec:
  writeConnectionSecretToRef: {name: prod-conn, namespace: crossplane-system}
`)
	registry := obj(t, `
apiVersion: containerregistry.azure.upbound.io/v1beta1
kind: Registry
metadata: {name: prod-acr}
spec: {forProvider: {}, writeConnectionSecretToRef: {name: acr-conn, namespace: crossplane-system}}
`)
	aks := obj(t, `
apiVersion: containerservice.azure.m.upbound.io/v1beta1
kind: KubernetesCluster
metadata: {name: prod-aks, namespace: infra}
spec: {forProvider: {}, writeConnectionSecretToRef: {name: aks-conn}}
`)
	secret := obj(t, `
apiVersion: v1
kind: Secret
metadata: {name: composed, namespace: infra}
`)
	st := &infraState{raw: map[string]*unstructured.Unstructured{}}
	for _, u := range []*unstructured.Unstructured{secret, registry, aks, xr} {
		o := crossplane.FromUnstructured(u)
		st.objects = append(st.objects, o)
		st.raw[o.Key()] = u
	}
	got := (&Pipeline{}).kubeconfigCandidates(st)
	want := []SecretRef{
		{Namespace: "crossplane-system", Name: "prod-conn", Key: KubeconfigKey},
		{Namespace: "infra", Name: "aks-conn", Key: KubeconfigKey},
		{Namespace: "crossplane-system", Name: "acr-conn", Key: KubeconfigKey},
		{Namespace: "infra", Name: "composed", Key: KubeconfigKey},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("candidates\n got %v\nwant %v", got, want)
	}
	explicit := SecretRef{Namespace: "a", Name: "b", Key: "value"}
	p := &Pipeline{cfg: PipelineConfig{KubeconfigSecret: &explicit}}
	if got := p.kubeconfigCandidates(st); !reflect.DeepEqual(got, []SecretRef{explicit}) {
		t.Errorf("the configured secret is not the only candidate: %v", got)
	}
}
