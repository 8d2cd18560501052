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
}

// Azure says where the platform's infrastructure lives.
type Azure struct {
	SubscriptionID string `yaml:"subscriptionID,omitempty"`
	TenantID       string `yaml:"tenantID,omitempty"`
	Location       string `yaml:"location,omitempty"`
	ResourceGroup  string `yaml:"resourceGroup,omitempty"`
	AKS            AKS    `yaml:"aks,omitempty"`
}

// AKS names the platform's cluster.
type AKS struct {
	Name string `yaml:"name,omitempty"`
}

// GitOps says how changes land in the GitOps repository.
type GitOps struct {
	// Changes is ChangeDirect or ChangePullRequest; empty means direct.
	Changes string `yaml:"changes,omitempty"`
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

// CrossplaneAPI is the Crossplane API style, with the default filled in.
func (c Config) CrossplaneAPI() string {
	if c.Crossplane.API == "" {
		return CrossplaneV2
	}
	return c.Crossplane.API
}

var lineRE = regexp.MustCompile(`^yaml: (?:unmarshal errors:\n\s*)?`)

// Parse reads the file's content strictly: an unknown key or a wrong type is
// an error naming the line, so a typo never silently falls back to a default.
func Parse(data []byte) (Config, error) {
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return Config{}, fmt.Errorf("%s: %s", Path, lineRE.ReplaceAllString(err.Error(), ""))
	}
	if err := c.Validate(); err != nil {
		return Config{}, fmt.Errorf("%s: %w", Path, err)
	}
	return c, nil
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
