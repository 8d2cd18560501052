package gitops

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/format/diff"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/utils/merkletrie"
)

// Preview is what a change set would do to its branch's current tip.
type Preview struct {
	// Base is the tip the preview was made against ("" for an empty
	// branch); give it as the change set's Base to commit exactly what was
	// previewed, with upstream changes to the same paths reported as a
	// conflict.
	Base string
	// Branch is the branch the change set goes to.
	Branch string
	// Changes lists the files that change; empty when nothing would.
	Changes []Change
	// Diff is the unified diff (git's format, applicable with git apply).
	Diff string
}

// Change is one file a change set adds, modifies or deletes.
type Change struct {
	Path   string
	Action string // "add", "modify" or "delete"
}

// Preview computes the unified diff of a change set against the current
// tip of its branch, in memory: nothing is written.
func (r *Repo) Preview(ctx context.Context, cs ChangeSet) (*Preview, error) {
	if err := cs.validate(); err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	branch := r.branch
	if cs.PullRequest {
		branch, _ = cs.branchSlug()
	}
	parent, err := r.parentFor(branch)
	if err != nil {
		return nil, err
	}
	o := newOverlay(r.st)
	var from plumbing.Hash
	if !parent.IsZero() {
		cm, err := object.GetCommit(o, parent)
		if err != nil {
			return nil, err
		}
		from = cm.TreeHash
	}
	to, err := o.buildTree(from, cs.Files)
	if err != nil {
		return nil, err
	}
	p := &Preview{Base: hashString(parent), Branch: branch}
	p.Diff, p.Changes, err = unifiedDiff(ctx, o, from, to)
	return p, err
}

// unifiedDiff diffs two trees (zero: empty) read through the overlay.
func unifiedDiff(ctx context.Context, o *overlay, from, to plumbing.Hash) (string, []Change, error) {
	tree := func(h plumbing.Hash) (*object.Tree, error) {
		if h.IsZero() {
			return nil, nil
		}
		return object.GetTree(o, h)
	}
	a, err := tree(from)
	if err != nil {
		return "", nil, err
	}
	b, err := tree(to)
	if err != nil {
		return "", nil, err
	}
	if from == to {
		return "", nil, nil
	}
	changes, err := object.DiffTreeWithOptions(ctx, a, b, &object.DiffTreeOptions{})
	if err != nil {
		return "", nil, err
	}
	var list []Change
	for _, ch := range changes {
		act, err := ch.Action()
		if err != nil {
			return "", nil, err
		}
		switch act {
		case merkletrie.Insert:
			list = append(list, Change{Path: ch.To.Name, Action: "add"})
		case merkletrie.Delete:
			list = append(list, Change{Path: ch.From.Name, Action: "delete"})
		default:
			list = append(list, Change{Path: ch.To.Name, Action: "modify"})
		}
	}
	patch, err := changes.PatchContext(ctx)
	if err != nil {
		return "", nil, err
	}
	var buf bytes.Buffer
	if err := diff.NewUnifiedEncoder(&buf, diff.DefaultContextLines).Encode(patch); err != nil {
		return "", nil, err
	}
	return buf.String(), list, nil
}

// formatPatch writes c like git format-patch does, so git am applies it
// with its message and author.
func (r *Repo) formatPatch(ctx context.Context, c *Commit, w io.Writer) error {
	cm, err := object.GetCommit(c.objs, c.hash)
	if err != nil {
		return err
	}
	var from plumbing.Hash
	if !c.parent.IsZero() {
		p, err := object.GetCommit(c.objs, c.parent)
		if err != nil {
			return err
		}
		from = p.TreeHash
	}
	text, _, err := unifiedDiff(ctx, c.objs, from, cm.TreeHash)
	if err != nil {
		return err
	}
	subj, body, _ := strings.Cut(strings.TrimSpace(cm.Message), "\n")
	var b strings.Builder
	fmt.Fprintf(&b, "From %s Mon Sep 17 00:00:00 2001\n", cm.Hash)
	fmt.Fprintf(&b, "From: %s <%s>\n", cm.Author.Name, cm.Author.Email)
	fmt.Fprintf(&b, "Date: %s\n", cm.Author.When.Format("Mon, 2 Jan 2006 15:04:05 -0700"))
	fmt.Fprintf(&b, "Subject: [PATCH] %s\n\n", strings.TrimSpace(subj))
	if body = strings.TrimSpace(body); body != "" {
		b.WriteString(body + "\n\n")
	}
	b.WriteString("---\n")
	b.WriteString(text)
	b.WriteString("-- \nidp\n\n")
	_, err = io.WriteString(w, b.String())
	return err
}
