package platformconfig

import (
	"errors"
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// checkFields validates every field the file sets with the rule the README
// states for it, and names the line of the first one that breaks it.
// Absent fields are left to ValidateForBootstrap: other features read a
// partial file.
func checkFields(doc *yaml.Node, c Config) error {
	lines := map[string]*yaml.Node{}
	if len(doc.Content) == 1 {
		collect(doc.Content[0], "", lines)
	}
	var errs []string
	check := func(field string, err error) {
		if n, ok := lines[field]; ok && err != nil {
			errs = append(errs, fmt.Sprintf("line %d: %s: %v", n.Line, field, err))
		}
	}
	if n, ok := lines["azure.aks.nodeCount"]; ok && n.Tag != "!!int" {
		check("azure.aks.nodeCount", fmt.Errorf("%q is not a whole number; want %d to %d", n.Value, MinNodeCount, MaxNodeCount))
	} else {
		check("azure.aks.nodeCount", ValidateNodeCount(c.Azure.AKS.NodeCount))
	}
	check("name", ValidateDNSLabel(c.Name))
	check("azure.subscriptionID", ValidateSubscriptionID(c.Azure.SubscriptionID))
	check("azure.tenantID", ValidateTenantID(c.Azure.TenantID))
	check("azure.location", ValidateLocation(c.Azure.Location))
	check("azure.resourceGroup", ValidateResourceGroup(c.Azure.ResourceGroup))
	check("azure.aks.name", ValidateAKSName(c.Azure.AKS.Name))
	check("azure.aks.nodeVMSize", ValidateVMSize(c.Azure.AKS.NodeVMSize))
	check("azure.aks.kubernetesVersion", ValidateKubernetesVersion(c.Azure.AKS.KubernetesVersion))
	check("azure.acr.name", ValidateACRName(c.Azure.ACR.Name))
	check("gitops.url", ValidateGitURL(c.GitOps.URL))
	check("gitops.branch", ValidateBranch(c.GitOps.Branch))
	for field, v := range map[string]string{
		"components.crossplane": c.Components.Crossplane, "components.providerAzure": c.Components.ProviderAzure,
		"components.functionPatchAndTransform": c.Components.FunctionPatchAndTransform, "components.argocd": c.Components.ArgoCD,
		"components.kyverno": c.Components.Kyverno, "components.ingressNginx": c.Components.IngressNginx,
		"components.certManager": c.Components.CertManager,
	} {
		check(field, ValidateVersion(v))
	}
	for i, a := range c.Secrets.Allow {
		check(fmt.Sprintf("secrets.allow[%d]", i), a.Validate())
	}
	if len(errs) == 0 {
		return nil
	}
	sortByLine(errs)
	return errors.New(strings.Join(errs, "; "))
}

// collect maps each scalar's dotted path (list items as [i]) to its node.
func collect(n *yaml.Node, prefix string, out map[string]*yaml.Node) {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			key := n.Content[i].Value
			if prefix != "" {
				key = prefix + "." + key
			}
			out[key] = n.Content[i+1]
			collect(n.Content[i+1], key, out)
		}
	case yaml.SequenceNode:
		for i, item := range n.Content {
			key := fmt.Sprintf("%s[%d]", prefix, i)
			out[key] = item
			collect(item, key, out)
		}
	}
}

func sortByLine(errs []string) {
	line := func(s string) (n int) { fmt.Sscanf(s, "line %d:", &n); return n }
	for i := 1; i < len(errs); i++ {
		for j := i; j > 0 && line(errs[j]) < line(errs[j-1]); j-- {
			errs[j], errs[j-1] = errs[j-1], errs[j]
		}
	}
}
