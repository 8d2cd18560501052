package gitops

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
)

// overlay holds the objects a change set creates, in memory, in front of the
// repository's storage. Preview diffs against it without writing anything;
// Commit writes its objects out; Push packs exactly these objects, which is
// why a push never walks the repository's history.
type overlay struct {
	base  storer.EncodedObjectStorer
	objs  map[plumbing.Hash]plumbing.EncodedObject
	order []plumbing.Hash
	trees map[plumbing.Hash][]object.TreeEntry
}

func newOverlay(base storer.EncodedObjectStorer) *overlay {
	return &overlay{base: base, objs: map[plumbing.Hash]plumbing.EncodedObject{}, trees: map[plumbing.Hash][]object.TreeEntry{}}
}

func (o *overlay) put(t plumbing.ObjectType, data []byte) plumbing.Hash {
	obj := &plumbing.MemoryObject{}
	obj.SetType(t)
	obj.Write(data)
	h := obj.Hash()
	if _, ok := o.objs[h]; !ok {
		o.objs[h] = obj
		o.order = append(o.order, h)
	}
	return h
}

func (o *overlay) NewEncodedObject() plumbing.EncodedObject { return &plumbing.MemoryObject{} }

func (o *overlay) SetEncodedObject(obj plumbing.EncodedObject) (plumbing.Hash, error) {
	r, err := obj.Reader()
	if err != nil {
		return plumbing.ZeroHash, err
	}
	defer r.Close()
	data, err := io.ReadAll(r)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	return o.put(obj.Type(), data), nil
}

func (o *overlay) EncodedObject(t plumbing.ObjectType, h plumbing.Hash) (plumbing.EncodedObject, error) {
	if obj, ok := o.objs[h]; ok {
		if t != plumbing.AnyObject && obj.Type() != t {
			return nil, plumbing.ErrObjectNotFound
		}
		return obj, nil
	}
	return o.base.EncodedObject(t, h)
}

func (o *overlay) HasEncodedObject(h plumbing.Hash) error {
	if _, ok := o.objs[h]; ok {
		return nil
	}
	return o.base.HasEncodedObject(h)
}

func (o *overlay) EncodedObjectSize(h plumbing.Hash) (int64, error) {
	if obj, ok := o.objs[h]; ok {
		return obj.Size(), nil
	}
	return o.base.EncodedObjectSize(h)
}

func (o *overlay) IterEncodedObjects(t plumbing.ObjectType) (storer.EncodedObjectIter, error) {
	return nil, errors.New("gitops: iterating objects is not supported")
}

func (o *overlay) AddAlternate(string) error {
	return errors.New("gitops: alternates are not supported")
}

// tree returns the entries of tree h, decoded once per overlay.
func (o *overlay) tree(h plumbing.Hash) ([]object.TreeEntry, error) {
	if e, ok := o.trees[h]; ok {
		return e, nil
	}
	obj, err := o.EncodedObject(plumbing.TreeObject, h)
	if err != nil {
		return nil, fmt.Errorf("gitops: reading tree %s: %w", h, err)
	}
	var t object.Tree
	if err := t.Decode(obj); err != nil {
		return nil, err
	}
	o.trees[h] = t.Entries
	return t.Entries, nil
}

// entryAt finds the tree entry at path p under root; ok is false when
// nothing is there.
func (o *overlay) entryAt(root plumbing.Hash, p string) (e object.TreeEntry, ok bool, err error) {
	if root.IsZero() {
		return e, false, nil
	}
	if p == "" {
		return object.TreeEntry{Mode: filemode.Dir, Hash: root}, true, nil
	}
	cur := root
	parts := strings.Split(p, "/")
	for i, name := range parts {
		entries, err := o.tree(cur)
		if err != nil {
			return e, false, err
		}
		j := findEntry(entries, name)
		if j < 0 {
			return e, false, nil
		}
		if i == len(parts)-1 {
			return entries[j], true, nil
		}
		if entries[j].Mode != filemode.Dir {
			return e, false, nil
		}
		cur = entries[j].Hash
	}
	return e, false, nil
}

func findEntry(entries []object.TreeEntry, name string) int {
	for i := range entries {
		if entries[i].Name == name {
			return i
		}
	}
	return -1
}

// pathNode is one directory of a change set's paths.
type pathNode struct {
	kids   map[string]*pathNode
	change *FileChange
	writes bool // some path below is written, not only deleted
}

func changeTree(files []FileChange) *pathNode {
	root := &pathNode{kids: map[string]*pathNode{}}
	for i := range files {
		f := &files[i]
		n := root
		for _, name := range strings.Split(f.Path, "/") {
			if !f.Delete {
				n.writes = true
			}
			kid := n.kids[name]
			if kid == nil {
				kid = &pathNode{kids: map[string]*pathNode{}}
				n.kids[name] = kid
			}
			n = kid
		}
		n.change = f
	}
	return root
}

// buildTree applies files to the tree root (zero for none) and returns the
// new root. Only the trees along the changed paths are read and written.
func (o *overlay) buildTree(root plumbing.Hash, files []FileChange) (plumbing.Hash, error) {
	h, err := o.apply(root, changeTree(files), "")
	if err != nil {
		return plumbing.ZeroHash, err
	}
	if h.IsZero() {
		h = o.put(plumbing.TreeObject, nil) // everything deleted: the empty tree
	}
	return h, nil
}

func (o *overlay) apply(tree plumbing.Hash, n *pathNode, dir string) (plumbing.Hash, error) {
	var entries []object.TreeEntry
	if !tree.IsZero() {
		old, err := o.tree(tree)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		entries = append(entries, old...)
	}
	names := make([]string, 0, len(n.kids))
	for name := range n.kids {
		names = append(names, name)
	}
	sort.Strings(names)
	changed := false
	for _, name := range names {
		kid := n.kids[name]
		full := name
		if dir != "" {
			full = dir + "/" + name
		}
		i := findEntry(entries, name)
		var next *object.TreeEntry // nil: no entry
		if c := kid.change; c != nil {
			if !c.Delete {
				if i >= 0 && entries[i].Mode == filemode.Dir {
					return plumbing.ZeroHash, &PathError{Path: full, Reason: "is a directory in the repository; delete it in its own change set first"}
				}
				mode, _ := gitMode(c.Mode)
				next = &object.TreeEntry{Name: name, Mode: mode, Hash: o.put(plumbing.BlobObject, c.Content)}
			}
		} else {
			var sub plumbing.Hash
			if i >= 0 {
				if entries[i].Mode != filemode.Dir {
					if kid.writes {
						return plumbing.ZeroHash, &PathError{Path: full, Reason: "is a file in the repository, so nothing can be written under it"}
					}
					continue // deleting below a file: nothing there
				}
				sub = entries[i].Hash
			}
			h, err := o.apply(sub, kid, full)
			if err != nil {
				return plumbing.ZeroHash, err
			}
			if !h.IsZero() {
				next = &object.TreeEntry{Name: name, Mode: filemode.Dir, Hash: h}
			}
		}
		switch {
		case next == nil && i >= 0:
			entries = append(entries[:i], entries[i+1:]...)
			changed = true
		case next != nil && i < 0:
			entries = append(entries, *next)
			changed = true
		case next != nil && (entries[i].Hash != next.Hash || entries[i].Mode != next.Mode):
			entries[i] = *next
			changed = true
		}
	}
	if !changed {
		return tree, nil
	}
	if len(entries) == 0 {
		return plumbing.ZeroHash, nil
	}
	sort.Slice(entries, func(a, b int) bool { return treeSortName(entries[a]) < treeSortName(entries[b]) })
	var buf bytes.Buffer
	for _, e := range entries {
		buf.WriteString(strconv.FormatUint(uint64(e.Mode), 8))
		buf.WriteByte(' ')
		buf.WriteString(e.Name)
		buf.WriteByte(0)
		buf.Write(e.Hash[:])
	}
	h := o.put(plumbing.TreeObject, buf.Bytes())
	o.trees[h] = entries
	return h, nil
}

// treeSortName is git's order: a directory sorts as if its name ended in "/".
func treeSortName(e object.TreeEntry) string {
	if e.Mode == filemode.Dir {
		return e.Name + "/"
	}
	return e.Name
}

// commitObject encodes a commit into the overlay.
func (o *overlay) commitObject(tree plumbing.Hash, parents []plumbing.Hash, author, committer object.Signature, msg string) (plumbing.Hash, error) {
	c := &object.Commit{Author: author, Committer: committer, Message: msg, TreeHash: tree, ParentHashes: parents}
	obj := &plumbing.MemoryObject{}
	if err := c.Encode(obj); err != nil {
		return plumbing.ZeroHash, err
	}
	return o.SetEncodedObject(obj)
}

// desired is the tree entry a file change asks for (ok false: absent).
func desired(f FileChange) (object.TreeEntry, bool) {
	if f.Delete {
		return object.TreeEntry{}, false
	}
	mode, _ := gitMode(f.Mode)
	return object.TreeEntry{Mode: mode, Hash: plumbing.ComputeHash(plumbing.BlobObject, f.Content)}, true
}

// conflicts lists the paths that changed between base and tip to something
// other than what the change set wants there: a three-way check per path,
// so an upstream change to the very content the change set writes is not a
// conflict.
func (o *overlay) conflicts(base, tip plumbing.Hash, files []FileChange) ([]string, error) {
	var out []string
	for _, f := range files {
		b, bok, err := o.entryAt(base, f.Path)
		if err != nil {
			return nil, err
		}
		t, tok, err := o.entryAt(tip, f.Path)
		if err != nil {
			return nil, err
		}
		if bok == tok && (!bok || (b.Hash == t.Hash && b.Mode == t.Mode)) {
			continue // unchanged upstream
		}
		w, wok := desired(f)
		if wok == tok && (!wok || (w.Hash == t.Hash && w.Mode == t.Mode)) {
			continue // upstream already made this very change
		}
		out = append(out, f.Path)
	}
	sort.Strings(out)
	return out, nil
}
