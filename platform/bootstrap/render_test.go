package bootstrap

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/back-stack/idp/platform/platformconfig"
)

// renderTestConfig is the defaults plus the answers the wizard asks for.
func renderTestConfig() platformconfig.Config {
	c := platformconfig.Defaults()
	c.Name = "acme"
	c.Azure.SubscriptionID = "00000000-0000-0000-0000-000000000001"
	c.Azure.TenantID = "00000000-0000-0000-0000-000000000002"
	c.Azure.Location = "swedencentral"
	c.Azure.ResourceGroup = "rg-acme-platform"
	c.Azure.AKS.Name = "AKS_Acme"
	c.Azure.AKS.NodeCount = 4
	c.Azure.AKS.NodeVMSize = "Standard_D8s_v5"
	c.Azure.ACR.Name = "acmeplatform"
	c.GitOps.URL = "https://git.example.com/acme/gitops.git"
	c.GitOps.Branch = "platform"
	return c
}

func mustRender(t *testing.T, c platformconfig.Config) Files {
	t.Helper()
	files, err := Render(c)
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// rendered is a decoded object with helpers for reading nested fields.
type rendered map[string]any

func (o rendered) get(path ...string) any {
	var cur any = map[string]any(o)
	for _, p := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[p]
	}
	return cur
}

func (o rendered) str(path ...string) string { s, _ := o.get(path...).(string); return s }

func (o rendered) id() string { return fmt.Sprintf("%s %s", o["kind"], o.str("metadata", "name")) }

// objects returns the objects of one file, failing when it has not exactly n.
func renderedObjects(t *testing.T, files Files, path string, n int) []rendered {
	t.Helper()
	all, err := files.Objects("")
	if err != nil {
		t.Fatal(err)
	}
	objs, ok := all[path]
	if !ok {
		t.Fatalf("%s was not rendered; have %v", path, files.Paths())
	}
	if n >= 0 && len(objs) != n {
		t.Fatalf("%s holds %d objects, want %d", path, len(objs), n)
	}
	out := make([]rendered, len(objs))
	for i, o := range objs {
		out[i] = rendered(o)
	}
	return out
}

func allRenderedObjects(t *testing.T, files Files) map[string][]rendered {
	t.Helper()
	all, err := files.Objects("")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]rendered{}
	for p, objs := range all {
		for _, o := range objs {
			out[p] = append(out[p], rendered(o))
		}
	}
	return out
}

func TestRenderLayout(t *testing.T) {
	files := mustRender(t, renderTestConfig())
	paths := files.Paths()
	if !slices.IsSorted(paths) {
		t.Errorf("files are not sorted: %v", paths)
	}
	for _, want := range []string{
		".idp/platform.yaml", "apps/.gitkeep", "bootstrap/root.yaml",
		"infrastructure/namespace.yaml", "infrastructure/aks.yaml", "infrastructure/acr.yaml", "infrastructure/identities.yaml",
		"platform/argocd/application.yaml", "platform/crossplane/application.yaml", "platform/crossplane/providers.yaml",
		"platform/crossplane/functions.yaml", "platform/crossplane/providerconfig.yaml", "platform/crossplane/activation-policy.yaml",
		"platform/crossplane/runtime-config.yaml",
		"platform/crossplane/xrds/aksclusters.yaml", "platform/crossplane/xrds/containerregistries.yaml",
		"platform/crossplane/xrds/managedidentities.yaml", "platform/crossplane/xrds/postgresqlinstances.yaml",
		"platform/crossplane/compositions/aksclusters.yaml", "platform/crossplane/compositions/containerregistries.yaml",
		"platform/crossplane/compositions/managedidentities.yaml",
		"platform/kyverno/application.yaml", "platform/ingress-nginx/application.yaml", "platform/cert-manager/application.yaml",
		"bootstrap/infrastructure.yaml", "platform/apps/application.yaml",
	} {
		if _, ok := files.Get(want); !ok {
			t.Errorf("%s was not rendered", want)
		}
	}
	for _, p := range paths {
		if strings.HasSuffix(p, ".tmpl") || strings.HasSuffix(p, ".gotmpl") || strings.HasSuffix(p, "README.md") {
			t.Errorf("a template file leaked into the repository: %s", p)
		}
	}
	again := mustRender(t, renderTestConfig())
	for i := range files {
		if files[i].Path != again[i].Path || !bytes.Equal(files[i].Content, again[i].Content) {
			t.Fatalf("Render is not deterministic at %s", files[i].Path)
		}
	}
	m := files.Map()
	if len(m) != len(files) || !bytes.Equal(m[RootPath], files[slices.Index(paths, RootPath)].Content) {
		t.Error("Files.Map")
	}
}

func TestRenderRootAndArgoCD(t *testing.T) {
	c := renderTestConfig()
	files := mustRender(t, c)

	root := renderedObjects(t, files, RootPath, 1)[0]
	for path, want := range map[string]any{
		"apiVersion":                                      "argoproj.io/v1alpha1",
		"kind":                                            "Application",
		"metadata.name":                                   RootApplication,
		"metadata.namespace":                              "argocd",
		"spec.source.repoURL":                             c.GitOps.URL,
		"spec.source.targetRevision":                      "platform",
		"spec.source.path":                                "platform",
		"spec.source.directory.recurse":                   true,
		"spec.syncPolicy.automated.prune":                 true,
		"spec.syncPolicy.automated.selfHeal":              true,
		"spec.destination.server":                         "https://kubernetes.default.svc",
		"spec.destination.namespace":                      "argocd",
		"spec.project":                                    "default",
		"metadata.labels.idp\\.back-stack\\.io/component": "root",
	} {
		if got := root.get(dottedPath(path)...); got != want {
			t.Errorf("root %s = %v, want %v", path, got, want)
		}
	}

	argo := renderedObjects(t, files, "platform/argocd/application.yaml", 1)[0]
	if argo.str("spec", "source", "chart") != "argo-cd" || argo.str("spec", "source", "targetRevision") != c.Components.ArgoCD ||
		argo.str("spec", "source", "repoURL") != "https://argoproj.github.io/argo-helm" || argo.str("spec", "source", "helm", "releaseName") != "argocd" {
		t.Errorf("argocd Application source: %v", argo.get("spec", "source"))
	}
	cm, _ := argo.get("spec", "source", "helm", "valuesObject", "configs", "cm").(map[string]any)
	if cm["application.resourceTrackingMethod"] != "annotation" {
		t.Errorf("Argo CD values: resource tracking %v, want annotation", cm["application.resourceTrackingMethod"])
	}
	lua, _ := cm["resource.customizations.health.argoproj.io_Application"].(string)
	if !strings.Contains(lua, "obj.status.health.status") || !strings.Contains(lua, "return hs") {
		t.Errorf("the Application health check is missing or wrong:\n%s", lua)
	}
	custom, _ := cm["resource.customizations"].(string)
	if !strings.Contains(custom, XRGroup+"/*:") || !strings.Contains(custom, `c.type == "Ready"`) {
		t.Errorf("no health check for the platform's XRs:\n%s", custom)
	}
	if !slices.Contains(stringList(argo.get("spec", "syncPolicy", "syncOptions")), "ServerSideApply=true") {
		t.Error("Argo CD's Application must apply server-side (its CRDs are too large)")
	}

	rels, err := HelmReleases(files)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][3]string{ // chart, version, namespace
		"argocd":        {"argo-cd", c.Components.ArgoCD, "argocd"},
		"crossplane":    {"crossplane", c.Components.Crossplane, "crossplane-system"},
		"kyverno":       {"kyverno", c.Components.Kyverno, "kyverno"},
		"ingress-nginx": {"ingress-nginx", c.Components.IngressNginx, "ingress-nginx"},
		"cert-manager":  {"cert-manager", c.Components.CertManager, "cert-manager"},
	}
	if len(rels) != len(want) {
		t.Errorf("Helm releases: %v", rels)
	}
	for name, w := range want {
		r := rels[name]
		if r.Chart != w[0] || r.Version != w[1] || r.Namespace != w[2] || r.ReleaseName != name {
			t.Errorf("release %s = %+v, want chart %s %s in %s", name, r, w[0], w[1], w[2])
		}
	}
	if acts, ok := rendered(rels["crossplane"].Values).get("provider", "defaultActivations").([]any); !ok || len(acts) != 0 {
		t.Errorf("Crossplane's chart must activate nothing by default: %v", rels["crossplane"].Values)
	}
	if rendered(rels["argocd"].Values).str("configs", "cm", "application.resourceTrackingMethod") != "annotation" {
		t.Error("HelmReleases lost the Argo CD values")
	}
}

func TestRenderCrossplane(t *testing.T) {
	c := renderTestConfig()
	files := mustRender(t, c)

	provs := renderedObjects(t, files, "platform/crossplane/providers.yaml", -1)
	var names []string
	for _, p := range provs {
		names = append(names, p.str("metadata", "name"))
		if p["apiVersion"] != "pkg.crossplane.io/v1" || p["kind"] != "Provider" {
			t.Errorf("%s is not a pkg.crossplane.io/v1 Provider", p.id())
		}
		if pkg := p.str("spec", "package"); !strings.HasPrefix(pkg, "xpkg.upbound.io/upbound/provider-") || !strings.HasSuffix(pkg, ":"+c.Components.ProviderAzure) {
			t.Errorf("%s package %s", p.id(), pkg)
		}
		if p.str("spec", "runtimeConfigRef", "name") != "provider-azure" {
			t.Errorf("%s does not use the provider-azure runtime config", p.id())
		}
	}
	for _, want := range []string{"upbound-provider-family-azure", "provider-azure-containerservice", "provider-azure-containerregistry", "provider-azure-managedidentity"} {
		if !slices.Contains(names, want) {
			t.Errorf("no Provider %s; have %v", want, names)
		}
	}
	drc := renderedObjects(t, files, "platform/crossplane/runtime-config.yaml", 1)[0]
	if drc.str("spec", "serviceAccountTemplate", "metadata", "name") != ProviderServiceAccount {
		t.Errorf("runtime config: %v", drc)
	}

	fn := renderedObjects(t, files, "platform/crossplane/functions.yaml", 1)[0]
	if fn["apiVersion"] != "pkg.crossplane.io/v1" || fn["kind"] != "Function" || fn.str("metadata", "name") != "function-patch-and-transform" ||
		fn.str("spec", "package") != "xpkg.crossplane.io/crossplane-contrib/function-patch-and-transform:"+c.Components.FunctionPatchAndTransform {
		t.Errorf("function: %v", fn)
	}

	pc := renderedObjects(t, files, "platform/crossplane/providerconfig.yaml", 1)[0]
	if pc["apiVersion"] != "azure.m.upbound.io/v1beta1" || pc["kind"] != "ClusterProviderConfig" || pc.str("metadata", "name") != "default" ||
		pc.str("spec", "credentials", "source") != "Secret" ||
		pc.str("spec", "credentials", "secretRef", "name") != CredentialsSecret.Name ||
		pc.str("spec", "credentials", "secretRef", "namespace") != CredentialsSecret.Namespace ||
		pc.str("spec", "credentials", "secretRef", "key") != CredentialsSecret.Key {
		t.Errorf("provider config: %v", pc)
	}

	// The activation policy covers exactly what the compositions compose;
	// these names were checked against provider-azure v2.7.0's CRDs.
	verified := []string{
		"federatedidentitycredentials.managedidentity.azure.m.upbound.io",
		"kubernetesclusters.containerservice.azure.m.upbound.io",
		"registries.containerregistry.azure.m.upbound.io",
		"resourcegroups.azure.m.upbound.io",
		"userassignedidentities.managedidentity.azure.m.upbound.io",
		"flexibleservers.dbforpostgresql.azure.m.upbound.io",
		"flexibleserverdatabases.dbforpostgresql.azure.m.upbound.io",
		"flexibleserverfirewallrules.dbforpostgresql.azure.m.upbound.io",
	}
	mrap := renderedObjects(t, files, "platform/crossplane/activation-policy.yaml", 1)[0]
	acts := stringList(mrap.get("spec", "activate"))
	composed := map[string]bool{}
	for p, objs := range allRenderedObjects(t, files) {
		if !strings.HasPrefix(p, "platform/crossplane/compositions/") {
			continue
		}
		for _, o := range objs {
			for _, gvk := range composedKinds(map[string]any(o)) {
				group, _, _ := strings.Cut(gvk[0], "/")
				name := mrdPlural(gvk[1]) + "." + group
				composed[name] = true
				if !slices.Contains(verified, name) {
					t.Errorf("%s composes %s, whose resource name %s has not been checked against provider-azure's CRDs: check it and add it to the list", p, gvk[1], name)
				}
			}
		}
	}
	for _, v := range verified[:5] {
		if !composed[v] {
			t.Errorf("no composition composes %s", v)
		}
	}
	if len(acts) != len(composed) {
		t.Errorf("activations %v, composed %v", acts, composed)
	}
	for _, a := range acts {
		if !composed[a] {
			t.Errorf("activation %s is for nothing composed", a)
		}
	}

	// XRDs: Crossplane v2, namespaced, with their compositions.
	xrds := map[string]rendered{}
	for p, objs := range allRenderedObjects(t, files) {
		for _, o := range objs {
			if o["kind"] == "CompositeResourceDefinition" {
				if !strings.HasPrefix(p, "platform/crossplane/xrds/") {
					t.Errorf("XRD %s in %s", o.id(), p)
				}
				xrds[o.str("spec", "names", "kind")] = o
			}
		}
	}
	for _, kind := range []string{"AKSCluster", "ContainerRegistry", "ManagedIdentity", "PostgreSQLInstance"} {
		x, ok := xrds[kind]
		if !ok {
			t.Errorf("no XRD for %s", kind)
			continue
		}
		if x["apiVersion"] != "apiextensions.crossplane.io/v2" || x.str("spec", "scope") != "Namespaced" || x.str("spec", "group") != XRGroup {
			t.Errorf("XRD %s: %s scope %s group %s", kind, x["apiVersion"], x.str("spec", "scope"), x.str("spec", "group"))
		}
	}
	for _, name := range []string{"aksclusters", "containerregistries", "managedidentities"} {
		comp := renderedObjects(t, files, "platform/crossplane/compositions/"+name+".yaml", 1)[0]
		checkComposition(t, comp, xrds)
		if x := xrds[comp.str("spec", "compositeTypeRef", "kind")]; x.str("spec", "defaultCompositionRef", "name") != comp.str("metadata", "name") {
			t.Errorf("XRD %s does not default to composition %s", x.id(), comp.id())
		}
	}
}

// checkComposition checks a Pipeline composition's shape and that every
// patch reads or writes a field its XRD declares (or the external-name
// annotation), so a typo in a path fails here rather than on a cluster.
func checkComposition(t *testing.T, comp rendered, xrds map[string]rendered) {
	t.Helper()
	if comp["apiVersion"] != "apiextensions.crossplane.io/v1" || comp.str("spec", "mode") != "Pipeline" {
		t.Errorf("%s: %s mode %s", comp.id(), comp["apiVersion"], comp.str("spec", "mode"))
	}
	xrd, ok := xrds[comp.str("spec", "compositeTypeRef", "kind")]
	if !ok || comp.str("spec", "compositeTypeRef", "apiVersion") != XRGroup+"/v1alpha1" {
		t.Fatalf("%s composes %v, which no XRD defines", comp.id(), comp.get("spec", "compositeTypeRef"))
	}
	versions, _ := xrd.get("spec", "versions").([]any)
	schema := rendered(versions[0].(map[string]any)).get("schema", "openAPIV3Schema").(map[string]any)
	steps, _ := comp.get("spec", "pipeline").([]any)
	if len(steps) != 1 {
		t.Fatalf("%s has %d pipeline steps", comp.id(), len(steps))
	}
	step := rendered(steps[0].(map[string]any))
	if step.str("functionRef", "name") != "function-patch-and-transform" || step.str("input", "apiVersion") != "pt.fn.crossplane.io/v1beta1" || step.str("input", "kind") != "Resources" {
		t.Errorf("%s step: %v", comp.id(), step)
	}
	resources, _ := step.get("input", "resources").([]any)
	if len(resources) == 0 {
		t.Errorf("%s composes nothing", comp.id())
	}
	for _, r := range resources {
		res := rendered(r.(map[string]any))
		name := res.str("name")
		if name == "" || res.str("base", "apiVersion") == "" || res.str("base", "kind") == "" {
			t.Errorf("%s: resource %v lacks a name or base", comp.id(), res)
		}
		externalName := false
		patches, _ := res.get("patches").([]any)
		for _, p := range patches {
			pt := rendered(p.(map[string]any))
			from, to := pt.str("fromFieldPath"), pt.str("toFieldPath")
			if from == "" || to == "" {
				t.Errorf("%s/%s: patch %v lacks a path", comp.id(), name, pt)
				continue
			}
			if pol := pt.str("policy", "fromFieldPath"); pol != "" && pol != "Required" && pol != "Optional" {
				t.Errorf("%s/%s: policy %q", comp.id(), name, pol)
			}
			switch pt.str("type") {
			case "FromCompositeFieldPath":
				if !schemaHas(schema, from) {
					t.Errorf("%s/%s reads %s, which XRD %s does not declare", comp.id(), name, from, xrd.id())
				}
				if to == "metadata.annotations[crossplane.io/external-name]" {
					externalName = true
					if pt.str("policy", "fromFieldPath") != "Required" {
						t.Errorf("%s/%s: the external name must be Required, or a resource is created under a generated name", comp.id(), name)
					}
				}
			case "ToCompositeFieldPath":
				if !strings.HasPrefix(to, "status.") || !schemaHas(schema, to) {
					t.Errorf("%s/%s writes %s, which is not a status field of XRD %s", comp.id(), name, to, xrd.id())
				}
			default:
				t.Errorf("%s/%s: patch type %q", comp.id(), name, pt.str("type"))
			}
			for _, tr := range mapList(pt.get("transforms")) {
				switch rendered(tr).str("type") {
				case "string":
					switch rendered(tr).str("string", "type") {
					case "Format":
						if !strings.Contains(rendered(tr).str("string", "fmt"), "%s") {
							t.Errorf("%s/%s: format transform without %%s", comp.id(), name)
						}
					case "Regexp":
						if rendered(tr).str("string", "regexp", "match") == "" {
							t.Errorf("%s/%s: regexp transform without match", comp.id(), name)
						}
					default:
						t.Errorf("%s/%s: string transform %v", comp.id(), name, tr)
					}
				default:
					t.Errorf("%s/%s: transform %v", comp.id(), name, tr)
				}
			}
		}
		if !externalName {
			t.Errorf("%s/%s never sets crossplane.io/external-name: adoption could not find the Azure resource", comp.id(), name)
		}
	}
}

// schemaHas reports whether the XRD schema declares a field path, or it is
// the XR's external-name annotation.
func schemaHas(schema map[string]any, path string) bool {
	if path == "metadata.annotations[crossplane.io/external-name]" {
		return true
	}
	cur := schema
	for _, p := range strings.Split(path, ".") {
		props, _ := cur["properties"].(map[string]any)
		next, ok := props[p].(map[string]any)
		if !ok {
			return false
		}
		cur = next
	}
	return true
}

func TestRenderInfrastructure(t *testing.T) {
	c := renderTestConfig()
	files := mustRender(t, c)

	ns := renderedObjects(t, files, "infrastructure/namespace.yaml", 1)[0]
	if ns["kind"] != "Namespace" || ns.str("metadata", "name") != InfrastructureNamespace {
		t.Errorf("namespace: %v", ns)
	}
	aks := renderedObjects(t, files, "infrastructure/aks.yaml", 1)[0]
	acr := renderedObjects(t, files, "infrastructure/acr.yaml", 1)[0]
	id := renderedObjects(t, files, "infrastructure/identities.yaml", 1)[0]
	const ext = "crossplane.io/external-name"
	for _, tc := range []struct {
		o          rendered
		kind, name string
		external   string
	}{
		{aks, "AKSCluster", "aks-acme", "AKS_Acme"},
		{acr, "ContainerRegistry", "acmeplatform", "acmeplatform"},
		{id, "ManagedIdentity", "aks-acme-crossplane", "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-acme-platform/providers/Microsoft.ManagedIdentity/userAssignedIdentities/AKS_Acme-crossplane"},
	} {
		o := tc.o
		if o["apiVersion"] != XRGroup+"/v1alpha1" || o["kind"] != tc.kind || o.str("metadata", "name") != tc.name || o.str("metadata", "namespace") != InfrastructureNamespace {
			t.Errorf("%s: %s %s %s/%s", tc.kind, o["apiVersion"], o["kind"], o.str("metadata", "namespace"), o.str("metadata", "name"))
		}
		anns, _ := o.get("metadata", "annotations").(map[string]any)
		if anns[ext] != tc.external {
			t.Errorf("%s external name %v, want %s", tc.kind, anns[ext], tc.external)
		}
		opts := anns["argocd.argoproj.io/sync-options"]
		if s, _ := opts.(string); !strings.Contains(s, "Delete=false") || !strings.Contains(s, "Prune=false") {
			t.Errorf("%s: Argo CD may delete it (sync-options %v)", tc.kind, opts)
		}
		if o.str("spec", "parameters", "location") != "swedencentral" || o.str("spec", "parameters", "resourceGroupName") != "rg-acme-platform" {
			t.Errorf("%s parameters: %v", tc.kind, o.get("spec", "parameters"))
		}
	}
	p := rendered(aks.get("spec", "parameters").(map[string]any))
	if p.str("dnsPrefix") != "aks-acme" || p.str("kubernetesVersion") != c.Azure.AKS.KubernetesVersion || p.str("nodeVMSize") != "Standard_D8s_v5" || p.get("nodeCount") != 4 ||
		p.str("kubeconfigSecretName") != KubeconfigSecret(c).Name || KubeconfigSecret(c).Namespace != InfrastructureNamespace {
		t.Errorf("AKS parameters: %v", p)
	}
	if p.str("federatedIdentity", "identityID") != id.str("metadata", "annotations", ext) || IdentityID(c) != id.str("metadata", "annotations", ext) {
		t.Errorf("the AKS cluster federates %s, but the identity is %s", p.str("federatedIdentity", "identityID"), id.str("metadata", "annotations", ext))
	}
	if p.str("federatedIdentity", "subject") != "system:serviceaccount:crossplane-system:"+ProviderServiceAccount {
		t.Errorf("federated subject %s", p.str("federatedIdentity", "subject"))
	}

	infraApp := renderedObjects(t, files, HandoverManifest, 1)[0]
	if infraApp.str("spec", "source", "path") != "infrastructure" || infraApp.str("spec", "source", "repoURL") != c.GitOps.URL ||
		infraApp.get("spec", "syncPolicy", "automated", "prune") != false {
		t.Errorf("infrastructure Application: %v", infraApp.get("spec"))
	}
	apps := renderedObjects(t, files, "platform/apps/application.yaml", 1)[0]
	if apps.str("spec", "source", "path") != "apps" || apps.get("spec", "source", "directory", "recurse") != true {
		t.Errorf("apps Application: %v", apps.get("spec"))
	}

	conf, _ := files.Get(platformconfig.Path)
	back, err := platformconfig.Parse(conf)
	if err != nil || !reflect.DeepEqual(back, c) {
		t.Errorf(".idp/platform.yaml does not read back as the configuration: %v\n%+v\n%+v", err, back, c)
	}
}

// Every object carries a sync wave, labels, and the waves put CRDs before
// the objects of their kinds.
func TestRenderSyncWaves(t *testing.T) {
	files := mustRender(t, renderTestConfig())
	wave := map[string]int{} // kind/name -> wave
	for p, objs := range allRenderedObjects(t, files) {
		for _, o := range objs {
			if o.str("metadata", "labels", "app.kubernetes.io/part-of") != "idp-platform" {
				t.Errorf("%s in %s lacks the part-of label", o.id(), p)
			}
			if p == RootPath {
				continue
			}
			s := o.str("metadata", "annotations", "argocd.argoproj.io/sync-wave")
			w, err := strconv.Atoi(s)
			if err != nil {
				t.Errorf("%s in %s: sync wave %q", o.id(), p, s)
				continue
			}
			wave[o["kind"].(string)+"/"+o.str("metadata", "name")] = w
		}
	}
	before := func(a, b string) {
		t.Helper()
		wa, oka := wave[a]
		wb, okb := wave[b]
		if !oka || !okb || wa >= wb {
			t.Errorf("%s (wave %d) must come before %s (wave %d)", a, wa, b, wb)
		}
	}
	before("Application/argocd", "Application/crossplane")
	before("Application/crossplane", "Provider/provider-azure-containerservice")
	before("Application/crossplane", "Function/function-patch-and-transform")
	before("Application/crossplane", "DeploymentRuntimeConfig/provider-azure")
	before("Application/crossplane", "ManagedResourceActivationPolicy/idp-platform")
	before("Provider/upbound-provider-family-azure", "ClusterProviderConfig/default")
	before("Function/function-patch-and-transform", "CompositeResourceDefinition/aksclusters."+XRGroup)
	before("CompositeResourceDefinition/aksclusters."+XRGroup, "Composition/aksclusters.azure."+XRGroup)
	before("CompositeResourceDefinition/postgresqlinstances."+XRGroup, "Application/infrastructure")
	before("Composition/managedidentities.azure."+XRGroup, "Application/infrastructure")
	before("ClusterProviderConfig/default", "Application/infrastructure")
	before("Application/cert-manager", "Application/ingress-nginx")
	before("Application/infrastructure", "Application/apps")
	before("Application/kyverno", "Application/apps")
	before("Namespace/"+InfrastructureNamespace, "AKSCluster/aks-acme")
	if wave["DeploymentRuntimeConfig/provider-azure"] > wave["Provider/provider-azure-containerservice"] {
		t.Error("the runtime config must not come after the providers that use it")
	}
}

func TestRenderFollowsTheConfiguration(t *testing.T) {
	c := renderTestConfig()
	c.GitOps.URL = "git@github.com:acme/gitops.git"
	c.GitOps.Branch = ""
	c.Components.Kyverno = "3.9.0"
	c.Crossplane.API = platformconfig.CrossplaneV1
	files := mustRender(t, c)
	root := renderedObjects(t, files, RootPath, 1)[0]
	if root.str("spec", "source", "repoURL") != "git@github.com:acme/gitops.git" || root.str("spec", "source", "targetRevision") != "main" {
		t.Errorf("root source: %v", root.get("spec", "source"))
	}
	if renderedObjects(t, files, "platform/kyverno/application.yaml", 1)[0].str("spec", "source", "targetRevision") != "3.9.0" {
		t.Error("the kyverno version was not used")
	}
	xrd := renderedObjects(t, files, "platform/crossplane/xrds/postgresqlinstances.yaml", 1)[0]
	if xrd.get("spec", "claimNames") == nil {
		t.Error("crossplane.api v1 must render the database XRD with claims")
	}
	if _, ok := files.Get("platform/crossplane/compositions/postgresqlinstances.yaml"); ok {
		t.Error("the v2 database composition was rendered for a v1 platform")
	}

	bad := c
	bad.Azure.Location = "westeurop"
	bad.Azure.ACR.Name = "Acme-Registry"
	_, err := Render(bad)
	var fe platformconfig.FieldErrors
	if !errors.As(err, &fe) || fe.Field("azure.location") == nil || fe.Field("azure.acr.name") == nil || !strings.Contains(err.Error(), "did you mean westeurope") {
		t.Errorf("Render of an invalid configuration: %v", err)
	}
	bad = c
	bad.GitOps.URL = "https://idp:hunter22@git.example.com/acme/gitops.git"
	if _, err := Render(bad); err == nil || strings.Contains(err.Error(), "hunter22") {
		t.Errorf("Render accepted, or repeated, a URL with a password: %v", err)
	}
}

func dottedPath(p string) []string {
	p = strings.ReplaceAll(p, `\.`, "\x00")
	parts := strings.Split(p, ".")
	for i := range parts {
		parts[i] = strings.ReplaceAll(parts[i], "\x00", ".")
	}
	return parts
}

func stringList(v any) []string {
	l, _ := v.([]any)
	out := make([]string, 0, len(l))
	for _, e := range l {
		s, _ := e.(string)
		out = append(out, s)
	}
	return out
}

func mapList(v any) []map[string]any {
	l, _ := v.([]any)
	var out []map[string]any
	for _, e := range l {
		if m, ok := e.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}
