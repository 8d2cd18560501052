package bootstrap

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/back-stack/idp/gitops"
	"github.com/back-stack/idp/platform/platformconfig"
)

// PullRequestSlug names the bootstrap's pull-request branch: idp/<slug>.
const PullRequestSlug = "bootstrap-platform"

// CommitOptions tune the bootstrap's commit.
type CommitOptions struct {
	// Author overrides the author from git config.
	Author *gitops.Signature
	// Message replaces the commit message Message(cfg) writes.
	Message string
}

// Committed is what Commit did.
type Committed struct {
	// UpToDate: the branch already held exactly the rendered files, so no
	// commit was made.
	UpToDate bool
	// Commit is the new commit ("" when UpToDate), on Branch: the GitOps
	// branch, or idp/bootstrap-platform for a pull request.
	Commit, Branch string
	// PullRequestURL opens the pull request, when the forge is known.
	PullRequestURL string
	// Changes are the files the commit added or modified; a "modify" is a
	// file in the repository that differed from what idp renders.
	Changes []gitops.Change
	// Files are everything rendered.
	Files Files
}

// Summary says what happened in one sentence.
func (c *Committed) Summary() string {
	if c.UpToDate {
		return fmt.Sprintf("the GitOps repository already holds these %d platform files on %s; nothing to commit", len(c.Files), c.Branch)
	}
	var add, mod int
	for _, ch := range c.Changes {
		if ch.Action == "add" {
			add++
		} else {
			mod++
		}
	}
	s := fmt.Sprintf("committed %s on %s: %d files added, %d updated", shortHash(c.Commit), c.Branch, add, mod)
	if c.PullRequestURL != "" {
		s += "; open the pull request at " + c.PullRequestURL
	}
	return s
}

func shortHash(h string) string {
	if len(h) > 10 {
		return h[:10]
	}
	return h
}

// Message is the bootstrap commit's message.
func Message(cfg platformconfig.Config) string {
	c := cfg.Components
	return fmt.Sprintf(`bootstrap: platform %s in %s

Rendered by idp from %s: the app-of-apps (%s), the platform's
components under platform/ and its infrastructure under infrastructure/.

AKS %s (Kubernetes %s, %d x %s), ACR %s, resource group %s.
Crossplane %s, provider-azure %s, function-patch-and-transform %s,
argo-cd chart %s, kyverno chart %s, ingress-nginx chart %s, cert-manager %s.
`, cfg.Azure.AKS.Name, cfg.Azure.Location, platformconfig.Path, RootPath,
		cfg.Azure.AKS.Name, cfg.Azure.AKS.KubernetesVersion, cfg.Azure.AKS.NodeCount, cfg.Azure.AKS.NodeVMSize,
		cfg.Azure.ACR.Name, cfg.Azure.ResourceGroup,
		c.Crossplane, c.ProviderAzure, c.FunctionPatchAndTransform, c.ArgoCD, c.Kyverno, c.IngressNginx, c.CertManager)
}

// ChangeSet is the one change set that writes files, as cfg's change
// policy says (on the branch, or on idp/bootstrap-platform for a pull
// request).
func ChangeSet(cfg platformconfig.Config, files Files, opts CommitOptions) gitops.ChangeSet {
	cs := gitops.ChangeSet{
		Message:     opts.Message,
		Author:      opts.Author,
		PullRequest: cfg.ChangePolicy() == platformconfig.ChangePullRequest,
		Slug:        PullRequestSlug,
		// The scan every commit passes, with the platform's exceptions.
		AllowSecrets: cfg.Secrets.Allow,
	}
	if strings.TrimSpace(cs.Message) == "" {
		cs.Message = Message(cfg)
	}
	for _, f := range files {
		cs.Files = append(cs.Files, gitops.FileChange{Path: f.Path, Content: f.Content, Mode: 0o644})
	}
	return cs
}

// Preview renders cfg and shows what committing it would change, without
// writing anything: no changes means the repository is up to date.
func Preview(ctx context.Context, repo *gitops.Repo, cfg platformconfig.Config, opts CommitOptions) (*gitops.Preview, Files, error) {
	files, err := Render(cfg)
	if err != nil {
		return nil, nil, err
	}
	if err := checkBranch(repo, cfg); err != nil {
		return nil, nil, err
	}
	p, err := repo.Preview(ctx, ChangeSet(cfg, files, opts))
	return p, files, err
}

func checkBranch(repo *gitops.Repo, cfg platformconfig.Config) error {
	if b := repo.Branch(); b != cfg.GitOpsBranch() {
		return fmt.Errorf("bootstrap: the GitOps repository is open on branch %s, but Argo CD will follow %s (gitops.branch in %s); open it on %s or change the configuration",
			b, cfg.GitOpsBranch(), platformconfig.Path, cfg.GitOpsBranch())
	}
	return nil
}

// Commit renders cfg and commits the files to the GitOps repository as one
// change set through the gitops engine, and pushes it. It is idempotent:
// when the branch (or the open pull request's branch) already holds exactly
// these files, it commits nothing and says so (Committed.UpToDate). A file
// that differs from what idp renders is overwritten in that one commit; a
// failure leaves the repository as it was (the gitops engine keeps an
// unpushed commit pending, never half of one).
func Commit(ctx context.Context, repo *gitops.Repo, cfg platformconfig.Config, opts CommitOptions) (*Committed, error) {
	files, err := Render(cfg)
	if err != nil {
		return nil, err
	}
	if err := checkBranch(repo, cfg); err != nil {
		return nil, err
	}
	if err := repo.Fetch(ctx); err != nil {
		return nil, err
	}
	cs := ChangeSet(cfg, files, opts)
	p, err := repo.Preview(ctx, cs)
	if err != nil {
		return nil, err
	}
	out := &Committed{Branch: p.Branch, Files: files}
	if len(p.Changes) == 0 {
		out.UpToDate = true
		return out, nil
	}
	cs.Base = p.Base
	res, err := repo.Apply(ctx, cs)
	if errors.Is(err, gitops.ErrNothingToCommit) {
		out.UpToDate = true
		return out, nil
	}
	if err != nil {
		return nil, fmt.Errorf("bootstrap: committing the platform manifests: %w", err)
	}
	out.Commit, out.Branch, out.PullRequestURL, out.Changes = res.Commit, res.Branch, res.PullRequestURL, p.Changes
	return out, nil
}
