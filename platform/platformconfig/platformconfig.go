// Package platformconfig is the platform configuration idp keeps in the
// GitOps repository at .idp/platform.yaml: which Azure cluster the platform
// runs on, how changes land in Git, which Crossplane API the platform uses.
// It never holds a secret. The bootstrap wizard writes it; every other
// feature reads it, and command-line flags override it per run.
package platformconfig

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/back-stack/idp/gitops/secrets"
)

// Path is where the file lives in the GitOps repository.
const Path = ".idp/platform.yaml"

// APIVersion and Kind identify the file's format.
const (
	APIVersion = "idp.back-stack.io/v1alpha1"
	Kind       = "PlatformConfig"
)

// How a change to the GitOps repository lands.
const (
	ChangeDirect      = "direct"       // a commit on the default branch
	ChangePullRequest = "pull-request" // a branch idp/<slug> and a pull request
)

// Crossplane API styles for the platform's own composite resources.
const (
	CrossplaneV2 = "v2" // namespaced XRs (the default)
	CrossplaneV1 = "v1" // claims
)

// Config is .idp/platform.yaml.
type Config struct {
	APIVersion string     `yaml:"apiVersion"`
	Kind       string     `yaml:"kind"`
	Name       string     `yaml:"name,omitempty"`
	Azure      Azure      `yaml:"azure,omitempty"`
	GitOps     GitOps     `yaml:"gitops,omitempty"`
	Crossplane Crossplane `yaml:"crossplane,omitempty"`
	Components Components `yaml:"components,omitempty"`
	Secrets    Secrets    `yaml:"secrets,omitempty"`
}

// Secrets holds the explicit exceptions to the secret scan every commit
// idp makes passes (gitleaks' default rules). Each names a path pattern, a
// rule and why it is not a secret.
type Secrets struct {
	Allow []secrets.Allow `yaml:"allow,omitempty"`
}

// Azure says where the platform's infrastructure lives.
type Azure struct {
	SubscriptionID string `yaml:"subscriptionID,omitempty"`
	TenantID       string `yaml:"tenantID,omitempty"`
	// Location is the region's programmatic name (westeurope, not "West Europe").
	Location      string `yaml:"location,omitempty"`
	ResourceGroup string `yaml:"resourceGroup,omitempty"`
	AKS           AKS    `yaml:"aks,omitempty"`
	ACR           ACR    `yaml:"acr,omitempty"`
}

// AKS is the platform's cluster.
type AKS struct {
	Name string `yaml:"name,omitempty"`
	// NodeVMSize is the system node pool's VM size, such as Standard_D4s_v5.
	NodeVMSize string `yaml:"nodeVMSize,omitempty"`
	// NodeCount is the system node pool's size, 1 to 100.
	NodeCount int `yaml:"nodeCount,omitempty"`
	// KubernetesVersion is MAJOR.MINOR (AKS picks the newest patch) or
	// MAJOR.MINOR.PATCH.
	KubernetesVersion string `yaml:"kubernetesVersion,omitempty"`
}

// DNSPrefix is the cluster's DNS prefix (its API server's host name starts
// with it): the name in lower case, "_" as "-", at most 54 characters.
func (a AKS) DNSPrefix() string {
	s := strings.ReplaceAll(strings.ToLower(a.Name), "_", "-")
	if len(s) > 54 {
		s = s[:54]
	}
	return strings.Trim(s, "-")
}

// ACR is the platform's container registry.
type ACR struct {
	// Name is globally unique in Azure; it becomes <name>.azurecr.io.
	Name string `yaml:"name,omitempty"`
}

// GitOps says where the GitOps repository is and how changes land in it.
type GitOps struct {
	// URL is the repository Argo CD syncs the platform from.
	URL string `yaml:"url,omitempty"`
	// Branch is the branch Argo CD follows; empty means main.
	Branch string `yaml:"branch,omitempty"`
	// Changes is ChangeDirect or ChangePullRequest; empty means direct.
	Changes string `yaml:"changes,omitempty"`
}

// Components are the versions of what the platform installs. Helm charts
// are given by chart version (which is not always the app's version: see
// DefaultComponents), Crossplane packages by their image tag.
type Components struct {
	// Crossplane is the crossplane chart's version (the same as Crossplane's).
	Crossplane string `yaml:"crossplane,omitempty"`
	// ProviderAzure is the tag of the provider-azure family packages.
	ProviderAzure string `yaml:"providerAzure,omitempty"`
	// FunctionPatchAndTransform is the tag of function-patch-and-transform.
	FunctionPatchAndTransform string `yaml:"functionPatchAndTransform,omitempty"`
	// ArgoCD is the argo-cd chart's version.
	ArgoCD string `yaml:"argocd,omitempty"`
	// Kyverno is the kyverno chart's version.
	Kyverno string `yaml:"kyverno,omitempty"`
	// IngressNginx is the ingress-nginx chart's version.
	IngressNginx string `yaml:"ingressNginx,omitempty"`
	// CertManager is the cert-manager chart's version.
	CertManager string `yaml:"certManager,omitempty"`
}

// Crossplane says which API style the platform's composite resources use.
type Crossplane struct {
	// API is CrossplaneV2 or CrossplaneV1; empty means v2.
	API string `yaml:"api,omitempty"`
}

// ChangePolicy is how changes land, with the default filled in.
func (c Config) ChangePolicy() string {
	if c.GitOps.Changes == "" {
		return ChangeDirect
	}
	return c.GitOps.Changes
}

// GitOpsBranch is the branch Argo CD follows, with the default filled in.
func (c Config) GitOpsBranch() string {
	if c.GitOps.Branch == "" {
		return DefaultBranch
	}
	return c.GitOps.Branch
}

// CrossplaneAPI is the Crossplane API style, with the default filled in.
func (c Config) CrossplaneAPI() string {
	if c.Crossplane.API == "" {
		return CrossplaneV2
	}
	return c.Crossplane.API
}

var lineRE = regexp.MustCompile(`^yaml: (?:unmarshal errors:\n\s*)?`)

// Parse reads the file's content strictly: an unknown key, a wrong type
// (3.5 where a whole number belongs) or a value out of its range is an
// error naming the line, so a typo never silently falls back to a default.
func Parse(data []byte) (Config, error) {
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return Config{}, fmt.Errorf("%s: %s", Path, withLine(lineRE.ReplaceAllString(err.Error(), "")))
	}
	var doc yaml.Node
	_ = yaml.Unmarshal(data, &doc) // it decoded above, so it parses
	if err := checkFields(&doc, c); err != nil {
		return Config{}, fmt.Errorf("%s: %w", Path, err)
	}
	if err := c.Validate(); err != nil {
		return Config{}, fmt.Errorf("%s: %w", Path, err)
	}
	return c, nil
}

// withLine names line 1 where the YAML parser names none: it leaves the
// line out exactly when the problem is on the first line.
func withLine(msg string) string {
	if strings.HasPrefix(msg, "line ") {
		return msg
	}
	return "line 1: " + msg
}

// Validate checks the values Parse cannot: the format and the enumerations.
func (c Config) Validate() error {
	var errs []string
	if c.APIVersion != APIVersion || c.Kind != Kind {
		errs = append(errs, fmt.Sprintf("apiVersion/kind are %q/%q, want %q/%q", c.APIVersion, c.Kind, APIVersion, Kind))
	}
	switch c.GitOps.Changes {
	case "", ChangeDirect, ChangePullRequest:
	default:
		errs = append(errs, fmt.Sprintf("gitops.changes is %q, want %q or %q", c.GitOps.Changes, ChangeDirect, ChangePullRequest))
	}
	switch c.Crossplane.API {
	case "", CrossplaneV2, CrossplaneV1:
	default:
		errs = append(errs, fmt.Sprintf("crossplane.api is %q, want %q or %q", c.Crossplane.API, CrossplaneV2, CrossplaneV1))
	}
	if len(errs) > 0 {
		return errors.New(strings.Join(errs, "; "))
	}
	return nil
}

// Marshal renders the file, with apiVersion and kind filled in.
func Marshal(c Config) ([]byte, error) {
	c.APIVersion, c.Kind = APIVersion, Kind
	if err := c.Validate(); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(c); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
