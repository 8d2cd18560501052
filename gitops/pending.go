package gitops

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"sort"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// Pending lists the commits that were made but not pushed (a push failed,
// conflicted, or the process died), oldest first. Each can be pushed again,
// written out as a patch, or discarded.
func (r *Repo) Pending(ctx context.Context) ([]*Commit, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	refs, err := r.pendingRefs()
	if err != nil {
		return nil, err
	}
	var out []*Commit
	for _, ref := range refs {
		c, err := r.loadPending(ref)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].author.When.Before(out[j].author.When) })
	return out, nil
}

func (r *Repo) pendingRefs() ([]*plumbing.Reference, error) {
	iter, err := r.st.IterReferences()
	if err != nil {
		return nil, err
	}
	var refs []*plumbing.Reference
	err = iter.ForEach(func(ref *plumbing.Reference) error {
		if strings.HasPrefix(ref.Name().String(), pendingPrefix) && ref.Type() == plumbing.HashReference {
			refs = append(refs, ref)
		}
		return nil
	})
	return refs, err
}

// pendingByID finds a pending commit; the lock or r.mu must be held.
func (r *Repo) pendingByID(id string) (*Commit, error) {
	refs, err := r.pendingRefs()
	if err != nil {
		return nil, err
	}
	for _, ref := range refs {
		if strings.HasPrefix(ref.Name().String(), pendingPrefix+id+"/") {
			return r.loadPending(ref)
		}
	}
	return nil, fmt.Errorf("gitops: no pending commit %q", id)
}

// loadPending rebuilds a Commit from its ref: the change set is the
// difference between the commit and its parent, and the objects that
// difference touches are what a push sends.
func (r *Repo) loadPending(ref *plumbing.Reference) (*Commit, error) {
	rest := strings.TrimPrefix(ref.Name().String(), pendingPrefix)
	id, target, _ := strings.Cut(rest, "/")
	branch, ok := strings.CutPrefix(target, "heads/")
	if !ok || id == "" {
		return nil, fmt.Errorf("gitops: malformed pending ref %s", ref.Name())
	}
	o := newOverlay(r.st)
	cm, err := object.GetCommit(r.st, ref.Hash())
	if err != nil {
		return nil, fmt.Errorf("gitops: pending commit %s: %w", id, err)
	}
	var parent, parentTree plumbing.Hash
	if len(cm.ParentHashes) > 0 {
		parent = cm.ParentHashes[0]
		p, err := object.GetCommit(r.st, parent)
		if err != nil {
			return nil, fmt.Errorf("gitops: parent of pending commit %s: %w", id, err)
		}
		parentTree = p.TreeHash
	}
	files, err := o.diffFiles(parentTree, cm.TreeHash, "")
	if err != nil {
		return nil, fmt.Errorf("gitops: pending commit %s: %w", id, err)
	}
	raw, err := r.st.EncodedObject(plumbing.CommitObject, cm.Hash)
	if err != nil {
		return nil, err
	}
	if _, err := o.SetEncodedObject(raw); err != nil {
		return nil, err
	}
	author := cm.Author
	c := &Commit{ID: id, Hash: cm.Hash.String(), Parent: hashString(parent), Branch: branch, Message: cm.Message,
		files: files, author: &author, base: parent, parent: parent, hash: cm.Hash, objs: o}
	for _, f := range files {
		c.Paths = append(c.Paths, f.Path)
	}
	sort.Strings(c.Paths)
	return c, nil
}

// diffFiles turns the difference between trees a and b into file changes,
// copying b's differing trees and blobs into the overlay. Equal subtrees are
// skipped by hash, so the cost follows the change, not the repository.
func (o *overlay) diffFiles(a, b plumbing.Hash, dir string) ([]FileChange, error) {
	var ae, be []object.TreeEntry
	var err error
	if !a.IsZero() {
		if ae, err = o.tree(a); err != nil {
			return nil, err
		}
	}
	if !b.IsZero() {
		if be, err = o.tree(b); err != nil {
			return nil, err
		}
		if err := o.copyObject(plumbing.TreeObject, b); err != nil {
			return nil, err
		}
	}
	names := map[string]bool{}
	for _, e := range ae {
		names[e.Name] = true
	}
	for _, e := range be {
		names[e.Name] = true
	}
	sorted := make([]string, 0, len(names))
	for n := range names {
		sorted = append(sorted, n)
	}
	sort.Strings(sorted)
	var out []FileChange
	for _, name := range sorted {
		p := name
		if dir != "" {
			p = dir + "/" + name
		}
		i, j := findEntry(ae, name), findEntry(be, name)
		switch {
		case j < 0:
			out = append(out, FileChange{Path: p, Delete: true})
			continue
		case i >= 0 && ae[i].Hash == be[j].Hash && ae[i].Mode == be[j].Mode:
			continue
		}
		eb := be[j]
		aIsDir := i >= 0 && ae[i].Mode == filemode.Dir
		switch eb.Mode {
		case filemode.Dir:
			if i >= 0 && !aIsDir {
				return nil, fmt.Errorf("%s: a file replaced by a directory cannot be replayed", p)
			}
			var sub plumbing.Hash
			if aIsDir {
				sub = ae[i].Hash
			}
			files, err := o.diffFiles(sub, eb.Hash, p)
			if err != nil {
				return nil, err
			}
			out = append(out, files...)
		case filemode.Regular, filemode.Executable, filemode.Deprecated, filemode.Symlink:
			if aIsDir {
				return nil, fmt.Errorf("%s: a directory replaced by a file cannot be replayed", p)
			}
			content, err := o.blob(eb.Hash)
			if err != nil {
				return nil, err
			}
			if err := o.copyObject(plumbing.BlobObject, eb.Hash); err != nil {
				return nil, err
			}
			mode := fs.FileMode(0o644)
			switch eb.Mode {
			case filemode.Executable:
				mode = 0o755
			case filemode.Symlink:
				mode = fs.ModeSymlink | 0o777
			}
			out = append(out, FileChange{Path: p, Content: content, Mode: mode})
		default:
			return nil, fmt.Errorf("%s: submodule changes are not supported", p)
		}
	}
	return out, nil
}

func (o *overlay) blob(h plumbing.Hash) ([]byte, error) {
	obj, err := o.EncodedObject(plumbing.BlobObject, h)
	if err != nil {
		return nil, err
	}
	rd, err := obj.Reader()
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	return io.ReadAll(rd)
}

func (o *overlay) copyObject(t plumbing.ObjectType, h plumbing.Hash) error {
	if _, ok := o.objs[h]; ok {
		return nil
	}
	obj, err := o.base.EncodedObject(t, h)
	if err != nil {
		return err
	}
	_, err = o.SetEncodedObject(obj)
	return err
}

// PushPending pushes the pending commit id again (see Push).
func (r *Repo) PushPending(ctx context.Context, id string) (*Result, error) {
	var res *Result
	err := r.locked(ctx, func() error {
		c, err := r.pendingByID(id)
		if err != nil {
			return err
		}
		if r.remote != nil {
			if _, err := r.fetch(ctx); err != nil {
				return err
			}
		}
		res, err = r.push(ctx, c)
		return err
	})
	return res, err
}

// Discard drops the pending commit id.
func (r *Repo) Discard(ctx context.Context, id string) error {
	return r.locked(ctx, func() error {
		c, err := r.pendingByID(id)
		if err != nil {
			return err
		}
		return r.st.RemoveReference(c.pendingRef())
	})
}

// WritePatch writes the pending commit id as a patch in the format of git
// format-patch, which `git am` (or `git apply`) applies in any clone.
func (r *Repo) WritePatch(ctx context.Context, id string, w io.Writer) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, err := r.pendingByID(id)
	if err != nil {
		return err
	}
	return r.formatPatch(ctx, c, w)
}
