package gitops

import (
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/storage/memory"
)

// remoteInfo is where a repository pushes to. url never carries a password:
// it is what idp stores in a clone's config and shows to the user.
type remoteInfo struct {
	name     string
	url      string
	password string // from the URL the user gave, kept in memory only
	ep       *transport.Endpoint
}

var scpLike = regexp.MustCompile(`^(?:[^@/:]+@)?[^@/:]+:[^/]`)

// isURL tells a remote URL from a local path: a scheme, or git's scp-like
// user@host:path form when no such local path exists.
func isURL(source string) bool {
	if strings.Contains(source, "://") {
		return true
	}
	if _, err := os.Stat(source); err == nil {
		return false
	}
	return scpLike.MatchString(source) && !(len(source) >= 2 && source[1] == ':' && len(source) > 2 && (source[2] == '\\' || source[2] == '/'))
}

func newRemoteInfo(name, raw string) (*remoteInfo, error) {
	ep, err := transport.NewEndpoint(raw)
	if err != nil {
		return nil, fmt.Errorf("gitops: %q is not a git URL: %w", raw, err)
	}
	ri := &remoteInfo{name: name, password: ep.Password}
	clean := *ep
	clean.Password = ""
	if clean.Protocol == "http" || clean.Protocol == "https" {
		clean.User = "" // the credentials travel as auth, never inside the URL
	}
	ri.ep = &clean
	ri.url = clean.String()
	if ep.Protocol == "ssh" && !strings.Contains(raw, "://") {
		ri.url = raw // keep scp-like URLs as the user wrote them
	}
	if ep.Protocol == "http" || ep.Protocol == "https" {
		ri.ep.User = ep.User
	}
	return ri, nil
}

// remoteState is what the remote advertised: its branches and default branch.
type remoteState struct {
	refs    map[plumbing.ReferenceName]plumbing.Hash
	defHead string // default branch name, "" when the remote does not say
}

// list asks the remote for its branches (git ls-remote).
func (r *Repo) list(ctx context.Context) (*remoteState, error) {
	rem := git.NewRemote(memory.NewStorage(), &config.RemoteConfig{Name: r.remote.name, URLs: []string{r.remote.url}})
	var refs []*plumbing.Reference
	err := r.withAuth(ctx, func(auth transport.AuthMethod) error {
		var err error
		refs, err = rem.ListContext(ctx, &git.ListOptions{Auth: auth})
		return err
	})
	st := &remoteState{refs: map[plumbing.ReferenceName]plumbing.Hash{}}
	if errors.Is(err, transport.ErrEmptyRemoteRepository) {
		return st, nil
	}
	if err != nil {
		return nil, r.netErr("listing branches of", err)
	}
	for _, ref := range refs {
		switch {
		case ref.Name() == plumbing.HEAD && ref.Type() == plumbing.SymbolicReference:
			st.defHead = ref.Target().Short()
		case ref.Name().IsBranch() && ref.Type() == plumbing.HashReference:
			st.refs[ref.Name()] = ref.Hash()
		}
	}
	return st, nil
}

func (r *Repo) netErr(what string, err error) error {
	var ae *AuthError
	if errors.As(err, &ae) {
		return err
	}
	return fmt.Errorf("gitops: %s %s: %w", what, r.remote.url, err)
}

func (r *Repo) trackingRef(branch string) plumbing.ReferenceName {
	if r.remote == nil {
		return plumbing.NewBranchReferenceName(branch)
	}
	return plumbing.NewRemoteReferenceName(r.remote.name, branch)
}

// fetch brings the remote's branches into the remote-tracking refs and
// returns what the remote advertised. Only changed branches are fetched; the
// repository lock must be held.
func (r *Repo) fetch(ctx context.Context) (*remoteState, error) {
	st, err := r.list(ctx)
	if err != nil {
		return nil, err
	}
	if st.defHead != "" && r.opts.Branch == "" {
		r.branch = st.defHead
	}
	stale := false
	for name, h := range st.refs {
		if cur, err := r.st.Reference(r.trackingRef(name.Short())); err != nil || cur.Hash() != h {
			stale = true
			break
		}
	}
	if stale {
		spec := config.RefSpec(fmt.Sprintf("+refs/heads/*:refs/remotes/%s/*", r.remote.name))
		rem := git.NewRemote(r.st, &config.RemoteConfig{Name: r.remote.name, URLs: []string{r.remote.url}, Fetch: []config.RefSpec{spec}})
		err = r.withAuth(ctx, func(auth transport.AuthMethod) error {
			return rem.FetchContext(ctx, &git.FetchOptions{
				RemoteName: r.remote.name, RefSpecs: []config.RefSpec{spec}, Auth: auth,
				Tags: git.NoTags, Progress: r.opts.Progress, Prune: r.cached,
			})
		})
		if err != nil && !errors.Is(err, git.NoErrAlreadyUpToDate) && !errors.Is(err, transport.ErrEmptyRemoteRepository) {
			return nil, r.netErr("fetching", err)
		}
	}
	// idp's own pull-request branches that are gone remotely (merged and
	// deleted) must not be built upon again; nor, in idp's cached clone,
	// any branch the remote no longer has (a repository deleted and made
	// again under the same URL, which a fetch of nothing does not prune).
	base := "refs/remotes/" + r.remote.name + "/"
	prefix := base + "idp/"
	if r.cached {
		prefix = base
	}
	iter, err := r.st.IterReferences()
	if err == nil {
		var gone []plumbing.ReferenceName
		iter.ForEach(func(ref *plumbing.Reference) error {
			if n := ref.Name().String(); strings.HasPrefix(n, prefix) && ref.Type() == plumbing.HashReference {
				if _, ok := st.refs[plumbing.NewBranchReferenceName(strings.TrimPrefix(n, "refs/remotes/"+r.remote.name+"/"))]; !ok {
					gone = append(gone, ref.Name())
				}
			}
			return nil
		})
		for _, n := range gone {
			r.st.RemoveReference(n)
		}
	}
	if r.cached && st.defHead != "" {
		head := plumbing.NewSymbolicReference(plumbing.ReferenceName("refs/remotes/"+r.remote.name+"/HEAD"), r.trackingRef(st.defHead))
		if cur, err := r.st.Reference(head.Name()); err != nil || cur.Target() != head.Target() {
			if err := r.st.SetReference(head); err != nil {
				return nil, err
			}
		}
	}
	return st, nil
}
