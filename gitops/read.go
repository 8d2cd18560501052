package gitops

import (
	"container/heap"
	"context"
	"fmt"
	"io/fs"
	"sort"
	"strings"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// Entry is a file in the repository.
type Entry struct {
	Path string
	// Mode is 0644, 0755, or fs.ModeSymlink|0777.
	Mode fs.FileMode
}

// LogEntry is one commit.
type LogEntry struct {
	Hash      string
	Author    Signature
	Committer Signature
	Subject   string
	Message   string
}

// resolve turns a revision into a commit: "" is the tip of the target
// branch; a branch name means the remote's branch (as fetched); anything
// else is what git rev-parse accepts (hashes, tags, main~2, ...).
func (r *Repo) resolve(rev string) (*object.Commit, error) {
	if rev == "" {
		rev = r.branch
	}
	name, suffix := rev, ""
	if i := strings.IndexAny(rev, "~^"); i >= 0 {
		name, suffix = rev[:i], rev[i:]
	}
	if _, err := r.st.Reference(r.trackingRef(name)); err == nil {
		rev = r.trackingRef(name).String() + suffix
	} else if name == r.branch && r.remote != nil {
		return nil, fmt.Errorf("gitops: branch %s has no commits yet: %w", name, fs.ErrNotExist)
	}
	repo, err := git.Open(r.st, nil)
	if err != nil {
		return nil, err
	}
	h, err := repo.ResolveRevision(plumbing.Revision(rev))
	if err != nil {
		return nil, fmt.Errorf("gitops: revision %q: %w", rev, err)
	}
	return object.GetCommit(r.st, *h)
}

func checkReadPath(p string) error {
	if p == "" {
		return nil
	}
	return CheckPath(p)
}

// ReadFile returns a file's content at a revision ("" for the branch tip).
func (r *Repo) ReadFile(ctx context.Context, rev, path string) ([]byte, error) {
	if path == "" {
		return nil, &PathError{Path: path, Reason: "empty"}
	}
	if err := checkReadPath(path); err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	c, o, e, err := r.entryAtRev(rev, path)
	if err != nil {
		return nil, err
	}
	if !e.Mode.IsFile() {
		return nil, fmt.Errorf("gitops: %s at %s is not a file", path, short(c.Hash.String()))
	}
	return o.blob(e.Hash)
}

// ReadLink returns the target of a symbolic link at a revision ("" for the
// branch tip), as git stores it.
func (r *Repo) ReadLink(ctx context.Context, rev, path string) (string, error) {
	if err := CheckPath(path); err != nil {
		return "", err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	c, o, e, err := r.entryAtRev(rev, path)
	if err != nil {
		return "", err
	}
	if e.Mode != filemode.Symlink {
		return "", fmt.Errorf("gitops: %s at %s is not a symbolic link", path, short(c.Hash.String()))
	}
	b, err := o.blob(e.Hash)
	return string(b), err
}

// entryAtRev finds p in the tree of revision rev; a missing path is
// fs.ErrNotExist. r.mu must be held.
func (r *Repo) entryAtRev(rev, p string) (*object.Commit, *overlay, object.TreeEntry, error) {
	c, err := r.resolve(rev)
	if err != nil {
		return nil, nil, object.TreeEntry{}, err
	}
	o := newOverlay(r.st)
	e, ok, err := o.entryAt(c.TreeHash, p)
	switch {
	case err != nil:
		return nil, nil, object.TreeEntry{}, err
	case !ok:
		return nil, nil, object.TreeEntry{}, fmt.Errorf("gitops: %s at %s: %w", p, short(c.Hash.String()), fs.ErrNotExist)
	}
	return c, o, e, nil
}

// List returns the files under dir ("" for all) at a revision, sorted.
func (r *Repo) List(ctx context.Context, rev, dir string) ([]Entry, error) {
	if err := checkReadPath(dir); err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	c, o, e, err := r.entryAtRev(rev, dir)
	if err != nil {
		return nil, err
	}
	if e.Mode != filemode.Dir {
		return nil, fmt.Errorf("gitops: %s at %s is not a directory", dir, short(c.Hash.String()))
	}
	var out []Entry
	var walk func(h plumbing.Hash, prefix string) error
	walk = func(h plumbing.Hash, prefix string) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		entries, err := o.tree(h)
		if err != nil {
			return err
		}
		for _, e := range entries {
			p := e.Name
			if prefix != "" {
				p = prefix + "/" + e.Name
			}
			switch e.Mode {
			case filemode.Dir:
				if err := walk(e.Hash, p); err != nil {
					return err
				}
			case filemode.Executable:
				out = append(out, Entry{Path: p, Mode: 0o755})
			case filemode.Symlink:
				out = append(out, Entry{Path: p, Mode: fs.ModeSymlink | 0o777})
			case filemode.Submodule:
			default:
				out = append(out, Entry{Path: p, Mode: 0o644})
			}
		}
		return nil
	}
	if err := walk(e.Hash, dir); err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// Log returns the last n commits (newest first) that changed path ("" for
// any), from a revision: what `git log -n N -- path` shows, with git's
// default history simplification (a merge that kept one side's version is
// not listed, and only that side is followed).
func (r *Repo) Log(ctx context.Context, rev, path string, n int) ([]LogEntry, error) {
	if err := checkReadPath(path); err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	start, err := r.resolve(rev)
	if err != nil {
		return nil, err
	}
	o := newOverlay(r.st)
	state := func(c *object.Commit) (object.TreeEntry, bool, error) {
		return o.entryAt(c.TreeHash, path)
	}
	same := func(a, b object.TreeEntry, aok, bok bool) bool {
		return aok == bok && (!aok || (a.Hash == b.Hash && a.Mode == b.Mode))
	}
	seen := map[plumbing.Hash]bool{start.Hash: true}
	q := &commitQueue{start}
	var out []LogEntry
	for q.Len() > 0 && len(out) < n {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		c := heap.Pop(q).(*object.Commit)
		cs, cok, err := state(c)
		if err != nil {
			return nil, err
		}
		var parents []*object.Commit
		for _, ph := range c.ParentHashes {
			p, err := object.GetCommit(o, ph)
			if err != nil {
				return nil, fmt.Errorf("gitops: history of %s: %w", short(c.Hash.String()), err)
			}
			parents = append(parents, p)
		}
		follow, touched := parents, true
		if path == "" {
			touched = true
		} else if len(parents) == 0 {
			touched = cok
		} else {
			for _, p := range parents {
				ps, pok, err := state(p)
				if err != nil {
					return nil, err
				}
				if same(cs, ps, cok, pok) {
					follow, touched = []*object.Commit{p}, false
					break
				}
			}
		}
		if touched {
			out = append(out, LogEntry{Hash: c.Hash.String(), Subject: subject(c.Message), Message: c.Message,
				Author:    Signature{Name: c.Author.Name, Email: c.Author.Email, When: c.Author.When},
				Committer: Signature{Name: c.Committer.Name, Email: c.Committer.Email, When: c.Committer.When}})
		}
		for _, p := range follow {
			if !seen[p.Hash] {
				seen[p.Hash] = true
				heap.Push(q, p)
			}
		}
	}
	return out, nil
}

// commitQueue orders commits newest first by committer date, as git log does.
type commitQueue []*object.Commit

func (q commitQueue) Len() int { return len(q) }
func (q commitQueue) Less(i, j int) bool {
	return q[i].Committer.When.After(q[j].Committer.When)
}
func (q commitQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *commitQueue) Push(x any)   { *q = append(*q, x.(*object.Commit)) }
func (q *commitQueue) Pop() any {
	old := *q
	c := old[len(old)-1]
	*q = old[:len(old)-1]
	return c
}
