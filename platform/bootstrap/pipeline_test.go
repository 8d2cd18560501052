package bootstrap_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/back-stack/idp/platform/bootstrap"
)

const testCredentials = `{"clientId":"00000000-0000-0000-0000-000000000001","clientSecret":"s3cr3t-value","tenantId":"00000000-0000-0000-0000-000000000002","subscriptionId":"00000000-0000-0000-0000-000000000003"}`

// testManifests is a rendered GitOps repository for platform p: what the
// wizard's renderer writes, cut down to one composite with two resources.
func testManifests(p string) map[string][]byte {
	return map[string][]byte{
		"bootstrap/root.yaml": fmt.Appendf(nil, `apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: root
  namespace: argocd-%[1]s
  annotations:
    argocd.argoproj.io/sync-wave: "0"
spec:
  project: default
  source:
    repoURL: https://git.example.test/platform.git
    path: platform
    targetRevision: main
  destination:
    server: https://kubernetes.default.svc
    namespace: argocd-%[1]s
  syncPolicy:
    automated: {prune: true, selfHeal: true}
`, p),
		"bootstrap/infrastructure.yaml": fmt.Appendf(nil, `apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: infrastructure
  namespace: argocd-%[1]s
spec:
  project: default
  source:
    repoURL: https://git.example.test/platform.git
    path: infrastructure
    targetRevision: main
  destination:
    server: https://kubernetes.default.svc
    namespace: infrastructure
  syncPolicy:
    automated: {prune: false, selfHeal: true}
`, p),
		"platform/crossplane/packages.yaml": fmt.Appendf(nil, `apiVersion: pkg.crossplane.io/v1beta1
kind: DeploymentRuntimeConfig
metadata:
  name: azure-%[1]s
spec: {}
---
apiVersion: pkg.crossplane.io/v1
kind: Provider
metadata:
  name: provider-azure-containerservice-%[1]s
spec:
  package: xpkg.upbound.io/upbound/provider-azure-containerservice:v2.0.0
  runtimeConfigRef:
    name: azure-%[1]s
---
apiVersion: pkg.crossplane.io/v1
kind: Function
metadata:
  name: function-patch-and-transform-%[1]s
spec:
  package: xpkg.crossplane.io/crossplane-contrib/function-patch-and-transform:v0.9.0
`, p),
		"platform/crossplane/providerconfig.yaml": fmt.Appendf(nil, `apiVersion: azure.m.upbound.io/v1beta1
kind: ClusterProviderConfig
metadata:
  name: default-%[1]s
spec:
  credentials:
    source: Secret
    secretRef:
      namespace: xp-%[1]s
      name: azure-credentials
      key: credentials
`, p),
		"platform/crossplane/definitions.yaml": fmt.Appendf(nil, `apiVersion: apiextensions.crossplane.io/v2
kind: CompositeResourceDefinition
metadata:
  name: xplatforms.platform.idp.test
spec:
  group: platform.idp.test
  scope: Namespaced
  names: {kind: XPlatform, plural: xplatforms}
  versions:
  - name: v1alpha1
    served: true
    referenceable: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              location: {type: string}
              aksName: {type: string}
              acrName: {type: string}
---
apiVersion: apiextensions.crossplane.io/v1
kind: Composition
metadata:
  name: xplatforms-%[1]s
spec:
  compositeTypeRef:
    apiVersion: platform.idp.test/v1alpha1
    kind: XPlatform
  mode: Pipeline
  pipeline:
  - step: patch-and-transform
    functionRef:
      name: function-patch-and-transform-%[1]s
    input:
      apiVersion: pt.fn.crossplane.io/v1beta1
      kind: Resources
      resources:
      - name: aks
        base:
          apiVersion: containerservice.azure.m.upbound.io/v1beta1
          kind: KubernetesCluster
        patches:
        - type: FromCompositeFieldPath
          fromFieldPath: spec.aksName
          toFieldPath: metadata.annotations[crossplane.io/external-name]
`, p),
		// Argo CD's to sync on AKS; the seed never gets it.
		"platform/argocd/application.yaml": fmt.Appendf(nil, `apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: argocd
  namespace: argocd-%[1]s
spec:
  project: default
  source: {repoURL: https://git.example.test/platform.git, path: platform/argocd}
  destination: {server: https://kubernetes.default.svc, namespace: argocd-%[1]s}
`, p),
		"platform/argocd/values.yaml": []byte("configs:\n  cm:\n    application.resourceTrackingMethod: annotation\n"),
		"infrastructure/namespace.yaml": fmt.Appendf(nil, `apiVersion: v1
kind: Namespace
metadata:
  name: infra-%[1]s
`, p),
		"infrastructure/platform.yaml": fmt.Appendf(nil, `apiVersion: platform.idp.test/v1alpha1
kind: XPlatform
metadata:
  name: platform
  namespace: infra-%[1]s
spec:
  location: westeurope
  aksName: aks-%[1]s
  acrName: acr%[1]s
`, p),
		".idp/platform.yaml": []byte("apiVersion: idp.back-stack.io/v1alpha1\nkind: PlatformConfig\n"),
	}
}

func (w *world) config(p, stateDir string) bootstrap.PipelineConfig {
	timeouts := map[bootstrap.StepID]time.Duration{}
	for _, id := range stepIDs {
		timeouts[id] = 90 * time.Second
	}
	return bootstrap.PipelineConfig{
		Platform:         p,
		Manifests:        testManifests(p),
		Seed:             bootstrap.ExistingSeed{Kubeconfig: w.seed.Kubeconfig},
		AzureCredentials: []byte(testCredentials),
		Crossplane: bootstrap.HelmChart{Release: "crossplane", Namespace: "xp-" + p, Path: filepath.Join("testdata", "charts", "crossplane"),
			Values: map[string]any{"args": []any{"--enable-usages"}}},
		ArgoCD:        bootstrap.HelmChart{Release: "argocd", Namespace: "argocd-" + p, Path: filepath.Join("testdata", "charts", "argo-cd")},
		StateDir:      stateDir,
		PollInterval:  25 * time.Millisecond,
		Timeouts:      timeouts,
		ResumeCommand: "idp bootstrap --resume",
	}
}

var stepIDs = []bootstrap.StepID{
	bootstrap.StepPreflight, bootstrap.StepSeed, bootstrap.StepCrossplane, bootstrap.StepInfrastructure,
	bootstrap.StepKubeconfig, bootstrap.StepArgoCD, bootstrap.StepAdopt, bootstrap.StepDeleteSeed,
}

func newPipeline(t *testing.T, cfg bootstrap.PipelineConfig) *bootstrap.Pipeline {
	t.Helper()
	p, err := bootstrap.NewPipeline(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// collect runs fn with an event channel and returns the events and error.
func collect(fn func(chan<- bootstrap.Event) error) ([]bootstrap.Event, error) {
	ch := make(chan bootstrap.Event, 64)
	var events []bootstrap.Event
	done := make(chan struct{})
	go func() {
		for ev := range ch {
			events = append(events, ev)
		}
		close(done)
	}()
	err := fn(ch)
	close(ch)
	<-done
	return events, err
}

func list(t *testing.T, dyn dynamic.Interface, gvr schema.GroupVersionResource, ns string) []unstructured.Unstructured {
	t.Helper()
	l, err := dyn.Resource(gvr).Namespace(ns).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatalf("listing %s in %q: %v", gvr.Resource, ns, err)
	}
	return l.Items
}

func get(t *testing.T, dyn dynamic.Interface, gvr schema.GroupVersionResource, ns, name string) *unstructured.Unstructured {
	t.Helper()
	u, err := dyn.Resource(gvr).Namespace(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		return nil
	}
	return u
}

// helmRevisions are a release's revisions as its release record on the
// cluster tells them ("revision:status"; one record per release).
func helmRevisions(t *testing.T, dyn dynamic.Interface, ns, release string) []string {
	t.Helper()
	l, err := dyn.Resource(secretsGVR).Namespace(ns).List(context.Background(), metav1.ListOptions{LabelSelector: "idp.back-stack.io/release=" + release})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, s := range l.Items {
		data, _, _ := unstructured.NestedString(s.Object, "data", "release")
		raw, err := base64.StdEncoding.DecodeString(data)
		var rec struct {
			Revision int    `json:"revision"`
			Status   string `json:"status"`
		}
		if err == nil {
			err = json.Unmarshal(raw, &rec)
		}
		if err != nil {
			t.Fatalf("release record %s: %v", s.GetName(), err)
		}
		out = append(out, fmt.Sprintf("%d:%s", rec.Revision, rec.Status))
	}
	return out
}

// assertBootstrapped checks the end state of platform p: everything on AKS
// exactly once, adopted with the seed's external names, nothing left on
// the seed, and every Azure resource created once and never deleted.
func (w *world) assertBootstrapped(t *testing.T, p string, ckptPath string, maxRevisions map[string]int) {
	t.Helper()
	ckpt, err := bootstrap.LoadCheckpoint(ckptPath)
	if err != nil {
		t.Fatal(err)
	}
	if ckpt.Finished.IsZero() {
		t.Errorf("checkpoint not finished: %+v", ckpt.Steps)
	}
	for _, id := range stepIDs {
		if !ckpt.Done(id) {
			t.Errorf("step %s not done in the checkpoint", id)
		}
	}
	infra := "infra-" + p

	// AKS: one XR, two managed resources, with the seed's external names.
	xrs := list(t, w.aksDyn, xplatformsGVR, infra)
	if len(xrs) != 1 || !hasTrue(&xrs[0], "Ready") {
		t.Errorf("AKS XRs in %s: %v (want one, Ready)", infra, sortedNames(xrs))
	}
	var mrs []unstructured.Unstructured
	for _, gvr := range managedGVRs {
		mrs = append(mrs, list(t, w.aksDyn, gvr, infra)...)
	}
	if len(mrs) != 2 || len(ckpt.Adopted) != 2 {
		t.Errorf("AKS managed resources %v, adopted %+v: want the two the seed composed", sortedNames(mrs), ckpt.Adopted)
	}
	byName := map[string]bootstrap.AdoptedResource{}
	for _, a := range ckpt.Adopted {
		byName[a.Name] = a
		if a.Composite.Name != "platform" || a.Composite.Kind != "XPlatform" {
			t.Errorf("adopted %s composed by %v", a.ObjectRef, a.Composite)
		}
	}
	for _, mr := range mrs {
		a, ok := byName[mr.GetName()]
		ext := mr.GetAnnotations()["crossplane.io/external-name"]
		if !ok || ext != a.ExternalName || !hasTrue(&mr, "Ready") {
			t.Errorf("AKS %s: external name %q (seed's %q), Ready=%v, adopted=%v", mr.GetName(), ext, a.ExternalName, hasTrue(&mr, "Ready"), ok)
		}
		if _, ok := mr.GetAnnotations()["crossplane.io/paused"]; ok {
			t.Errorf("AKS %s is paused", mr.GetName())
		}
		if pols, ok, _ := unstructured.NestedStringSlice(mr.Object, "spec", "managementPolicies"); ok {
			t.Errorf("AKS %s kept the seed's orphan policies %v", mr.GetName(), pols)
		}
		if len(mr.GetOwnerReferences()) != 0 {
			t.Errorf("AKS %s kept the seed's owner references", mr.GetName())
		}
		created, deleted := w.azure.counts(ext)
		if created != 1 || deleted != 0 {
			t.Errorf("Azure resource %q created %d times, deleted %d times: want once, never", ext, created, deleted)
		}
	}
	if aks := byName; len(aks) > 0 {
		found := false
		for _, a := range ckpt.Adopted {
			found = found || a.ExternalName == "aks-"+p
		}
		if !found {
			t.Errorf("the AKS cluster's external name aks-%s is not among the adopted: %+v", p, ckpt.Adopted)
		}
	}

	// The credentials Secret: once on AKS, from the credentials given.
	creds := get(t, w.aksDyn, secretsGVR, "xp-"+p, "azure-credentials")
	if creds == nil {
		t.Errorf("no credentials Secret on AKS")
	} else if v, _, _ := unstructured.NestedString(creds.Object, "data", "credentials"); v != base64.StdEncoding.EncodeToString([]byte(testCredentials)) {
		t.Errorf("credentials Secret on AKS holds %q", v)
	}

	// Argo CD: one release, the app-of-apps Synced and Healthy.
	revs := helmRevisions(t, w.aksDyn, "argocd-"+p, "argocd")
	if len(revs) == 0 || len(revs) > maxRevisions["argocd"] {
		t.Errorf("Argo CD chart release revisions %v, want at most %d", revs, maxRevisions["argocd"])
	}
	if !strings.Contains(strings.Join(revs, ","), ":deployed") {
		t.Errorf("Argo CD chart release not deployed: %v", revs)
	}
	if cms := list(t, w.aksDyn, configMapsGVR, "argocd-"+p); len(cms) < 1 {
		t.Errorf("the Argo CD chart's ConfigMap is missing")
	}
	root := get(t, w.aksDyn, appsGVR, "argocd-"+p, "root")
	if root == nil {
		t.Fatalf("no root Application on AKS")
	}
	if h, _, _ := unstructured.NestedString(root.Object, "status", "health", "status"); h != "Healthy" {
		t.Errorf("root Application health %q", h)
	}
	// The pipeline applies root.yaml, and the hand-over Application for
	// infrastructure/ once the adoption is verified; nothing else.
	if names := sortedNames(list(t, w.aksDyn, appsGVR, "argocd-"+p)); strings.Join(names, ",") != "argocd-"+p+"/infrastructure,argocd-"+p+"/root" {
		t.Errorf("AKS Applications %v, want root and the hand-over infrastructure", names)
	}
	for _, r := range ckpt.Releases {
		if r.Revision > maxRevisions[r.Name] {
			t.Errorf("Helm release %s reached revision %d, want at most %d", r.Name, r.Revision, maxRevisions[r.Name])
		}
	}

	// The seed: what idp installed is gone, the cluster stays.
	for _, gvr := range append([]schema.GroupVersionResource{xplatformsGVR}, managedGVRs...) {
		if left := list(t, w.seedDyn, gvr, infra); len(left) != 0 {
			t.Errorf("seed still has %s %v", gvr.Resource, sortedNames(left))
		}
	}
	if get(t, w.seedDyn, providersGVR, "", "provider-azure-containerservice-"+p) != nil ||
		get(t, w.seedDyn, functionsGVR, "", "function-patch-and-transform-"+p) != nil ||
		get(t, w.seedDyn, compositionsGVR, "", "xplatforms-"+p) != nil ||
		get(t, w.seedDyn, pcGVR, "", "default-"+p) != nil {
		t.Errorf("the seed still has the platform's packages, composition or ProviderConfig")
	}
	if get(t, w.seedDyn, secretsGVR, "xp-"+p, "azure-credentials") != nil {
		t.Errorf("the seed still has the credentials Secret")
	}
	if revs := helmRevisions(t, w.seedDyn, "xp-"+p, "crossplane"); len(revs) != 0 {
		t.Errorf("the seed still has the Crossplane release: %v", revs)
	}
	if cm := get(t, w.seedDyn, configMapsGVR, "xp-"+p, "crossplane-settings"); cm != nil {
		t.Errorf("the seed still has the Crossplane chart's ConfigMap")
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(ckptPath), p+"-aks.kubeconfig")); err != nil {
		t.Errorf("the AKS kubeconfig is not in the state directory: %v", err)
	}
	data, _ := os.ReadFile(ckptPath)
	if strings.Contains(string(data), "s3cr3t") || strings.Contains(string(data), base64.StdEncoding.EncodeToString([]byte(testCredentials))) {
		t.Errorf("the checkpoint holds the credentials")
	}
}
