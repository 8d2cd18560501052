package gitops

import (
	"bytes"
	"crypto/rand"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-git/go-billy/v5"
	"github.com/go-git/go-billy/v5/osfs"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/storage"
	"github.com/go-git/go-git/v5/storage/filesystem"
)

// store is go-git's filesystem storage with the writes made crash-safe:
// go-git updates a reference by truncating the file and writing it again, so a
// process killed in between leaves an empty ref that breaks every later run.
// Here every reference is written the way git does it (an exclusive
// <ref>.lock file, renamed over the ref), with a journal so the next run can
// remove a lock file that a killed idp left behind.
type store struct {
	*filesystem.Storage
	dir   string // the git directory (the common one, for linked work trees)
	state string // dir/idp: journal and temporary files of idp's own
	packs *packSet
}

func openStore(dir string) *store {
	st := filesystem.NewStorageWithOptions(gitFS{osfs.New(dir)}, cache.NewObjectLRUDefault(),
		filesystem.Options{KeepDescriptors: true})
	return &store{Storage: st, dir: dir, state: filepath.Join(dir, "idp"), packs: newPackSet(dir)}
}

func (s *store) Close() error {
	s.packs.close()
	return s.Storage.Close()
}

// SetReference and CheckAndSetReference replace go-git's in-place writes;
// go-git's fetch calls them through the storer interface.
func (s *store) SetReference(ref *plumbing.Reference) error { return s.setRef(ref, nil) }

func (s *store) CheckAndSetReference(ref, old *plumbing.Reference) error {
	return s.setRef(ref, old)
}

// EncodedObject reads packed objects with idp's own pack reader (see
// packSet) and leaves loose objects, and alternates, to go-git. go-git's
// pack indexes are reloaded when an object is missing: another process (or
// git) may have fetched a pack since they were read.
func (s *store) EncodedObject(t plumbing.ObjectType, h plumbing.Hash) (plumbing.EncodedObject, error) {
	obj, ok, err := s.packs.get(h, s.baseObject)
	if err != nil {
		return nil, err
	}
	if ok {
		if t != plumbing.AnyObject && obj.t != t {
			return nil, plumbing.ErrObjectNotFound
		}
		mo := &plumbing.MemoryObject{}
		mo.SetType(obj.t)
		mo.Write(obj.data)
		return mo, nil
	}
	o, err := s.Storage.EncodedObject(t, h)
	if errors.Is(err, plumbing.ErrObjectNotFound) {
		s.Storage.Reindex()
		o, err = s.Storage.EncodedObject(t, h)
	}
	return o, err
}

// baseObject finds a delta base outside the pack being read.
func (s *store) baseObject(h plumbing.Hash) (packed, error) {
	o, err := s.Storage.EncodedObject(plumbing.AnyObject, h)
	if err != nil {
		return packed{}, err
	}
	r, err := o.Reader()
	if err != nil {
		return packed{}, err
	}
	defer r.Close()
	data, err := io.ReadAll(r)
	return packed{o.Type(), data}, err
}

// HasEncodedObject looks in the packs and for a loose object, without
// loading go-git's pack indexes.
func (s *store) HasEncodedObject(h plumbing.Hash) error {
	if s.packs.has(h) {
		return nil
	}
	hex := h.String()
	if _, err := os.Stat(filepath.Join(s.dir, "objects", hex[:2], hex[2:])); err == nil {
		return nil
	}
	if _, err := os.Stat(filepath.Join(s.dir, "objects", "info", "alternates")); err == nil {
		return s.Storage.HasEncodedObject(h) // objects borrowed from another repository
	}
	return plumbing.ErrObjectNotFound
}

// RemoveReference deletes a reference as go-git does, then the folders it
// leaves empty under refs/idp/pending/<id>/ (git removes empty ref folders
// too). Pending ids are unique to one commit, so no other writer shares
// those folders; refs/idp/pending itself stays.
func (s *store) RemoveReference(name plumbing.ReferenceName) error {
	if err := s.Storage.RemoveReference(name); err != nil {
		return err
	}
	rest, ok := strings.CutPrefix(name.String(), pendingPrefix)
	if !ok {
		return nil
	}
	root := filepath.Join(s.dir, filepath.FromSlash(pendingPrefix))
	for dir := filepath.Dir(filepath.Join(root, filepath.FromSlash(rest))); dir != root && strings.HasPrefix(dir, root); dir = filepath.Dir(dir) {
		if os.Remove(dir) != nil {
			break // not empty (or gone): stop there
		}
	}
	return nil
}

var errRefLocked = errors.New("reference is locked by another git process")

func (s *store) setRef(ref, old *plumbing.Reference) error {
	name := ref.Name().String()
	if err := checkRefName(name); err != nil {
		return err
	}
	var content string
	switch ref.Type() {
	case plumbing.SymbolicReference:
		content = "ref: " + ref.Target().String() + "\n"
	case plumbing.HashReference:
		content = ref.Hash().String() + "\n"
	default:
		return fmt.Errorf("gitops: invalid reference %s", name)
	}
	path := filepath.Join(s.dir, filepath.FromSlash(name))
	lock := path + ".lock"
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	journal, err := s.journal(lock, content)
	if err != nil {
		return err
	}
	defer os.Remove(journal)
	f, err := createExclusive(lock)
	if err != nil {
		return fmt.Errorf("gitops: updating %s: %w", name, err)
	}
	_, werr := f.WriteString(content)
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil && old != nil {
		werr = s.checkOld(ref.Name(), old)
	}
	if werr != nil {
		os.Remove(lock)
		return werr
	}
	if err := os.Rename(lock, path); err != nil {
		os.Remove(lock)
		return err
	}
	return nil
}

// createExclusive creates a git lock file, waiting briefly (as git's
// core.filesRefLockTimeout does) when a git process holds it.
func createExclusive(lock string) (*os.File, error) {
	deadline := time.Now().Add(time.Second)
	for {
		f, err := os.OpenFile(lock, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err == nil {
			return f, nil
		}
		if !errors.Is(err, fs.ErrExist) || time.Now().After(deadline) {
			if errors.Is(err, fs.ErrExist) {
				return nil, fmt.Errorf("%w (%s exists)", errRefLocked, lock)
			}
			return nil, err
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (s *store) checkOld(name plumbing.ReferenceName, old *plumbing.Reference) error {
	cur, err := s.Storage.Reference(name)
	switch {
	case errors.Is(err, plumbing.ErrReferenceNotFound):
		if old.Hash().IsZero() {
			return nil
		}
		return storage.ErrReferenceHasChanged
	case err != nil:
		return err
	case cur.Hash() != old.Hash():
		return storage.ErrReferenceHasChanged
	}
	return nil
}

// journal records, before a lock file is created, which lock idp is about to
// hold and what it will contain; recoverRefs removes exactly those locks.
func (s *store) journal(lock, content string) (string, error) {
	dir := filepath.Join(s.state, "journal")
	sum := sha1.Sum([]byte(lock))
	path := filepath.Join(dir, hex.EncodeToString(sum[:]))
	return path, s.writeFileAtomic(path, []byte(lock+"\n"+content))
}

// writeFileAtomic writes a file by renaming a finished temporary file over
// it, so readers (and the next run after a kill) see the old or the new
// content, never half of it.
func (s *store) writeFileAtomic(path string, data []byte) error {
	tmpDir := filepath.Join(s.state, "tmp")
	if err := os.MkdirAll(tmpDir, 0o755); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp := filepath.Join(tmpDir, randomHex(8))
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// recover undoes what a killed idp process left behind. It runs with the
// repository lock held, so no other idp process is writing: lock files named
// in the journal are idp's own, and so are the temporary files. Pack indexes
// without their pack are go-git's unfinished fetches (go-git writes the index
// first, and would trust that broken index if the same pack arrived again).
func (s *store) recover() error {
	var errs []error
	journal := filepath.Join(s.state, "journal")
	entries, _ := os.ReadDir(journal)
	for _, e := range entries {
		path := filepath.Join(journal, e.Name())
		data, err := os.ReadFile(path)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		lock, content, _ := strings.Cut(string(data), "\n")
		if got, err := os.ReadFile(lock); err == nil && (len(got) == 0 || string(got) == content) {
			if err := os.Remove(lock); err != nil {
				errs = append(errs, err)
			}
		}
		if err := os.Remove(path); err != nil {
			errs = append(errs, err)
		}
	}
	tmp, _ := os.ReadDir(filepath.Join(s.state, "tmp"))
	for _, e := range tmp {
		os.RemoveAll(filepath.Join(s.state, "tmp", e.Name()))
	}
	packDir := filepath.Join(s.dir, "objects", "pack")
	packs, _ := os.ReadDir(packDir)
	for _, e := range packs {
		name := e.Name()
		if strings.HasPrefix(name, "pack-") && strings.HasSuffix(name, ".idx") {
			if _, err := os.Stat(filepath.Join(packDir, strings.TrimSuffix(name, ".idx")+".pack")); errors.Is(err, fs.ErrNotExist) {
				if err := os.Remove(filepath.Join(packDir, name)); err != nil {
					errs = append(errs, err)
				}
				s.Storage.Reindex()
			}
		}
	}
	return errors.Join(errs...)
}

// removeGoGitTemps deletes go-git's unfinished pack and object files. Only
// safe where no git process can be running: the clones in idp's cache.
func (s *store) removeGoGitTemps() {
	packDir := filepath.Join(s.dir, "objects", "pack")
	packs, _ := os.ReadDir(packDir)
	for _, e := range packs {
		if strings.HasPrefix(e.Name(), "tmp_pack_") || strings.HasPrefix(e.Name(), "tmp_obj_") {
			os.Remove(filepath.Join(packDir, e.Name()))
		}
	}
}

// gitFS hides from go-git what it must not see: a pack whose index is not
// written yet (git writes the pack first; go-git would fail every read on
// it) and lock files under refs/ (go-git would list them as references).
type gitFS struct{ billy.Filesystem }

func (g gitFS) Capabilities() billy.Capability { return billy.Capabilities(g.Filesystem) }

func (g gitFS) ReadDir(path string) ([]fs.FileInfo, error) {
	infos, err := g.Filesystem.ReadDir(path)
	if err != nil {
		return infos, err
	}
	clean := filepath.ToSlash(filepath.Clean(path))
	switch {
	case clean == "objects/pack":
		idx := map[string]bool{}
		for _, fi := range infos {
			if strings.HasSuffix(fi.Name(), ".idx") {
				idx[strings.TrimSuffix(fi.Name(), ".idx")] = true
			}
		}
		out := infos[:0]
		for _, fi := range infos {
			if n := fi.Name(); strings.HasSuffix(n, ".pack") && !idx[strings.TrimSuffix(n, ".pack")] {
				continue
			}
			out = append(out, fi)
		}
		return out, nil
	case clean == "refs" || strings.HasPrefix(clean, "refs/"):
		out := infos[:0]
		for _, fi := range infos {
			if !strings.HasSuffix(fi.Name(), ".lock") {
				out = append(out, fi)
			}
		}
		return out, nil
	}
	return infos, nil
}

// checkRefName applies git's check-ref-format rules, so a name sent by a
// server can never point outside refs/ or clash with a lock file.
func checkRefName(name string) error {
	if name == "HEAD" {
		return nil
	}
	bad := func(why string) error { return fmt.Errorf("gitops: invalid reference name %q: %s", name, why) }
	if !strings.HasPrefix(name, "refs/") {
		return bad("not under refs/")
	}
	if strings.Contains(name, "..") || strings.Contains(name, "@{") || strings.HasSuffix(name, "/") || strings.HasSuffix(name, ".") {
		return bad("forbidden sequence")
	}
	for _, c := range strings.Split(name, "/") {
		if c == "" || c[0] == '.' || strings.HasSuffix(c, ".lock") {
			return bad("bad component")
		}
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f || strings.ContainsRune(" ~^:?*[\\", r) {
			return bad("forbidden character")
		}
	}
	return nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// readRefFile reads a loose reference straight from disk (used where the
// value must not come from go-git's caches).
func readRefFile(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	return string(bytes.TrimSpace(data)), nil
}
