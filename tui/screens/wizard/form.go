package wizard

import (
	"strconv"

	"charm.land/huh/v2"

	"github.com/back-stack/idp/platform/platformconfig"
	"github.com/back-stack/idp/tui/keys"
	"github.com/back-stack/idp/tui/theme"
)

// Field keys, also the huh field keys.
const (
	fieldName          = "name"
	fieldSubscription  = "subscription"
	fieldTenant        = "tenant"
	fieldLocation      = "location"
	fieldResourceGroup = "resourceGroup"
	fieldAKSName       = "aksName"
	fieldVMSize        = "vmSize"
	fieldNodeCount     = "nodeCount"
	fieldK8sVersion    = "kubernetesVersion"
	fieldACR           = "acr"
	fieldGitURL        = "gitURL"
	fieldBranch        = "branch"
	fieldChanges       = "changes"
)

// answers are the form's state: huh fields write into these through
// pointers, so a rebuilt form (edit after the summary, a failed plan, the
// screen reopened) shows every answer as it was. All are text, as typed;
// Config converts them.
type answers struct {
	name                                          string
	subscription, tenant, location, resourceGroup string
	aksName, vmSize, nodeCount, k8sVersion        string
	acr                                           string
	gitURL, branch, changes                       string

	crossplane, providerAzure, functionPT, argoCD, kyverno, ingressNginx, certManager string
}

func answersFrom(c platformconfig.Config) *answers {
	a := &answers{
		name:          c.Name,
		subscription:  c.Azure.SubscriptionID,
		tenant:        c.Azure.TenantID,
		location:      c.Azure.Location,
		resourceGroup: c.Azure.ResourceGroup,
		aksName:       c.Azure.AKS.Name,
		vmSize:        c.Azure.AKS.NodeVMSize,
		k8sVersion:    c.Azure.AKS.KubernetesVersion,
		acr:           c.Azure.ACR.Name,
		gitURL:        c.GitOps.URL,
		branch:        c.GitOpsBranch(),
		changes:       c.ChangePolicy(),
		crossplane:    c.Components.Crossplane,
		providerAzure: c.Components.ProviderAzure,
		functionPT:    c.Components.FunctionPatchAndTransform,
		argoCD:        c.Components.ArgoCD,
		kyverno:       c.Components.Kyverno,
		ingressNginx:  c.Components.IngressNginx,
		certManager:   c.Components.CertManager,
	}
	if c.Azure.AKS.NodeCount != 0 {
		a.nodeCount = strconv.Itoa(c.Azure.AKS.NodeCount)
	}
	return a
}

// apply writes the answers over base, which keeps what the wizard does not
// ask (apiVersion, kind, the Crossplane API style). A node count that does
// not parse becomes 0; the form does not submit with one.
func (a *answers) apply(base platformconfig.Config) platformconfig.Config {
	c := base
	c.Name = a.name
	c.Azure.SubscriptionID = a.subscription
	c.Azure.TenantID = a.tenant
	c.Azure.Location = a.location
	c.Azure.ResourceGroup = a.resourceGroup
	c.Azure.AKS.Name = a.aksName
	c.Azure.AKS.NodeVMSize = a.vmSize
	c.Azure.AKS.NodeCount, _ = platformconfig.ParseNodeCount(a.nodeCount)
	c.Azure.AKS.KubernetesVersion = a.k8sVersion
	c.Azure.ACR.Name = a.acr
	c.GitOps.URL = a.gitURL
	c.GitOps.Branch = a.branch
	c.GitOps.Changes = a.changes
	c.Components = platformconfig.Components{
		Crossplane:                a.crossplane,
		ProviderAzure:             a.providerAzure,
		FunctionPatchAndTransform: a.functionPT,
		ArgoCD:                    a.argoCD,
		Kyverno:                   a.kyverno,
		IngressNginx:              a.ingressNginx,
		CertManager:               a.certManager,
	}
	return c
}

// suggestedACR is the registry name offered for the answers so far: stable
// for the same subscription, resource group and platform name.
func (a *answers) suggestedACR() string {
	return platformconfig.SuggestACRName(a.subscription, a.resourceGroup, a.name)
}

// validateName: the platform name is optional; given, it is a DNS label.
func validateName(s string) error {
	if s == "" {
		return nil
	}
	return platformconfig.ValidateDNSLabel(s)
}

func validateNodeCount(s string) error {
	_, err := platformconfig.ParseNodeCount(s)
	return err
}

// spec describes one text field.
type spec struct {
	key, title, desc string
	value            *string
	validate         func(string) error
}

// builtForm is the form and the inputs the screen writes into later (the az
// login prefill, the registry suggestion).
type builtForm struct {
	form   *huh.Form
	inputs map[string]*huh.Input
}

// buildForm makes one huh group per page over the answers.
func buildForm(a *answers, th theme.Theme) builtForm {
	inputs := map[string]*huh.Input{}
	in := func(s spec) huh.Field {
		f := huh.NewInput().Key(s.key).Title(s.title).Description(s.desc).Value(s.value).Validate(s.validate)
		inputs[s.key] = f
		return f
	}
	inputs2 := func(specs ...spec) []huh.Field {
		out := make([]huh.Field, 0, len(specs))
		for _, s := range specs {
			out = append(out, in(s))
		}
		return out
	}
	v := platformconfig.ValidateVersion

	location := in(spec{fieldLocation, "Region", "Programmatic name, such as westeurope (ctrl+e completes)",
		&a.location, platformconfig.ValidateLocation}).(*huh.Input).Suggestions(platformconfig.Regions)
	nodeCount := in(spec{fieldNodeCount, "Node count", "The system node pool's size, 1 to 100",
		&a.nodeCount, validateNodeCount}).(*huh.Input).CharLimit(4)
	changes := huh.NewSelect[string]().Key(fieldChanges).Title("How changes land").
		Options(
			huh.NewOption("direct: a commit on the branch", platformconfig.ChangeDirect),
			huh.NewOption("pull-request: a branch and a pull request", platformconfig.ChangePullRequest),
		).Value(&a.changes).Validate(platformconfig.ValidateChangePolicy)

	groups := []*huh.Group{
		huh.NewGroup(inputs2(
			spec{fieldName, "Platform name", "Optional; a DNS label such as acme", &a.name, validateName},
		)...).Title("Platform").
			Description("The answers become .idp/platform.yaml in the GitOps repository. No secret is asked for."),
		huh.NewGroup(
			in(spec{fieldSubscription, "Subscription ID", "A GUID; az account show prints it", &a.subscription, platformconfig.ValidateSubscriptionID}),
			in(spec{fieldTenant, "Tenant ID", "The Entra ID tenant, a GUID", &a.tenant, platformconfig.ValidateTenantID}),
			location,
			in(spec{fieldResourceGroup, "Resource group", "For the cluster, registry and identities", &a.resourceGroup, platformconfig.ValidateResourceGroup}),
		).Title("Azure").Description("Where the platform's infrastructure lives."),
		huh.NewGroup(
			in(spec{fieldAKSName, "AKS cluster name", "", &a.aksName, platformconfig.ValidateAKSName}),
			in(spec{fieldVMSize, "Node VM size", "Such as Standard_D4s_v5", &a.vmSize, platformconfig.ValidateVMSize}),
			nodeCount,
			in(spec{fieldK8sVersion, "Kubernetes version", "1.35 (AKS picks the patch) or 1.35.1", &a.k8sVersion, platformconfig.ValidateKubernetesVersion}),
		).Title("Cluster").Description("The AKS cluster and its system node pool."),
		huh.NewGroup(
			in(spec{fieldACR, "ACR name", "Unique across Azure; becomes NAME.azurecr.io", &a.acr, platformconfig.ValidateACRName}),
		).Title("Registry").Description("The platform's container registry."),
		huh.NewGroup(
			in(spec{fieldGitURL, "Repository URL", "https, ssh or user@host:path; no password", &a.gitURL, platformconfig.ValidateGitURL}),
			in(spec{fieldBranch, "Branch", "The branch Argo CD follows", &a.branch, platformconfig.ValidateBranch}),
			changes,
		).Title("GitOps").Description("The repository Argo CD syncs the platform from."),
		huh.NewGroup(inputs2(
			spec{"crossplane", "Crossplane", "crossplane chart", &a.crossplane, v},
			spec{"providerAzure", "provider-azure", "package tag", &a.providerAzure, v},
			spec{"functionPatchAndTransform", "function-patch-and-transform", "package tag", &a.functionPT, v},
			spec{"argocd", "Argo CD", "argo-cd chart", &a.argoCD, v},
			spec{"kyverno", "Kyverno", "kyverno chart", &a.kyverno, v},
			spec{"ingressNginx", "ingress-nginx", "ingress-nginx chart", &a.ingressNginx, v},
			spec{"certManager", "cert-manager", "cert-manager chart", &a.certManager, v},
		)...).Title("Components").Description("Versions to install: chart versions or package tags."),
	}
	km := huh.NewDefaultKeyMap()
	km.Quit = keys.FormCancel
	t := huh.ThemeFunc(huh.ThemeBase16)
	if th.NoColor {
		t = huh.ThemeFunc(huh.ThemeBase)
	}
	// The app's footer shows the keys, and the screen shows the errors
	// itself (wrapped, sized into the body): huh's own would be cut at
	// small heights.
	form := huh.NewForm(groups...).WithKeyMap(km).WithTheme(t).WithShowHelp(false).WithShowErrors(false)
	return builtForm{form: form, inputs: inputs}
}
