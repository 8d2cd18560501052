// Package forge creates service repositories and opens pull requests on
// the place an organisation keeps its Git repositories: a local folder of
// bare repositories (also what a git server serves) or GitHub.
package forge

import (
	"context"
	"errors"
	"fmt"
	"regexp"
)

// Repo is a repository on a forge.
type Repo struct {
	Owner, Name string
	// CloneURL is what git clones from and pushes to.
	CloneURL string
	// WebURL is the page people open; "" when the forge has none.
	WebURL        string
	DefaultBranch string
}

// CreateOptions describe a new repository.
type CreateOptions struct {
	Owner, Name, Description string
	Private                  bool
	// DefaultBranch names the branch the first push creates; default main.
	DefaultBranch string
}

// PullRequest asks to merge Head into Base in the repository at RepoURL.
type PullRequest struct {
	RepoURL     string
	Head, Base  string
	Title, Body string
}

// ErrExists is returned by Create for a repository that is already there.
var ErrExists = errors.New("the repository already exists")

// ErrNoPullRequests is returned by forges that cannot open pull requests
// (a folder of bare repositories): the branch is pushed and that is all.
var ErrNoPullRequests = errors.New("this forge has no pull requests")

// Forge is what idp needs from a forge.
type Forge interface {
	// Kind names the forge type ("local", "github").
	Kind() string
	// Locate says where owner/name lives (owner "" is the forge's default
	// owner), without asking the forge.
	Locate(owner, name string) Repo
	// Exists reports whether owner/name exists.
	Exists(ctx context.Context, owner, name string) (bool, error)
	// Create makes an empty repository, or fails with ErrExists.
	Create(ctx context.Context, o CreateOptions) (Repo, error)
	// OpenPullRequest opens a pull request and returns its web URL.
	OpenPullRequest(ctx context.Context, pr PullRequest) (string, error)
}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)

// checkName refuses names that are not one path segment.
func checkName(what, s string, optional bool) error {
	if s == "" && optional {
		return nil
	}
	if s == "" || s == "." || s == ".." || !nameRE.MatchString(s) || len(s) > 100 {
		return fmt.Errorf("forge: %s %q: use letters, digits, '-', '_' and '.'", what, s)
	}
	return nil
}
