package scaffold

import (
	"github.com/back-stack/idp/gitops/secrets"
	"github.com/back-stack/idp/platform/forge"
	"github.com/back-stack/idp/platform/templates"
)

// Request is one "new service": a template and the answers to its form.
type Request struct {
	Template string
	// Values are the typed answers (see templates.Property.Parse).
	Values map[string]any
	// ChangePolicy overrides .idp/platform.yaml for this run:
	// platformconfig.ChangeDirect or platformconfig.ChangePullRequest; ""
	// follows the platform's rule.
	ChangePolicy string
}

// Proposal is everything a run would write, computed before anything is:
// the preview the user confirms.
type Proposal struct {
	Request Request
	// Service is the service's name.
	Service string
	// Plan is the template's run: the repository's files and requests.
	Plan *templates.Plan
	// Repo is where the service repository will be created.
	Repo forge.Repo
	// GitOpsFiles are the files added to the GitOps repository.
	GitOpsFiles []templates.File
	// ChangePolicy is how the GitOps change lands (direct or pull-request).
	ChangePolicy string
	// Branch is the GitOps branch the change goes to.
	Branch string
	// Message is the GitOps commit message.
	Message string
	// Diff is the GitOps change as a unified diff.
	Diff string
	// Base is the GitOps commit the diff was made against.
	Base string

	allow []secrets.Allow // the platform's secrets.allow
}

// Result is what a run did.
type Result struct {
	Service    string           `json:"service"`
	Template   string           `json:"template"`
	Repository RepositoryResult `json:"repository"`
	GitOps     GitOpsResult     `json:"gitops"`
	Notes      []string         `json:"notes,omitempty"`
	DryRun     bool             `json:"dryRun,omitempty"`
}

// RepositoryResult is the new service repository.
type RepositoryResult struct {
	URL    string   `json:"url"`
	WebURL string   `json:"webURL,omitempty"`
	Branch string   `json:"branch"`
	Commit string   `json:"commit,omitempty"`
	Files  []string `json:"files"`
}

// GitOpsResult is the change to the GitOps repository.
type GitOpsResult struct {
	Policy         string   `json:"policy"`
	Branch         string   `json:"branch"`
	Commit         string   `json:"commit,omitempty"`
	Paths          []string `json:"paths"`
	PullRequestURL string   `json:"pullRequestURL,omitempty"`
}
