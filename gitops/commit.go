package gitops

import (
	"context"
	"fmt"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// Commit is a change set turned into a commit that is not pushed yet. It is
// kept under refs/idp/pending/ until it is pushed, so a failed push never
// loses it: Pending lists it in a later run, Push retries it, WritePatch
// writes it out, Discard drops it.
type Commit struct {
	// ID names the pending commit.
	ID string
	// Hash is the commit; it changes when the commit is rebuilt on a newer tip.
	Hash string
	// Parent is the tip it was built on ("" for a branch's first commit).
	Parent string
	// Branch is the branch it goes to: the target branch, or idp/<slug>.
	Branch  string
	Paths   []string
	Message string

	files  []FileChange
	author *object.Signature
	base   plumbing.Hash // what upstream changes are compared against
	parent plumbing.Hash
	hash   plumbing.Hash
	objs   *overlay // the objects this commit adds: exactly what a push sends
}

// ConflictError is a change set that cannot be rebuilt on the branch's new
// tip because the same paths changed there. Nothing was pushed; the commit
// stays pending.
type ConflictError struct {
	Branch    string
	Paths     []string
	Base, Tip string
	Pending   string
}

func (e *ConflictError) Error() string {
	msg := fmt.Sprintf("gitops: conflict on branch %s: %s changed upstream since %s (the branch is now at %s); nothing was pushed",
		e.Branch, strings.Join(e.Paths, ", "), short(e.Base), short(e.Tip))
	if e.Pending == "" {
		return msg + " and nothing was committed: make the change again on the new tip"
	}
	return msg + ". The change set is kept as pending commit " + e.Pending +
		": write it out as a patch, or discard it and make the change again on the new tip"
}

func short(h string) string {
	if h == "" {
		return "an empty branch"
	}
	if len(h) > 10 {
		return h[:10]
	}
	return h
}

// Commit turns a change set into one commit on the current tip of its
// branch, without fetching and without pushing. It reads and writes only the
// objects along the changed paths. A change set that changes nothing returns
// ErrNothingToCommit; invalid paths return a *PathError before anything is
// written.
func (r *Repo) Commit(ctx context.Context, cs ChangeSet) (*Commit, error) {
	if err := cs.validate(); err != nil {
		return nil, err
	}
	var c *Commit
	err := r.locked(ctx, func() error {
		var err error
		c, err = r.commit(cs)
		return err
	})
	return c, err
}

func (r *Repo) commit(cs ChangeSet) (*Commit, error) {
	if len(cs.Files) == 0 {
		return nil, ErrNothingToCommit
	}
	branch := r.branch
	if cs.PullRequest {
		branch, _ = cs.branchSlug()
	}
	if r.remote == nil {
		if wt := r.checkedOut(branch); wt != "" {
			return nil, fmt.Errorf("gitops: branch %s is checked out in %s and %s has no remote %q to push to; idp never writes under a work tree: give it a bare repository, a clone with a remote, or another branch",
				branch, wt, r.gitDir, r.opts.Remote)
		}
	}
	parent, err := r.parentFor(branch)
	if err != nil {
		return nil, err
	}
	base := parent
	if cs.Base != "" {
		if base, err = r.resolveHash(cs.Base); err != nil {
			return nil, fmt.Errorf("gitops: the change set's base: %w", err)
		}
	}
	c := &Commit{Branch: branch, Message: cs.Message, Paths: cs.Paths(), base: base,
		files: append([]FileChange(nil), cs.Files...)}
	if cs.Author != nil {
		c.author = &object.Signature{Name: cs.Author.Name, Email: cs.Author.Email, When: cs.Author.When}
	}
	if err := r.build(c, parent); err != nil {
		return nil, err
	}
	c.ID = c.Hash[:12]
	if err := r.save(c); err != nil {
		return nil, err
	}
	return c, nil
}

// parentFor is the commit a change to branch builds on: the branch's tip,
// or for a new pull-request branch the target branch's tip.
func (r *Repo) parentFor(branch string) (plumbing.Hash, error) {
	h, ok, err := r.tip(branch)
	if err != nil || ok || branch == r.branch {
		return h, err
	}
	h, _, err = r.tip(r.branch)
	return h, err
}

func (r *Repo) resolveHash(s string) (plumbing.Hash, error) {
	if !plumbing.IsHash(s) {
		return plumbing.ZeroHash, fmt.Errorf("%q is not a full commit hash", s)
	}
	h := plumbing.NewHash(s)
	if _, err := object.GetCommit(r.st, h); err != nil {
		return plumbing.ZeroHash, fmt.Errorf("commit %s: %w", s, err)
	}
	return h, nil
}

// build makes c's commit on parent (zero: a first commit). When parent is
// not the commit the change set was prepared against, the paths are first
// checked for upstream changes.
func (r *Repo) build(c *Commit, parent plumbing.Hash) error {
	o := newOverlay(r.st)
	treeOf := func(h plumbing.Hash) (plumbing.Hash, error) {
		if h.IsZero() {
			return plumbing.ZeroHash, nil
		}
		cm, err := object.GetCommit(o, h)
		if err != nil {
			return plumbing.ZeroHash, fmt.Errorf("gitops: reading commit %s: %w", h, err)
		}
		return cm.TreeHash, nil
	}
	parentTree, err := treeOf(parent)
	if err != nil {
		return err
	}
	if c.base != parent {
		baseTree, err := treeOf(c.base)
		if err != nil {
			return err
		}
		paths, err := o.conflicts(baseTree, parentTree, c.files)
		if err != nil {
			return err
		}
		if len(paths) > 0 {
			return &ConflictError{Branch: c.Branch, Paths: paths, Base: hashString(c.base), Tip: hashString(parent), Pending: c.ID}
		}
	}
	tree, err := o.buildTree(parentTree, c.files)
	if err != nil {
		return err
	}
	if tree == parentTree || (parent.IsZero() && tree == plumbing.ComputeHash(plumbing.TreeObject, nil)) {
		return ErrNothingToCommit
	}
	var author *Signature
	if c.author != nil {
		author = &Signature{Name: c.author.Name, Email: c.author.Email, When: c.author.When}
	}
	a, cm, err := r.identity(author)
	if err != nil {
		return err
	}
	if c.author == nil {
		c.author = &a
	}
	var parents []plumbing.Hash
	if !parent.IsZero() {
		parents = []plumbing.Hash{parent}
	}
	msg := strings.TrimRight(c.Message, "\n") + "\n"
	h, err := o.commitObject(tree, parents, *c.author, cm, msg)
	if err != nil {
		return err
	}
	c.objs, c.parent, c.hash, c.base = o, parent, h, parent
	c.Hash, c.Parent = h.String(), hashString(parent)
	return nil
}

func hashString(h plumbing.Hash) string {
	if h.IsZero() {
		return ""
	}
	return h.String()
}

// save writes the commit's new objects as loose objects and points its
// pending ref at it. Objects are written before the ref, each by rename, so
// a kill at any moment leaves either no pending commit or a complete one.
func (r *Repo) save(c *Commit) error {
	for _, h := range c.objs.order {
		if r.st.HasEncodedObject(h) == nil {
			continue
		}
		if _, err := r.st.SetEncodedObject(c.objs.objs[h]); err != nil {
			return fmt.Errorf("gitops: writing object %s: %w", h, err)
		}
	}
	return r.st.SetReference(plumbing.NewHashReference(c.pendingRef(), c.hash))
}

const pendingPrefix = "refs/idp/pending/"

func (c *Commit) pendingRef() plumbing.ReferenceName {
	return plumbing.ReferenceName(pendingPrefix + c.ID + "/heads/" + c.Branch)
}

// Apply fetches, commits the change set on the newest tip and pushes it: the
// whole of what a user action does. See Commit and Push.
func (r *Repo) Apply(ctx context.Context, cs ChangeSet) (*Result, error) {
	if err := cs.validate(); err != nil {
		return nil, err
	}
	var res *Result
	err := r.locked(ctx, func() error {
		if r.remote != nil {
			if _, err := r.fetch(ctx); err != nil {
				return err
			}
		}
		c, err := r.commit(cs)
		if err != nil {
			return err
		}
		res, err = r.push(ctx, c)
		return err
	})
	return res, err
}
