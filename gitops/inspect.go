package gitops

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/plumbing/transport/client"
)

// CheckIdentity reports, before anything is written, whether a commit
// would have an author (see the identity rules of Commit).
func (r *Repo) CheckIdentity() error {
	_, _, err := r.identity(nil)
	return err
}

// CheckPush reports, before anything is written, whether idp may push:
// the remote accepts a push session with the credentials idp would use
// (servers ask for them before advertising references to a pusher), or,
// without a remote, the repository's refs can be written.
func (r *Repo) CheckPush(ctx context.Context) error {
	if r.remote == nil {
		f, err := os.CreateTemp(filepath.Join(r.gitDir, "refs"), ".idp-check-*")
		if err != nil {
			return fmt.Errorf("gitops: %s is not writable: %w", r.gitDir, err)
		}
		f.Close()
		return os.Remove(f.Name())
	}
	return r.withAuth(ctx, func(auth transport.AuthMethod) error {
		ep, err := transport.NewEndpoint(r.remote.url)
		if err != nil {
			return err
		}
		cl, err := client.NewClient(ep)
		if err != nil {
			return err
		}
		sess, err := cl.NewReceivePackSession(ep, auth)
		if err != nil {
			return r.netErr("checking push access to", err)
		}
		defer sess.Close()
		if _, err := sess.AdvertisedReferencesContext(ctx); err != nil && !errors.Is(err, transport.ErrEmptyRemoteRepository) {
			return r.netErr("checking push access to", err)
		}
		return nil
	})
}

// TreeHash is the hash of the tree a first commit of files would have,
// computed without writing anything.
func TreeHash(files []FileChange) (string, error) {
	cs := ChangeSet{Message: "tree", Files: files}
	for _, f := range files {
		if err := CheckPath(f.Path); err != nil {
			return "", err
		}
	}
	o := newOverlay(nil)
	h, err := o.buildTree(plumbing.ZeroHash, cs.Files)
	if err != nil {
		return "", err
	}
	return h.String(), nil
}

// Branch is one branch of a remote and its tip commit.
type Branch struct {
	Name, Commit string
	// Tree is the commit's tree; Parents counts its parents.
	Tree    string
	Parents int
}

// Branches lists the remote's branches, fetched, with their tip commits'
// tree and parent count (the repository's own branches without a remote).
func (r *Repo) Branches(ctx context.Context) ([]Branch, error) {
	var out []Branch
	err := r.locked(ctx, func() error {
		heads := map[string]plumbing.Hash{}
		if r.remote != nil {
			st, err := r.fetch(ctx)
			if err != nil {
				return err
			}
			for n, h := range st.refs {
				heads[n.Short()] = h
			}
		} else {
			iter, err := r.st.IterReferences()
			if err != nil {
				return err
			}
			iter.ForEach(func(ref *plumbing.Reference) error {
				if ref.Name().IsBranch() && ref.Type() == plumbing.HashReference {
					heads[ref.Name().Short()] = ref.Hash()
				}
				return nil
			})
		}
		for name, h := range heads {
			cm, err := object.GetCommit(r.st, h)
			if err != nil {
				return fmt.Errorf("gitops: branch %s: %w", name, err)
			}
			out = append(out, Branch{Name: name, Commit: h.String(), Tree: cm.TreeHash.String(), Parents: len(cm.ParentHashes)})
		}
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, err
}
