package scaffold

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/back-stack/idp/gitops/secrets"
	"github.com/back-stack/idp/platform/forge"
	"github.com/back-stack/idp/platform/platformconfig"
	"github.com/back-stack/idp/platform/templates"
)

// GitOps is what scaffold needs from the GitOps repository; the gitops
// engine provides it (see gitops.go).
type GitOps interface {
	// Exists reports whether path is in the target branch's tip.
	Exists(ctx context.Context, path string) (bool, error)
	// Target is where changes go: the remote URL ("" for a local
	// repository) and the branch.
	Target() (remoteURL, branch string)
	// Preview returns the change as a unified diff, the branch it would go
	// to, and the commit it was computed against.
	Preview(ctx context.Context, c Change) (diff, branch, base string, err error)
	// Apply commits and pushes the change as one commit.
	Apply(ctx context.Context, c Change) (Applied, error)
}

// Change is one GitOps change set.
type Change struct {
	Files       []templates.File
	Message     string
	PullRequest bool
	// Slug names the pull-request branch, idp/<slug>.
	Slug string
	// Base is the commit the preview was made against.
	Base string
	// AllowSecrets are the platform's exceptions to the secret scan
	// (secrets.allow in .idp/platform.yaml).
	AllowSecrets []secrets.Allow
}

// Applied is a pushed GitOps change.
type Applied struct {
	Commit, Branch string
	// CompareURL opens a pull request on forges the engine recognises.
	CompareURL string
}

// RepoWriter writes the first commit of a new service repository.
type RepoWriter interface {
	InitialCommit(ctx context.Context, cloneURL, branch string, files []templates.File, message string) (commit string, err error)
}

// Service is the one code path behind `idp new` and the TUI's New service
// screen.
type Service struct {
	// Templates loads the catalog.
	Templates func(ctx context.Context) (*templates.Catalog, error)
	Forge     forge.Forge
	GitOps    GitOps
	Repos     RepoWriter
	// Platform is .idp/platform.yaml (the zero value means its defaults).
	Platform platformconfig.Config
	Options  Options
	// Public makes new service repositories public (forge.public).
	Public bool
}

// ErrExists is wrapped by Prepare's error for a service that already has a
// repository or a folder in the GitOps repository.
var ErrExists = errors.New("already exists")

// Catalog returns the templates.
func (s *Service) Catalog(ctx context.Context) (*templates.Catalog, error) { return s.Templates(ctx) }

// Prepare runs the template and computes everything the run would write,
// checking that nothing is there yet. It writes nothing.
func (s *Service) Prepare(ctx context.Context, req Request) (*Proposal, error) {
	cat, err := s.Templates(ctx)
	if err != nil {
		return nil, err
	}
	tpl, err := cat.Get(req.Template)
	if err != nil {
		return nil, err
	}
	plan, err := tpl.Execute(req.Values, templates.Env{Repo: func(owner, name string) (string, string) {
		r := s.Forge.Locate(owner, name)
		return r.CloneURL, r.WebURL
	}})
	if err != nil {
		return nil, err
	}
	if s.Public && plan.Repo != nil {
		plan.Repo.Private = false
	}
	p := &Proposal{Request: req, Plan: plan, Service: serviceName(plan), allow: s.Platform.Secrets.Allow}
	if p.Service == "" {
		return nil, fmt.Errorf("template %s neither publishes a repository nor adds an Application: there is no service to create", tpl.Name)
	}
	policy := req.ChangePolicy
	if policy == "" {
		policy = s.Platform.ChangePolicy()
	}
	if policy != platformconfig.ChangeDirect && policy != platformconfig.ChangePullRequest {
		return nil, fmt.Errorf("change policy %q: want %s or %s", policy, platformconfig.ChangeDirect, platformconfig.ChangePullRequest)
	}
	p.ChangePolicy = policy
	if err := s.checkFree(ctx, p); err != nil {
		return nil, err
	}
	if err := s.scanRepoFiles(p); err != nil {
		return nil, err
	}
	if p.GitOpsFiles, err = s.gitopsFiles(plan, tpl.Name); err != nil {
		return nil, err
	}
	p.Message = commitMessage(p)
	if len(p.GitOpsFiles) > 0 {
		p.Diff, p.Branch, p.Base, err = s.GitOps.Preview(ctx, p.change())
		if err != nil {
			return nil, err
		}
	}
	return p, nil
}

// scanRepoFiles runs the secret scan every commit passes on the service
// repository's first commit now, so that the preview and --dry-run refuse
// a credential too, before anything is written anywhere. (The GitOps
// change is scanned by its Preview.)
func (s *Service) scanRepoFiles(p *Proposal) error {
	if p.Plan.Repo == nil {
		return nil
	}
	files := make([]secrets.File, 0, len(p.Plan.Files)+1)
	for _, f := range p.Plan.Files {
		files = append(files, secrets.File{Path: f.Path, Content: f.Content})
	}
	files = append(files, secrets.File{Path: secrets.MessagePath, Content: []byte(p.Plan.Repo.CommitMessage)})
	if err := secrets.Scan(files, s.Platform.Secrets.Allow); err != nil {
		return fmt.Errorf("the service repository %s: %w", p.Repo.CloneURL, err)
	}
	return nil
}

func serviceName(plan *templates.Plan) string {
	switch {
	case plan.Application != nil:
		return plan.Application.Name
	case plan.Repo != nil:
		return plan.Repo.Name
	}
	return ""
}

// checkFree refuses a service whose repository or GitOps folder exists.
func (s *Service) checkFree(ctx context.Context, p *Proposal) error {
	if r := p.Plan.Repo; r != nil {
		p.Repo = s.Forge.Locate(r.Owner, r.Name)
		ok, err := s.Forge.Exists(ctx, r.Owner, r.Name)
		if err != nil {
			return err
		}
		if ok {
			return fmt.Errorf("service %s: the repository %s %w", p.Service, p.Repo.CloneURL, ErrExists)
		}
	}
	if p.Plan.Application != nil || p.Plan.Database != nil {
		dir := AppDir(p.Service)
		ok, err := s.GitOps.Exists(ctx, dir)
		if err != nil {
			return err
		}
		if ok {
			return fmt.Errorf("service %s: %s in the GitOps repository %w", p.Service, dir, ErrExists)
		}
	}
	return nil
}

func (s *Service) gitopsFiles(plan *templates.Plan, template string) ([]templates.File, error) {
	opts := s.Options
	if opts.CrossplaneAPI == "" {
		opts.CrossplaneAPI = s.Platform.CrossplaneAPI()
	}
	service := serviceName(plan)
	var files []templates.File
	add := func(path string, data []byte, err error) error {
		if err == nil {
			files = append(files, templates.File{Path: path, Content: data, Mode: 0o644})
		}
		return err
	}
	if a := plan.Application; a != nil {
		data, err := ApplicationManifest(a, template, opts)
		if err := add(ApplicationPath(service), data, err); err != nil {
			return nil, err
		}
	}
	if d := plan.Database; d != nil {
		data, err := NamespaceManifest(d.Namespace, service)
		if err := add(NamespacePath(service), data, err); err != nil {
			return nil, err
		}
		data, err = DatabaseManifest(d, service, opts)
		if err := add(DatabasePath(service), data, err); err != nil {
			return nil, err
		}
	}
	slices.SortFunc(files, func(a, b templates.File) int { return strings.Compare(a.Path, b.Path) })
	return files, nil
}

func commitMessage(p *Proposal) string {
	var b strings.Builder
	fmt.Fprintf(&b, "New service %s from %s\n\n", p.Service, p.Request.Template)
	if p.Plan.Repo != nil {
		fmt.Fprintf(&b, "Repository: %s\n", p.Repo.CloneURL)
	}
	if p.Plan.Database != nil {
		fmt.Fprintf(&b, "Database: %s (%s, PostgreSQL %s)\n", p.Plan.Database.Name, p.Plan.Database.Size, p.Plan.Database.Version)
	}
	b.WriteString("Created by idp.\n")
	return b.String()
}

func (p *Proposal) change() Change {
	return Change{Files: p.GitOpsFiles, Message: p.Message, PullRequest: p.ChangePolicy == platformconfig.ChangePullRequest,
		Slug: "new-service-" + p.Service, Base: p.Base, AllowSecrets: p.allow}
}

// DryRun is the result Apply would report, without writing anything.
func (p *Proposal) DryRun() *Result {
	r := p.result()
	r.DryRun = true
	return r
}

func (p *Proposal) result() *Result {
	r := &Result{Service: p.Service, Template: p.Request.Template, Notes: slices.Clone(p.Plan.Notes)}
	if p.Plan.Repo != nil {
		r.Repository = RepositoryResult{URL: p.Repo.CloneURL, WebURL: p.Repo.WebURL, Branch: p.Plan.Repo.DefaultBranch}
		for _, f := range p.Plan.Files {
			r.Repository.Files = append(r.Repository.Files, f.Path)
		}
	}
	r.GitOps = GitOpsResult{Policy: p.ChangePolicy, Branch: p.Branch}
	for _, f := range p.GitOpsFiles {
		r.GitOps.Paths = append(r.GitOps.Paths, f.Path)
	}
	return r
}

// Apply creates the service repository with the rendered files as its
// first commit, then commits the GitOps change (directly, or on a branch
// with a pull request). Bad input never gets here: Prepare refused it.
func (s *Service) Apply(ctx context.Context, p *Proposal) (*Result, error) {
	res := p.result()
	if r := p.Plan.Repo; r != nil {
		repo, err := s.Forge.Create(ctx, forge.CreateOptions{
			Owner: r.Owner, Name: r.Name, Description: r.Description, Private: r.Private, DefaultBranch: r.DefaultBranch,
		})
		if err != nil {
			return nil, err
		}
		res.Repository.URL, res.Repository.WebURL = repo.CloneURL, repo.WebURL
		commit, err := s.Repos.InitialCommit(ctx, repo.CloneURL, r.DefaultBranch, p.Plan.Files, r.CommitMessage)
		if err != nil {
			return nil, fmt.Errorf("the repository %s was created, but its first commit failed (nothing was written to the GitOps repository): %w", repo.CloneURL, err)
		}
		res.Repository.Commit = commit
	}
	if len(p.GitOpsFiles) == 0 {
		return res, nil
	}
	applied, err := s.GitOps.Apply(ctx, p.change())
	if err != nil {
		return nil, fmt.Errorf("the service repository %s is in place, but the GitOps change failed: %w", res.Repository.URL, err)
	}
	res.GitOps.Commit, res.GitOps.Branch = applied.Commit, applied.Branch
	if p.ChangePolicy == platformconfig.ChangePullRequest {
		remote, base := s.GitOps.Target()
		url, err := s.Forge.OpenPullRequest(ctx, forge.PullRequest{
			RepoURL: remote, Head: applied.Branch, Base: base,
			Title: strings.SplitN(p.Message, "\n", 2)[0], Body: p.Message,
		})
		switch {
		case err == nil:
			res.GitOps.PullRequestURL = url
		case errors.Is(err, forge.ErrNoPullRequests) || remote == "":
			res.GitOps.PullRequestURL = applied.CompareURL
			res.Notes = append(res.Notes, fmt.Sprintf("branch %s is pushed; open its pull request on your forge", applied.Branch))
		default:
			res.GitOps.PullRequestURL = applied.CompareURL
			res.Notes = append(res.Notes, fmt.Sprintf("branch %s is pushed, but the pull request could not be opened: %v", applied.Branch, err))
		}
	}
	return res, nil
}
