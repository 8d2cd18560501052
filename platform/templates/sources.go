package templates

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"path"
	"strings"
)

// Redact hides a password in a URL for messages.
func Redact(u string) string {
	scheme, rest, ok := strings.Cut(u, "://")
	if !ok {
		return u
	}
	if at := strings.LastIndex(rest, "@"); at >= 0 {
		if user, _, hasPass := strings.Cut(rest[:at], ":"); hasPass {
			return scheme + "://" + user + ":***@" + rest[at+1:]
		}
	}
	return u
}

// GitSource is a template source, Location target or skeleton in a Git
// repository: the repository to clone, a ref and a path inside it.
type GitSource struct {
	Repo string // what git clones
	Ref  string // branch, tag or commit; "" for the default branch
	Path string // slash-separated, inside the repository; "" for its root
	Raw  string // as written
}

// Display is the source as written, without a password.
func (g GitSource) Display() string { return Redact(g.Raw) }

// ParseGitSource reads the ways people point at a folder or file in a Git
// repository:
//
//	https://github.com/org/repo/tree/main/templates     (GitHub, Gitea, Forgejo: tree or blob)
//	https://gitlab.com/group/repo/-/tree/main/templates (GitLab: -/tree or -/blob)
//	https://bitbucket.org/org/repo/src/main/templates   (Bitbucket)
//	https://dev.azure.com/org/project/_git/repo?path=/templates&version=GBmain (Azure DevOps)
//	https://host/org/repo.git//templates?ref=v2          (a path after //, a ref in ?ref=)
//	https://host/org/repo.git, git@host:org/repo.git     (the whole repository, default branch)
func ParseGitSource(raw string) (GitSource, error) {
	g := GitSource{Raw: raw}
	s := raw
	if !strings.Contains(s, "://") { // scp-like: git@host:org/repo.git//path?ref=x
		s, g.Ref = cutQueryRef(s)
		if repo, p, ok := strings.Cut(strings.SplitN(s, ":", 2)[1], "//"); ok {
			g.Repo = strings.SplitN(s, ":", 2)[0] + ":" + repo
			g.Path = p
		} else {
			g.Repo = s
		}
		return g.clean()
	}
	u, err := url.Parse(s)
	if err != nil {
		return g, fmt.Errorf("%s is not a URL: %v", Redact(raw), err)
	}
	q := u.Query()
	if strings.Contains(u.Path, "/_git/") { // Azure DevOps
		g.Path = strings.TrimPrefix(q.Get("path"), "/")
		v := q.Get("version")
		for _, pre := range []string{"GB", "GT", "GC"} {
			v = strings.TrimPrefix(v, pre)
		}
		g.Ref = v
		u.RawQuery = ""
		g.Repo = u.String()
		return g.clean()
	}
	g.Ref = q.Get("ref")
	q.Del("ref")
	u.RawQuery = q.Encode()
	p := u.Path
	if repo, sub, ok := strings.Cut(p, ".git//"); ok {
		u.Path = repo + ".git"
		g.Path = sub
		g.Repo = u.String()
		return g.clean()
	}
	if repo, sub, ok := strings.Cut(p, "//"); ok && repo != "" {
		u.Path = repo
		g.Path = sub
		g.Repo = u.String()
		return g.clean()
	}
	parts := strings.Split(strings.Trim(p, "/"), "/")
	for i, part := range parts {
		kind := part
		if part == "-" && i+1 < len(parts) { // GitLab's /-/tree/
			continue
		}
		if (kind == "tree" || kind == "blob" || kind == "src" || kind == "raw") && i >= 2 && i+1 < len(parts) {
			repoParts := parts[:i]
			if repoParts[len(repoParts)-1] == "-" {
				repoParts = repoParts[:len(repoParts)-1]
			}
			u.Path = "/" + strings.Join(repoParts, "/")
			if !strings.HasSuffix(u.Path, ".git") && strings.HasSuffix(u.Host, "github.com") {
				u.Path += ".git"
			}
			g.Ref = parts[i+1]
			g.Path = strings.Join(parts[i+2:], "/")
			g.Repo = u.String()
			return g.clean()
		}
	}
	g.Repo = u.String()
	return g.clean()
}

func cutQueryRef(s string) (string, string) {
	base, q, ok := strings.Cut(s, "?")
	if !ok {
		return s, ""
	}
	vals, _ := url.ParseQuery(q)
	return base, vals.Get("ref")
}

func (g GitSource) clean() (GitSource, error) {
	if g.Path != "" {
		p, err := CleanRelPath(strings.Trim(g.Path, "/"))
		if err != nil {
			return g, fmt.Errorf("%s: %w", g.Display(), err)
		}
		g.Path = p
	}
	if g.Repo == "" {
		return g, fmt.Errorf("%s names no repository", g.Display())
	}
	return g, nil
}

// clone reads a Git source's repository once per catalog.
func (c *Catalog) clone(g GitSource) (*rootFS, error) {
	if c.Clone == nil {
		return nil, fmt.Errorf("%s is a Git URL and no Git access is configured here", g.Display())
	}
	key := g.Repo + "\x00" + g.Ref
	if r, ok := c.clones[key]; ok {
		return r, nil
	}
	ctx := c.Context
	if ctx == nil {
		ctx = context.Background()
	}
	fsys, err := c.Clone(ctx, g.Repo, g.Ref)
	if err != nil {
		return nil, err
	}
	r := newRootFS(fsys, Redact(g.Repo))
	if c.clones == nil {
		c.clones = map[string]*rootFS{}
	}
	c.clones[key] = r
	return r, nil
}

// fetchRemotes reads, when the template loads, the Git repositories its
// fetch steps name with absolute URLs, so that a run reads nothing but
// what was loaded.
func (c *Catalog) fetchRemotes(t *Template) error {
	for i, s := range t.Steps {
		if !strings.HasPrefix(s.Action, "fetch:") {
			continue
		}
		u, _ := s.Input["url"].(string)
		if !strings.Contains(u, "://") || strings.Contains(u, "${{") {
			continue
		}
		g, err := ParseGitSource(u)
		if err != nil {
			return fmt.Errorf("step %d (%s): url: %w", i+1, stepLabel(s), err)
		}
		r, err := c.clone(g)
		if err != nil {
			return fmt.Errorf("step %d (%s): url %s: %w", i+1, stepLabel(s), g.Display(), err)
		}
		if t.remote == nil {
			t.remote = map[string]remoteSkeleton{}
		}
		t.remote[u] = remoteSkeleton{fsys: r, path: orDot(g.Path)}
	}
	return nil
}

// remoteSkeleton is a fetch url that points into a Git repository.
type remoteSkeleton struct {
	fsys *rootFS
	path string
}

// Sources loads the built-in templates and then each source in order:
// folders and files on disk, and Git URLs (with a ref and a path, see
// ParseGitSource) read with clone (scaffold.TemplateRepoFS in the binary).
// A source that cannot be read is listed in Broken like a template that
// cannot be loaded: it never hides the others.
func Sources(ctx context.Context, builtin fs.FS, sources []string, clone func(ctx context.Context, repoURL, ref string) (fs.FS, error)) (*Catalog, error) {
	c := &Catalog{Clone: clone, Context: ctx}
	if builtin != nil {
		if err := c.LoadFS(builtin, ".", BuiltinSource); err != nil {
			return nil, err
		}
	}
	for _, s := range sources {
		var err error
		if IsGitURL(s) {
			err = c.loadGit(s)
		} else {
			err = c.LoadDir(s)
		}
		if err != nil {
			c.broken(&Broken{Source: Redact(s), Origin: Redact(s), Err: err})
		}
	}
	return c, nil
}

func (c *Catalog) loadGit(s string) error {
	g, err := ParseGitSource(s)
	if err != nil {
		return err
	}
	r, err := c.clone(g)
	if err != nil {
		return err
	}
	return c.load(r, orDot(g.Path), g.Display())
}

// errRemoteTemplated is a fetch url that is a URL only once rendered.
var errRemoteTemplated = errors.New("points at a Git repository that was not read when the template loaded: idp reads skeleton URLs as the template loads, so they must be written out, not computed from the answers")

func isRemote(u string) bool { return strings.Contains(u, "://") }

// skeletonRoot is where a fetch url points: the template's own source
// (a path from the template's folder, which may go up with ../ but never
// above the source) or a Git repository read at load time.
func (t *Template) skeletonRoot(u string) (*rootFS, string, error) {
	if isRemote(u) {
		r, ok := t.remote[u]
		if !ok {
			return nil, "", fmt.Errorf("url %s: %w", Redact(u), errRemoteTemplated)
		}
		return r.fsys, r.path, nil
	}
	if strings.HasPrefix(u, "/") || (len(u) >= 2 && u[1] == ':') {
		return nil, "", &PathError{Path: u, Reason: "is absolute; it must be relative to the template's folder"}
	}
	if strings.Contains(u, `\`) {
		return nil, "", &PathError{Path: u, Reason: `contains a backslash; use "/"`}
	}
	p := path.Join(orDot(t.dir), u)
	if p == ".." || strings.HasPrefix(p, "../") {
		return nil, "", &PathError{Path: u, Reason: "leaves the template's source (a ../ may go up only inside the same folder or repository)"}
	}
	if _, err := CleanRelPath(p); err != nil {
		return nil, "", err
	}
	r, ok := t.fsys.(*rootFS)
	if !ok {
		if t.fsys == nil {
			return nil, "", errors.New("the template has no folder to read its skeleton from")
		}
		r = newRootFS(t.fsys, t.Source)
		t.fsys = r
	}
	return r, p, nil
}
