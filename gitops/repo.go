package gitops

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/transport"
)

// Options tune how a repository is opened and written.
type Options struct {
	// CacheDir holds the clones of remote URLs; default
	// <user cache dir>/idp/repos.
	CacheDir string
	// Branch is where change sets go; default: the remote's default branch.
	Branch string
	// Remote names the remote of a local clone; default "origin".
	Remote string
	// Identity overrides the author and committer from git config.
	Identity *Signature
	// Token and Username are https credentials that win over the
	// environment and the credential helper.
	Token, Username string
	// SSHKeyFile is a private key for ssh remotes (default: IDP_SSH_KEY,
	// then the ssh agent, then ~/.ssh/id_*).
	SSHKeyFile string
	// Forge names the kind of server for pull-request links: "github",
	// "azure" or "gitea"; empty recognises the public ones by host name.
	Forge string
	// MaxAttempts bounds the pushes of one change set when the remote
	// rejects them because it moved on; default 5.
	MaxAttempts int
	// Progress receives the remote's progress and messages.
	Progress io.Writer
}

// Repo is a GitOps repository: a local clone idp writes objects and refs
// into (never its work tree or index), or, for a remote URL, a bare clone in
// idp's cache. A Repo is safe for concurrent use, and several processes may
// use one clone: changes happen under a lock on the clone.
type Repo struct {
	mu       sync.Mutex
	opts     Options
	gitDir   string
	workDir  string // "" for a bare repository
	st       *store
	lockFile string
	cached   bool        // a clone in idp's cache, which nobody else writes
	remote   *remoteInfo // nil: change sets go straight to the repository's own branch
	branch   string

	helperAuth transport.AuthMethod
	helperCred map[string]string
}

// Open opens the GitOps repository at source: a path to a local clone (or a
// bare repository), or a remote URL (https, ssh, scp-like, file) that is
// cloned into the cache on first use and fetched on every Open.
func Open(ctx context.Context, source string, opts Options) (*Repo, error) {
	if opts.Remote == "" {
		opts.Remote = "origin"
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = 5
	}
	if isURL(source) {
		return openRemote(ctx, source, opts)
	}
	return openLocal(ctx, source, opts)
}

// Close releases the files the repository keeps open.
func (r *Repo) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.st.Close()
}

// Dir is the repository's git directory (the cache clone for a URL).
func (r *Repo) Dir() string { return r.gitDir }

// Branch is the branch change sets go to.
func (r *Repo) Branch() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.branch
}

// RemoteURL is the URL pushes go to, without credentials; "" when change
// sets are committed straight into a local repository.
func (r *Repo) RemoteURL() string {
	if r.remote == nil {
		return ""
	}
	return r.remote.url
}

func openLocal(ctx context.Context, path string, opts Options) (*Repo, error) {
	gitDir, workDir, err := findGitDir(path)
	if err != nil {
		return nil, err
	}
	r := &Repo{opts: opts, gitDir: gitDir, workDir: workDir, st: openStore(gitDir)}
	r.lockFile = filepath.Join(gitDir, "idp", "lock")
	cfg, err := r.st.Config()
	if err != nil {
		r.st.Close()
		return nil, fmt.Errorf("gitops: reading %s/config: %w", gitDir, err)
	}
	if rc, ok := cfg.Remotes[opts.Remote]; ok && len(rc.URLs) > 0 {
		if r.remote, err = newRemoteInfo(opts.Remote, rc.URLs[0]); err != nil {
			r.st.Close()
			return nil, err
		}
	}
	r.branch = opts.Branch
	if r.branch == "" {
		r.branch = r.localDefaultBranch()
	}
	if r.remote != nil {
		if err := r.Fetch(ctx); err != nil {
			r.st.Close()
			return nil, err
		}
	}
	return r, nil
}

// localDefaultBranch guesses the default branch before asking the remote.
func (r *Repo) localDefaultBranch() string {
	if r.remote != nil {
		if ref, err := r.st.Reference(plumbing.ReferenceName("refs/remotes/" + r.remote.name + "/HEAD")); err == nil && ref.Type() == plumbing.SymbolicReference {
			return strings.TrimPrefix(ref.Target().String(), "refs/remotes/"+r.remote.name+"/")
		}
		for _, b := range []string{"main", "master"} {
			if _, err := r.st.Reference(r.trackingRef(b)); err == nil {
				return b
			}
		}
		return "main"
	}
	if ref, err := r.st.Reference(plumbing.HEAD); err == nil && ref.Type() == plumbing.SymbolicReference && ref.Target().IsBranch() {
		return ref.Target().Short()
	}
	return "main"
}

// findGitDir walks up from path to the repository: a work tree with a .git
// directory (or a .git file, for linked work trees and submodules), or a
// bare repository.
func findGitDir(path string) (gitDir, workDir string, err error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", "", err
	}
	for dir := abs; ; {
		dotgit := filepath.Join(dir, ".git")
		if fi, err := os.Stat(dotgit); err == nil {
			if fi.IsDir() {
				return commonDir(dotgit), dir, nil
			}
			data, err := os.ReadFile(dotgit)
			if err != nil {
				return "", "", err
			}
			target, ok := strings.CutPrefix(strings.TrimSpace(string(data)), "gitdir: ")
			if !ok {
				return "", "", fmt.Errorf("gitops: %s is not a gitdir file", dotgit)
			}
			if !filepath.IsAbs(target) {
				target = filepath.Join(dir, target)
			}
			return commonDir(target), dir, nil
		}
		if isBare(dir) {
			return dir, "", nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", "", fmt.Errorf("gitops: %s is not inside a git repository", path)
		}
		dir = parent
	}
}

func isBare(dir string) bool {
	for _, p := range []string{"HEAD", "objects", "refs"} {
		if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
			return false
		}
	}
	return true
}

// commonDir follows a linked work tree's commondir to where objects and
// refs live.
func commonDir(gitDir string) string {
	data, err := os.ReadFile(filepath.Join(gitDir, "commondir"))
	if err != nil {
		return gitDir
	}
	c := strings.TrimSpace(string(data))
	if !filepath.IsAbs(c) {
		c = filepath.Join(gitDir, c)
	}
	return filepath.Clean(c)
}

// cacheKey names a URL's clone: the same repository under the same URL
// shares one clone, whatever credentials were used.
func cacheKey(url string) string {
	sum := sha256.Sum256([]byte(strings.TrimSuffix(strings.TrimSuffix(url, "/"), ".git")))
	return hex.EncodeToString(sum[:])[:20]
}

func openRemote(ctx context.Context, source string, opts Options) (*Repo, error) {
	ri, err := newRemoteInfo("origin", source)
	if err != nil {
		return nil, err
	}
	cache := opts.CacheDir
	if cache == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			return nil, fmt.Errorf("gitops: no cache directory for clones (set Options.CacheDir): %w", err)
		}
		cache = filepath.Join(base, "idp", "repos")
	}
	key := cacheKey(ri.url)
	dir := filepath.Join(cache, key)
	r := &Repo{opts: opts, gitDir: dir, cached: true, remote: ri, lockFile: dir + ".lock", branch: opts.Branch}
	lock, err := lockPath(ctx, r.lockFile)
	if err != nil {
		return nil, err
	}
	defer lock.release()
	if !isBare(dir) {
		if err := r.clone(ctx, cache, key); err != nil {
			return nil, err
		}
		return r, nil
	}
	r.st = openStore(dir)
	if err := r.prepare(); err != nil {
		r.st.Close()
		return nil, err
	}
	if r.branch == "" {
		r.branch = r.localDefaultBranch()
	}
	if _, err := r.fetch(ctx); err != nil {
		r.st.Close()
		return nil, err
	}
	return r, nil
}

// clone makes a bare clone in a temporary folder and renames it into place
// when complete, so a run killed mid-clone leaves nothing half-made where
// the next run looks (only a .tmp folder, removed then).
func (r *Repo) clone(ctx context.Context, cache, key string) error {
	olds, _ := filepath.Glob(filepath.Join(cache, key+".tmp-*"))
	for _, o := range olds {
		os.RemoveAll(o)
	}
	tmp := filepath.Join(cache, key+".tmp-"+randomHex(4))
	r.st = openStore(tmp)
	fail := func(err error) error {
		r.st.Close()
		os.RemoveAll(tmp)
		return err
	}
	if err := r.st.Init(); err != nil {
		return fail(err)
	}
	cfg := config.NewConfig()
	cfg.Core.IsBare = true
	cfg.Remotes["origin"] = &config.RemoteConfig{Name: "origin", URLs: []string{r.remote.url},
		Fetch: []config.RefSpec{"+refs/heads/*:refs/remotes/origin/*"}}
	if err := r.st.SetConfig(cfg); err != nil {
		return fail(err)
	}
	if err := r.st.SetReference(plumbing.NewSymbolicReference(plumbing.HEAD, plumbing.NewBranchReferenceName("main"))); err != nil {
		return fail(err)
	}
	if r.branch == "" {
		r.branch = "main"
	}
	if _, err := r.fetch(ctx); err != nil {
		return fail(err)
	}
	if err := r.st.SetReference(plumbing.NewSymbolicReference(plumbing.HEAD, plumbing.NewBranchReferenceName(r.branch))); err != nil {
		return fail(err)
	}
	r.st.Close()
	if err := os.Rename(tmp, filepath.Join(cache, key)); err != nil {
		os.RemoveAll(tmp)
		return err
	}
	r.st = openStore(filepath.Join(cache, key))
	return nil
}

// prepare runs under the repository lock before any change: it clears what
// a killed run left behind.
func (r *Repo) prepare() error {
	if err := r.st.recover(); err != nil {
		return fmt.Errorf("gitops: cleaning up after an interrupted run in %s: %w", r.gitDir, err)
	}
	if r.cached {
		r.st.removeGoGitTemps()
	}
	return nil
}

// locked runs fn with the repository locked against other Repos and
// processes.
func (r *Repo) locked(ctx context.Context, fn func() error) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	lock, err := lockPath(ctx, r.lockFile)
	if err != nil {
		return err
	}
	defer lock.release()
	if err := r.prepare(); err != nil {
		return err
	}
	return fn()
}

// Fetch brings the remote's branches up to date (nothing to do when change
// sets go straight into a local repository).
func (r *Repo) Fetch(ctx context.Context) error {
	if r.remote == nil {
		return nil
	}
	return r.locked(ctx, func() error {
		_, err := r.fetch(ctx)
		return err
	})
}

// tip is the local value of a branch: the remote-tracking ref, or the
// branch itself without a remote. ok is false when it does not exist.
func (r *Repo) tip(branch string) (plumbing.Hash, bool, error) {
	ref, err := r.st.Reference(r.trackingRef(branch))
	if errors.Is(err, plumbing.ErrReferenceNotFound) {
		return plumbing.ZeroHash, false, nil
	}
	if err != nil {
		return plumbing.ZeroHash, false, err
	}
	return ref.Hash(), true, nil
}

// checkedOut reports a work tree that has branch checked out; idp never
// moves such a branch under it (as git refuses to push to one).
func (r *Repo) checkedOut(branch string) string {
	target := "ref: refs/heads/" + branch
	if r.workDir != "" {
		if head, err := readRefFile(filepath.Join(r.gitDir, "HEAD")); err == nil && head == target {
			return r.workDir
		}
	}
	wts, _ := os.ReadDir(filepath.Join(r.gitDir, "worktrees"))
	for _, wt := range wts {
		if head, err := readRefFile(filepath.Join(r.gitDir, "worktrees", wt.Name(), "HEAD")); err == nil && head == target {
			if gd, err := os.ReadFile(filepath.Join(r.gitDir, "worktrees", wt.Name(), "gitdir")); err == nil {
				return filepath.Dir(strings.TrimSpace(string(gd)))
			}
			return wt.Name()
		}
	}
	return ""
}
