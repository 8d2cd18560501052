package platformconfig

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// DefaultBranch is the GitOps branch when none is given.
const DefaultBranch = "main"

// DefaultComponents are the versions the wizard offers. Each is a real
// release, checked against the projects' own repositories when chosen
// (mid 2026); raise them deliberately, one at a time, not by habit.
func DefaultComponents() Components {
	return Components{
		// Crossplane v2.1.0: the release whose CRDs the tests validate
		// every rendered Crossplane object against (v2.3.x is out; move
		// the test world's CrossplaneModule with it).
		Crossplane: "2.1.0",
		// provider-azure v2.7.0: the v2 family with the namespaced
		// (*.azure.m.upbound.io) managed resources the compositions use.
		ProviderAzure: "v2.7.0",
		// function-patch-and-transform v0.10.8.
		FunctionPatchAndTransform: "v0.10.8",
		// argo-cd chart 10.1.1 ships Argo CD v3.4.4.
		ArgoCD: "10.1.1",
		// kyverno chart 3.8.2 ships Kyverno v1.18.2.
		Kyverno: "3.8.2",
		// ingress-nginx chart 4.15.1 ships controller v1.15.1, the
		// project's last release: it was retired in March 2026, so plan
		// a move to a Gateway API implementation.
		IngressNginx: "4.15.1",
		// cert-manager's chart versions carry the "v" of its releases.
		CertManager: "v1.21.2",
	}
}

// Defaults is what the bootstrap wizard prefills. The subscription,
// tenant, GitOps URL and ACR name have no sensible default: the subscription
// and tenant come from the az login context, the ACR name from
// SuggestACRName once the subscription is known.
func Defaults() Config {
	return Config{
		APIVersion: APIVersion,
		Kind:       Kind,
		Azure: Azure{
			Location:      "westeurope",
			ResourceGroup: "rg-idp-platform",
			AKS: AKS{
				Name:       "aks-idp-platform",
				NodeVMSize: "Standard_D4s_v5",
				NodeCount:  3,
				// A minor AKS offers in mid 2026; AKS picks its newest patch.
				// `az aks get-versions -l LOCATION` lists what a region has.
				KubernetesVersion: "1.35",
			},
		},
		GitOps:     GitOps{Branch: DefaultBranch, Changes: ChangeDirect},
		Crossplane: Crossplane{API: CrossplaneV2},
		Components: DefaultComponents(),
	}
}

// WithDefaults fills every empty field from Defaults, so a file that gives
// only what differs is complete. Fields that have no default stay empty.
func (c Config) WithDefaults() Config {
	d := Defaults()
	or := func(v *string, def string) {
		if *v == "" {
			*v = def
		}
	}
	or(&c.APIVersion, d.APIVersion)
	or(&c.Kind, d.Kind)
	or(&c.Azure.Location, d.Azure.Location)
	or(&c.Azure.ResourceGroup, d.Azure.ResourceGroup)
	or(&c.Azure.AKS.Name, d.Azure.AKS.Name)
	or(&c.Azure.AKS.NodeVMSize, d.Azure.AKS.NodeVMSize)
	or(&c.Azure.AKS.KubernetesVersion, d.Azure.AKS.KubernetesVersion)
	if c.Azure.AKS.NodeCount == 0 {
		c.Azure.AKS.NodeCount = d.Azure.AKS.NodeCount
	}
	or(&c.GitOps.Branch, d.GitOps.Branch)
	or(&c.GitOps.Changes, d.GitOps.Changes)
	or(&c.Crossplane.API, d.Crossplane.API)
	dc := d.Components
	or(&c.Components.Crossplane, dc.Crossplane)
	or(&c.Components.ProviderAzure, dc.ProviderAzure)
	or(&c.Components.FunctionPatchAndTransform, dc.FunctionPatchAndTransform)
	or(&c.Components.ArgoCD, dc.ArgoCD)
	or(&c.Components.Kyverno, dc.Kyverno)
	or(&c.Components.IngressNginx, dc.IngressNginx)
	or(&c.Components.CertManager, dc.CertManager)
	return c
}

// SuggestACRName proposes a registry name that is likely free: ACR names
// are global, so a fixed default would collide. It is "idp" and 12 hex
// digits derived from the seed (say the subscription ID and resource
// group), so the same answers give the same suggestion.
func SuggestACRName(seed ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(seed, "/")))
	return "idp" + hex.EncodeToString(sum[:])[:12]
}
