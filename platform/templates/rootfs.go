package templates

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
)

// LinkError reports a symbolic link that leads outside a template's source:
// a template reads only its own files, whatever its links say.
type LinkError struct {
	Source string // the template source (a folder, a Git URL, built-in)
	Link   string // the link, relative to the source
	Target string // what the link says
	Reason string
}

func (e *LinkError) Error() string {
	return fmt.Sprintf("%s is a symbolic link to %s, %s of %s: a template may read only its own source's files",
		e.Link, e.Target, e.Reason, e.Source)
}

// maxLinkHops bounds the links followed to resolve one path, as the
// kernel's ELOOP does.
const maxLinkHops = 40

// maxDepth bounds how deep a path may be, so a link to a parent folder
// cannot make a walk endless.
const maxDepth = 64

// rootFS is one template source's files: every path is resolved one
// component at a time, links are followed only while they stay inside the
// root, and only the resolved path (which holds no link) is opened. A local
// folder is read through os.Root on top, so that a link swapped in after the
// check still cannot reach outside.
type rootFS struct {
	fsys   fs.FS
	links  fs.ReadLinkFS // nil when the files hold no links (embedded)
	source string        // for messages
	abs    string        // the root on disk, for absolute links into it; "" if none

	mu    sync.Mutex
	plain map[string]bool // paths seen not to be links, so each is looked at once
}

func (r *rootFS) isPlain(p string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.plain[p]
}

func (r *rootFS) markPlain(p string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.plain == nil {
		r.plain = map[string]bool{}
	}
	r.plain[p] = true
}

// newRootFS wraps fsys; source names it in errors.
func newRootFS(fsys fs.FS, source string) *rootFS {
	r := &rootFS{fsys: fsys, source: source}
	if l, ok := fsys.(fs.ReadLinkFS); ok {
		r.links = l
	}
	return r
}

// openRootDir opens a folder on disk as a template source.
func openRootDir(dir string) (*rootFS, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real // the source itself may be reached through a link
	}
	root, err := os.OpenRoot(abs)
	if err != nil {
		return nil, err
	}
	r := newRootFS(root.FS(), dir)
	r.abs = abs
	return r, nil
}

// resolve returns name with every link followed, checked to stay inside.
func (r *rootFS) resolve(name string) (string, error) {
	if !fs.ValidPath(name) {
		return "", &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	if r.links == nil || name == "." {
		return name, nil
	}
	rest := strings.Split(name, "/")
	if len(rest) > maxDepth {
		return "", fmt.Errorf("%s: more than %d folders deep (a link loop?)", name, maxDepth)
	}
	done := ""
	hops := 0
	for len(rest) > 0 {
		c := rest[0]
		rest = rest[1:]
		cand := path.Join(done, c)
		if r.isPlain(cand) {
			done = cand
			continue
		}
		info, err := r.links.Lstat(cand)
		if err != nil {
			if len(rest) == 0 || errors.Is(err, fs.ErrNotExist) {
				return "", &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
			}
			return "", err
		}
		if info.Mode()&fs.ModeSymlink == 0 {
			r.markPlain(cand)
			done = cand
			continue
		}
		if hops++; hops > maxLinkHops {
			return "", fmt.Errorf("%s: too many symbolic links (a loop?)", cand)
		}
		target, err := r.links.ReadLink(cand)
		if err != nil {
			return "", err
		}
		next, err := r.linkTarget(cand, done, target)
		if err != nil {
			return "", err
		}
		parts := []string{}
		if next != "." {
			parts = strings.Split(next, "/")
		}
		rest = append(parts, rest...)
		done = ""
	}
	if done == "" {
		return ".", nil
	}
	return done, nil
}

// linkTarget turns a link's target into a path from the root, or refuses it.
func (r *rootFS) linkTarget(link, dir, target string) (string, error) {
	bad := func(reason string) (string, error) {
		return "", &LinkError{Source: r.source, Link: link, Target: target, Reason: reason}
	}
	t := filepath.ToSlash(target)
	if strings.HasPrefix(t, "/") || filepath.IsAbs(target) {
		if r.abs == "" {
			return bad("an absolute path outside")
		}
		rel, err := filepath.Rel(r.abs, filepath.Clean(target))
		if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return bad("outside")
		}
		return path.Clean(filepath.ToSlash(rel)), nil
	}
	j := path.Join(dir, t)
	if j == ".." || strings.HasPrefix(j, "../") {
		return bad("outside")
	}
	return j, nil
}

func (r *rootFS) Open(name string) (fs.File, error) {
	real, err := r.resolve(name)
	if err != nil {
		return nil, err
	}
	return r.fsys.Open(real)
}

func (r *rootFS) Stat(name string) (fs.FileInfo, error) {
	real, err := r.resolve(name)
	if err != nil {
		return nil, err
	}
	info, err := fs.Stat(r.fsys, real)
	if err != nil {
		return nil, err
	}
	return renamed{info, path.Base(name)}, nil
}

func (r *rootFS) ReadFile(name string) ([]byte, error) {
	real, err := r.resolve(name)
	if err != nil {
		return nil, err
	}
	return fs.ReadFile(r.fsys, real)
}

// ReadDir lists a folder with each link shown as what it resolves to, so a
// walk goes into linked folders inside the root and a link that leads out
// is an error naming it.
func (r *rootFS) ReadDir(name string) ([]fs.DirEntry, error) {
	real, err := r.resolve(name)
	if err != nil {
		return nil, err
	}
	entries, err := fs.ReadDir(r.fsys, real)
	if err != nil {
		return nil, err
	}
	for i, e := range entries {
		if e.Type()&fs.ModeSymlink == 0 {
			if r.links != nil {
				r.markPlain(path.Join(real, e.Name()))
			}
			continue
		}
		info, err := r.Stat(path.Join(name, e.Name()))
		if err != nil {
			return nil, err
		}
		entries[i] = fs.FileInfoToDirEntry(info)
	}
	return entries, nil
}

// renamed is a FileInfo under the name it was asked for, not the link
// target's.
type renamed struct {
	fs.FileInfo
	name string
}

func (r renamed) Name() string { return r.name }
