package scaffold

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"testing/fstest"

	"github.com/back-stack/idp/gitops"
	"github.com/back-stack/idp/gitops/secrets"
	"github.com/back-stack/idp/platform/templates"
)

// Engine adapts the gitops engine to what scaffold needs: GitOps over the
// platform's repository, RepoWriter for new service repositories.
type Engine struct {
	// Repo is the open GitOps repository.
	Repo *gitops.Repo
	// Options open new service repositories (credentials, identity, cache).
	Options gitops.Options
	// AllowSecrets are the platform's exceptions to the secret scan of a
	// new repository's first commit.
	AllowSecrets []secrets.Allow
}

// Exists reports whether path is in the tip of the GitOps branch; an empty
// branch has nothing.
func (e *Engine) Exists(ctx context.Context, path string) (bool, error) {
	if _, err := e.Repo.ReadFile(ctx, "", path); err == nil {
		return true, nil
	}
	_, err := e.Repo.List(ctx, "", path)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	}
	return false, err
}

func (e *Engine) Target() (string, string) { return e.Repo.RemoteURL(), e.Repo.Branch() }

func changeSet(c Change) gitops.ChangeSet {
	cs := gitops.ChangeSet{Message: c.Message, PullRequest: c.PullRequest, Slug: c.Slug, Base: c.Base, AllowSecrets: c.AllowSecrets}
	for _, f := range c.Files {
		cs.Files = append(cs.Files, gitops.FileChange{Path: f.Path, Content: f.Content, Mode: f.Mode})
	}
	return cs
}

func (e *Engine) Preview(ctx context.Context, c Change) (string, string, string, error) {
	p, err := e.Repo.Preview(ctx, changeSet(c))
	if err != nil {
		return "", "", "", err
	}
	return p.Diff, p.Branch, p.Base, nil
}

func (e *Engine) Apply(ctx context.Context, c Change) (Applied, error) {
	res, err := e.Repo.Apply(ctx, changeSet(c))
	if err != nil {
		return Applied{}, err
	}
	return Applied{Commit: res.Commit, Branch: res.Branch, CompareURL: res.PullRequestURL}, nil
}

// InitialCommit opens the new, empty repository and commits the files to
// branch as its first commit.
func (e *Engine) InitialCommit(ctx context.Context, cloneURL, branch string, files []templates.File, message string) (string, error) {
	opts := e.Options
	opts.Branch = branch
	repo, err := gitops.Open(ctx, cloneURL, opts)
	if err != nil {
		return "", err
	}
	defer repo.Close()
	res, err := repo.Apply(ctx, changeSet(Change{Files: files, Message: message, AllowSecrets: e.AllowSecrets}))
	if err != nil {
		return "", err
	}
	return res.Commit, nil
}

// TemplateRepoFS reads a template repository through the gitops engine
// (its cache, and its credentials: IDP_GIT_TOKEN, forge tokens, the git
// credential helper, the ssh agent): the files at ref (a branch or a
// commit; "" for the tip of the default branch), symbolic links kept as
// links for templates to resolve and check, for templates.Sources.
func TemplateRepoFS(ctx context.Context, url, ref string, opts gitops.Options) (fs.FS, error) {
	repo, err := gitops.Open(ctx, url, opts)
	if err != nil {
		return nil, err
	}
	defer repo.Close()
	entries, err := repo.List(ctx, ref, "")
	if err != nil {
		return nil, fmt.Errorf("template repository %s: %w", repo.RemoteURL(), err)
	}
	out := fstest.MapFS{}
	total := 0
	for _, e := range entries {
		var data []byte
		if e.Mode&fs.ModeSymlink != 0 {
			target, err := repo.ReadLink(ctx, ref, e.Path)
			if err != nil {
				return nil, err
			}
			data = []byte(target)
		} else if data, err = repo.ReadFile(ctx, ref, e.Path); err != nil {
			return nil, err
		}
		if total += len(data); total > maxTemplateRepoBytes {
			return nil, fmt.Errorf("template repository %s holds more than %d MiB", repo.RemoteURL(), maxTemplateRepoBytes>>20)
		}
		out[e.Path] = &fstest.MapFile{Data: data, Mode: e.Mode}
	}
	return out, nil
}

// maxTemplateRepoBytes bounds what a template repository may hold in memory.
const maxTemplateRepoBytes = 64 << 20
