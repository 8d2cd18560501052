package aks

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"

	"github.com/back-stack/idp/gitops"
	"github.com/back-stack/idp/platform/platformconfig"
)

// Target says where the cluster's name and the audit log come from.
type Target struct {
	// GitOps is the GitOps repository (path or URL); "" for none. Its
	// .idp/platform.yaml names the cluster, and power actions are recorded
	// in it.
	GitOps     string
	GitOptions gitops.Options
	// Flags name the cluster on the command line; they win over the
	// platform configuration, field by field.
	Flags Ref
	// Credential defaults to DefaultCredential; ClientOptions to Azure
	// itself. Tests and the demo route both to akstest.
	Credential    azcore.TokenCredential
	ClientOptions *arm.ClientOptions
	// PollEvery overrides the pause between polls of an operation.
	PollEvery time.Duration
}

// Connect opens the GitOps repository, reads the platform configuration and
// returns a client for the cluster with an auditor that commits to the
// repository. Without a repository the auditor is nil: status works, and Do
// refuses to act.
func (t Target) Connect(ctx context.Context) (*Client, Auditor, error) {
	var fromConfig Ref
	var audit Auditor
	if t.GitOps != "" {
		repo, err := gitops.Open(ctx, t.GitOps, t.GitOptions)
		if err != nil {
			return nil, nil, fmt.Errorf("opening the GitOps repository %s: %w", t.GitOps, err)
		}
		cfg, err := readPlatformConfig(ctx, repo)
		if err != nil {
			return nil, nil, err
		}
		fromConfig = Ref{SubscriptionID: cfg.Azure.SubscriptionID, ResourceGroup: cfg.Azure.ResourceGroup, Name: cfg.Azure.AKS.Name}
		audit = &GitAuditor{Repo: repo}
	}
	ref := t.Flags.Or(fromConfig)
	if err := ref.Validate(); err != nil && t.GitOps == "" {
		return nil, nil, fmt.Errorf("%w; no GitOps repository is set to read them from: pass --gitops (or set gitops: in the idp config)", err)
	}
	cred := t.Credential
	if cred == nil {
		var err error
		if cred, err = DefaultCredential(); err != nil {
			return nil, nil, fmt.Errorf("Azure credentials: %w", err)
		}
	}
	c, err := NewClient(ref, cred, t.ClientOptions)
	if err != nil {
		return nil, nil, err
	}
	if t.PollEvery > 0 {
		c.PollEvery = t.PollEvery
	}
	return c, audit, nil
}

// readPlatformConfig reads .idp/platform.yaml at the branch tip; a repository
// without one (or without any commit yet) gives the empty configuration.
func readPlatformConfig(ctx context.Context, repo *gitops.Repo) (platformconfig.Config, error) {
	data, err := repo.ReadFile(ctx, "", platformconfig.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return platformconfig.Config{}, nil
	}
	if err != nil {
		return platformconfig.Config{}, fmt.Errorf("reading %s from the GitOps repository: %w", platformconfig.Path, err)
	}
	return platformconfig.Parse(data)
}

// Or fills r's empty fields from o.
func (r Ref) Or(o Ref) Ref {
	if r.SubscriptionID == "" {
		r.SubscriptionID = o.SubscriptionID
	}
	if r.ResourceGroup == "" {
		r.ResourceGroup = o.ResourceGroup
	}
	if r.Name == "" {
		r.Name = o.Name
	}
	return r
}

// GitAuditor records power actions as commits under .idp/audit/ on the GitOps
// repository's branch: an audit log is appended to directly, never through
// a pull request.
type GitAuditor struct {
	Repo *gitops.Repo
}

// Record commits res and pushes it.
func (g *GitAuditor) Record(ctx context.Context, res Result) (string, error) {
	who, err := g.Repo.Author()
	if err != nil {
		return "", err
	}
	rec := NewRecord(res, fmt.Sprintf("%s <%s>", who.Name, who.Email))
	data, err := rec.YAML()
	if err != nil {
		return "", err
	}
	r, err := g.Repo.Apply(ctx, gitops.ChangeSet{
		Message: rec.Message(),
		Files:   []gitops.FileChange{{Path: rec.Path(), Content: data}},
	})
	if err != nil {
		return "", err
	}
	return r.Commit, nil
}
