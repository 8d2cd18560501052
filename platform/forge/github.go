package forge

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/go-github/v84/github"
	"go.yaml.in/yaml/v3"
)

// GitHub creates repositories on github.com or a GitHub Enterprise server,
// in an organisation or under the token's user, private unless asked.
type GitHub struct {
	client *github.Client
	// Owner is the default owner: the organisation from the config, else
	// the token's user.
	Owner string
	// host is the web host (github.com or the Enterprise host).
	host string
	user string
}

// GitHubOptions configure NewGitHub.
type GitHubOptions struct {
	Token string
	// Owner is the organisation (or user) new repositories go to; empty
	// means the token's user.
	Owner string
	// BaseURL is a GitHub Enterprise server's API URL
	// (https://ghe.example.com/api/v3/); empty means github.com.
	BaseURL string
	// HTTPClient overrides http.DefaultClient (tests, proxies).
	HTTPClient *http.Client
}

// NewGitHub makes the client and, to know the default owner, asks GitHub
// who the token belongs to.
func NewGitHub(ctx context.Context, o GitHubOptions) (*GitHub, error) {
	if o.Token == "" {
		return nil, errors.New("forge: no GitHub token: set GITHUB_TOKEN (or run `gh auth login`; if gh keeps its token in the keyring, export GITHUB_TOKEN=$(gh auth token))")
	}
	c := github.NewClient(o.HTTPClient).WithAuthToken(o.Token)
	host := "github.com"
	if o.BaseURL != "" {
		var err error
		if c, err = c.WithEnterpriseURLs(o.BaseURL, o.BaseURL); err != nil {
			return nil, fmt.Errorf("forge: GitHub base URL %q: %w", o.BaseURL, err)
		}
		u, _ := url.Parse(o.BaseURL)
		host = u.Host
	}
	me, _, err := c.Users.Get(ctx, "")
	if err != nil {
		return nil, fmt.Errorf("forge: asking GitHub who the token belongs to: %w", err)
	}
	g := &GitHub{client: c, Owner: o.Owner, host: host, user: me.GetLogin()}
	if g.Owner == "" {
		g.Owner = g.user
	}
	return g, nil
}

func (g *GitHub) Kind() string { return "github" }

func (g *GitHub) owner(o string) string {
	if o == "" {
		return g.Owner
	}
	return o
}

func (g *GitHub) Locate(owner, name string) Repo {
	owner = g.owner(owner)
	web := "https://" + g.host + "/" + owner + "/" + name
	return Repo{Owner: owner, Name: name, CloneURL: web + ".git", WebURL: web, DefaultBranch: "main"}
}

func (g *GitHub) Exists(ctx context.Context, owner, name string) (bool, error) {
	_, resp, err := g.client.Repositories.Get(ctx, g.owner(owner), name)
	if resp != nil && resp.StatusCode == http.StatusNotFound {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("forge: GitHub: %w", err)
	}
	return true, nil
}

// Create makes an empty repository (no README, so idp's first commit is
// the first commit): in the organisation Owner, or the user's own.
func (g *GitHub) Create(ctx context.Context, o CreateOptions) (Repo, error) {
	if err := checkName("repository name", o.Name, false); err != nil {
		return Repo{}, err
	}
	owner := g.owner(o.Owner)
	org := owner
	if strings.EqualFold(owner, g.user) {
		org = "" // the authenticated user's own repositories
	}
	repo := &github.Repository{Name: github.Ptr(o.Name), Private: github.Ptr(o.Private), AutoInit: github.Ptr(false)}
	if o.Description != "" {
		repo.Description = github.Ptr(o.Description)
	}
	created, resp, err := g.client.Repositories.Create(ctx, org, repo)
	if err != nil {
		if resp != nil && resp.StatusCode == http.StatusUnprocessableEntity && strings.Contains(err.Error(), "already exists") {
			return Repo{}, fmt.Errorf("forge: %s/%s: %w", owner, o.Name, ErrExists)
		}
		return Repo{}, fmt.Errorf("forge: creating %s/%s on GitHub: %w", owner, o.Name, err)
	}
	r := g.Locate(owner, o.Name)
	if u := created.GetCloneURL(); u != "" {
		r.CloneURL = u
	}
	if u := created.GetHTMLURL(); u != "" {
		r.WebURL = u
	}
	r.DefaultBranch = o.DefaultBranch
	if r.DefaultBranch == "" {
		r.DefaultBranch = "main"
	}
	return r, nil
}

// OpenPullRequest opens a pull request in the repository RepoURL names
// (https or ssh form, on this forge's host).
func (g *GitHub) OpenPullRequest(ctx context.Context, pr PullRequest) (string, error) {
	owner, repo, err := g.ownerRepo(pr.RepoURL)
	if err != nil {
		return "", err
	}
	created, _, err := g.client.PullRequests.Create(ctx, owner, repo, &github.NewPullRequest{
		Title: github.Ptr(pr.Title), Head: github.Ptr(pr.Head), Base: github.Ptr(pr.Base), Body: github.Ptr(pr.Body),
	})
	if err != nil {
		return "", fmt.Errorf("forge: opening a pull request in %s/%s: %w", owner, repo, err)
	}
	return created.GetHTMLURL(), nil
}

// ownerRepo reads owner and name from https://host/o/r(.git),
// ssh://git@host/o/r.git or git@host:o/r.git.
func (g *GitHub) ownerRepo(remote string) (string, string, error) {
	var host, p string
	if i := strings.Index(remote, "://"); i >= 0 {
		u, err := url.Parse(remote)
		if err != nil {
			return "", "", fmt.Errorf("forge: %q: %w", remote, err)
		}
		host, p = u.Host, u.Path
		if u.Scheme == "ssh" {
			host = u.Hostname()
		}
	} else if at, colon := strings.Index(remote, "@"), strings.Index(remote, ":"); at >= 0 && colon > at {
		host, p = remote[at+1:colon], remote[colon+1:]
	}
	parts := strings.Split(strings.Trim(strings.TrimSuffix(strings.Trim(p, "/"), ".git"), "/"), "/")
	webHost, _, _ := strings.Cut(g.host, ":")
	if !(strings.EqualFold(host, g.host) || strings.EqualFold(host, webHost)) || len(parts) != 2 || parts[0] == "" || parts[1] == "" {
		return "", "", fmt.Errorf("forge: %q is not a repository on %s", remote, g.host)
	}
	return parts[0], parts[1], nil
}

// GitHubToken finds a token for host: GITHUB_TOKEN or GH_TOKEN (for
// github.com), GH_ENTERPRISE_TOKEN or GITHUB_ENTERPRISE_TOKEN (for other
// hosts), else the oauth_token gh keeps in its hosts.yml.
func GitHubToken(host string) string {
	vars := []string{"GITHUB_TOKEN", "GH_TOKEN"}
	if host != "" && host != "github.com" {
		vars = []string{"GH_ENTERPRISE_TOKEN", "GITHUB_ENTERPRISE_TOKEN"}
	}
	for _, v := range vars {
		if t := os.Getenv(v); t != "" {
			return t
		}
	}
	if host == "" {
		host = "github.com"
	}
	data, err := os.ReadFile(ghHostsFile())
	if err != nil {
		return ""
	}
	var hosts map[string]struct {
		OAuthToken string `yaml:"oauth_token"`
	}
	if yaml.Unmarshal(data, &hosts) != nil {
		return ""
	}
	return hosts[host].OAuthToken
}

func ghHostsFile() string {
	if d := os.Getenv("GH_CONFIG_DIR"); d != "" {
		return filepath.Join(d, "hosts.yml")
	}
	if d := os.Getenv("XDG_CONFIG_HOME"); d != "" {
		return filepath.Join(d, "gh", "hosts.yml")
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".config", "gh", "hosts.yml")
}
