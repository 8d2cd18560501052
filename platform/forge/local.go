package forge

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
)

// Local keeps repositories as bare repositories in a folder:
// DIR/NAME.git, or DIR/OWNER/NAME.git with an owner. A git server that
// serves the folder (git http-backend, gitea's data folder) makes them
// reachable over the network: BaseURL then names the server.
type Local struct {
	// Dir is the folder of bare repositories.
	Dir string
	// BaseURL is the URL the folder is served at; default file://DIR.
	BaseURL string
}

// NewLocal takes a folder or a file:// URL, and an optional base URL.
func NewLocal(dir, baseURL string) (*Local, error) {
	if strings.HasPrefix(dir, "file://") {
		u, err := url.Parse(dir)
		if err != nil {
			return nil, fmt.Errorf("forge: %w", err)
		}
		dir = u.Path
	}
	if dir == "" {
		return nil, errors.New("forge: the local forge needs a folder (forge.dir)")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if baseURL == "" {
		baseURL = (&url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}).String()
	}
	return &Local{Dir: abs, BaseURL: strings.TrimSuffix(baseURL, "/")}, nil
}

func (l *Local) Kind() string { return "local" }

func (l *Local) rel(owner, name string) string {
	if owner == "" {
		return name + ".git"
	}
	return owner + "/" + name + ".git"
}

func (l *Local) Locate(owner, name string) Repo {
	return Repo{Owner: owner, Name: name, CloneURL: l.BaseURL + "/" + l.rel(owner, name), DefaultBranch: "main"}
}

func (l *Local) path(owner, name string) (string, error) {
	if err := checkName("owner", owner, true); err != nil {
		return "", err
	}
	if err := checkName("repository name", name, false); err != nil {
		return "", err
	}
	return filepath.Join(l.Dir, filepath.FromSlash(l.rel(owner, name))), nil
}

func (l *Local) Exists(_ context.Context, owner, name string) (bool, error) {
	p, err := l.path(owner, name)
	if err != nil {
		return false, err
	}
	_, err = os.Stat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}

// Create initialises an empty bare repository whose HEAD is the default
// branch, as `git init --bare --initial-branch` does.
func (l *Local) Create(ctx context.Context, o CreateOptions) (Repo, error) {
	p, err := l.path(o.Owner, o.Name)
	if err != nil {
		return Repo{}, err
	}
	if ok, err := l.Exists(ctx, o.Owner, o.Name); err != nil {
		return Repo{}, err
	} else if ok {
		return Repo{}, fmt.Errorf("forge: %s: %w", p, ErrExists)
	}
	branch := o.DefaultBranch
	if branch == "" {
		branch = "main"
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return Repo{}, err
	}
	_, err = git.PlainInitWithOptions(p, &git.PlainInitOptions{
		Bare:        true,
		InitOptions: git.InitOptions{DefaultBranch: plumbing.NewBranchReferenceName(branch)},
	})
	if err != nil {
		return Repo{}, fmt.Errorf("forge: creating %s: %w", p, err)
	}
	if o.Description != "" { // what gitweb and cgit show
		_ = os.WriteFile(filepath.Join(p, "description"), []byte(o.Description+"\n"), 0o644)
	}
	r := l.Locate(o.Owner, o.Name)
	r.DefaultBranch = branch
	return r, nil
}

func (l *Local) OpenPullRequest(context.Context, PullRequest) (string, error) {
	return "", ErrNoPullRequests
}
