package templates

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

// BuiltinSource is the Source of the templates shipped inside idp.
const BuiltinSource = "built-in"

// Catalog is the set of templates idp offers, found the way Backstage's
// catalog finds them, and those it could not load, each with its reason.
// Several templates may share a name: Get takes the one loaded last (a
// later source overrides a built-in or an earlier one), and "SOURCE:NAME"
// picks any of them.
type Catalog struct {
	// Templates are sorted by name, then in the order they were loaded.
	Templates []*Template
	// Broken lists every template (or source) that could not be loaded.
	Broken []*Broken

	// Clone reads a Git repository at a ref (branch, tag or commit; "" for
	// the default branch): for Location targets and skeleton URLs that
	// point at Git hosting. Nil refuses them with a reason.
	Clone func(ctx context.Context, repoURL, ref string) (fs.FS, error)
	// Context bounds the clones.
	Context context.Context

	seq    int
	clones map[string]*rootFS
	depth  int // of Location targets that are URLs
}

// Broken is a template, or a template source, that could not be loaded.
type Broken struct {
	// Name is the template's metadata.name when it could be read.
	Name   string `json:"name,omitempty"`
	Source string `json:"source"`
	Origin string `json:"origin,omitempty"`
	File   string `json:"file,omitempty"`
	Line   int    `json:"line,omitempty"`
	Err    error  `json:"-"`
}

// Error is the reason, as it is shown.
func (b *Broken) Error() string { return b.Err.Error() }

// maxWalkEntries bounds the files and folders one source may make idp look
// at, so pointing idp at a home folder stops rather than hangs.
const maxWalkEntries = 50000

// skipDir names folders discovery never enters.
func skipDir(name string) bool {
	return name == "node_modules" || (strings.HasPrefix(name, ".") && name != ".")
}

// LoadFS adds every template in fsys under root (a folder, searched at any
// depth, or one file): each *.yaml or *.yml file holding kind Template
// documents, and the targets of kind Location documents. A template that
// cannot be loaded is listed in Broken; the error is for a source that
// cannot be read at all, or that holds no template.
func (c *Catalog) LoadFS(fsys fs.FS, root, source string) error {
	rfs, ok := fsys.(*rootFS)
	if !ok {
		rfs = newRootFS(fsys, source)
	}
	return c.load(rfs, orDot(root), source)
}

// LoadDir adds the templates in a folder (or one file) on disk.
func (c *Catalog) LoadDir(dir string) error {
	info, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("templates: %w", err)
	}
	rootDir, root := dir, "."
	if !info.IsDir() {
		rootDir, root = filepath.Dir(dir), filepath.Base(dir)
	}
	rfs, err := openRootDir(rootDir)
	if err != nil {
		return fmt.Errorf("templates: %w", err)
	}
	rfs.source = rootDir
	return c.load(rfs, root, rootDir)
}

func (c *Catalog) load(rfs *rootFS, root, origin string) error {
	before, brokenBefore := len(c.Templates), len(c.Broken)
	info, err := rfs.Stat(root)
	if err != nil {
		return fmt.Errorf("templates %s: %w", display(origin, root), err)
	}
	seen := map[string]bool{}
	if info.IsDir() {
		n := 0
		if err := c.walk(rfs, root, origin, seen, &n); err != nil {
			return err
		}
	} else {
		c.loadFile(rfs, root, origin, origin, seen)
	}
	c.dropSkeletons(origin, before, brokenBefore)
	if len(c.Templates) == before && len(c.Broken) == brokenBefore {
		return fmt.Errorf("templates %s: no kind: %s document in any *.yaml or *.yml file in it", display(origin, root), Kind)
	}
	c.sort()
	return nil
}

func (c *Catalog) walk(rfs *rootFS, dir, origin string, seen map[string]bool, n *int) error {
	real := mustResolve(rfs, dir)
	entries, err := fs.ReadDir(rfs.fsys, real)
	if err != nil {
		return fmt.Errorf("templates %s: %w", display(origin, dir), err)
	}
	if rfs.links != nil {
		for _, e := range entries {
			if e.Type()&fs.ModeSymlink == 0 {
				rfs.markPlain(path.Join(real, e.Name()))
			}
		}
	}
	for _, e := range entries {
		if *n++; *n > maxWalkEntries {
			return fmt.Errorf("templates %s: more than %d files and folders; point idp at the templates' folder", display(origin, "."), maxWalkEntries)
		}
		p := path.Join(dir, e.Name())
		isDir, isFile := e.IsDir(), e.Type().IsRegular()
		if e.Type()&fs.ModeSymlink != 0 {
			info, err := rfs.Stat(p)
			var le *LinkError
			switch {
			case errors.As(err, &le):
				c.broken(&Broken{Source: display(origin, path.Dir(p)), Origin: origin, File: p, Err: err})
				continue
			case err != nil:
				continue // a dangling link holds no template
			}
			isDir, isFile = info.IsDir(), info.Mode().IsRegular()
		}
		switch {
		case isDir && !skipDir(e.Name()):
			if strings.Count(p, "/") >= maxDepth {
				continue
			}
			if err := c.walk(rfs, p, origin, seen, n); err != nil {
				return err
			}
		case isFile && (strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml")):
			c.loadFile(rfs, p, origin, origin, seen)
		}
	}
	return nil
}

// mustResolve resolves a folder already known to be inside the root.
func mustResolve(rfs *rootFS, p string) string {
	if r, err := rfs.resolve(p); err == nil {
		return r
	}
	return p
}

// loadFile reads one catalog file: its Template documents, and the
// targets of its Location documents.
func (c *Catalog) loadFile(rfs *rootFS, file, origin, _ string, seen map[string]bool) {
	if seen != nil {
		if seen[file] {
			return
		}
		seen[file] = true
	}
	where := display(origin, file)
	data, err := rfs.ReadFile(file)
	if err != nil {
		c.broken(&Broken{Source: display(origin, path.Dir(file)), Origin: origin, File: file, Err: &FileError{File: where, Err: unwrapPath(err)}})
		return
	}
	if !mayHoldCatalogDocs(data) {
		return
	}
	docs, perr := parseDocuments(data)
	for _, d := range docs {
		switch {
		case d.kind == Kind:
			c.addDoc(rfs, file, origin, d)
		case d.kind == "Location" && d.err != nil:
			c.broken(&Broken{Name: d.name, Source: display(origin, path.Dir(file)), Origin: origin, File: file, Line: d.line, Err: &FileError{File: where, Err: d.err}})
		case d.kind == "Location":
			for _, target := range d.targets {
				c.loadTarget(rfs, file, origin, target, seen)
			}
		}
	}
	if perr != nil && templateKind.Match(data) {
		c.broken(&Broken{Source: display(origin, path.Dir(file)), Origin: origin, File: file, Err: &FileError{File: where, Err: perr}})
	}
}

func (c *Catalog) addDoc(rfs *rootFS, file, origin string, d document) {
	where := display(origin, file)
	if d.err != nil {
		c.broken(&Broken{Name: d.name, Source: display(origin, path.Dir(file)), Origin: origin, File: file, Line: d.line, Err: &FileError{File: where, Err: d.err}})
		return
	}
	t := d.tpl
	t.fsys, t.dir, t.File, t.Origin = rfs, path.Dir(file), file, origin
	t.Source = display(origin, t.dir)
	if err := c.fetchRemotes(t); err != nil {
		c.broken(&Broken{Name: t.Name, Source: t.Source, Origin: origin, File: file, Line: t.Line, Err: &FileError{File: where, Err: err}})
		return
	}
	if err := t.Lint(); err != nil {
		c.broken(&Broken{Name: t.Name, Source: t.Source, Origin: origin, File: file, Line: t.Line, Err: &FileError{File: where, Err: err}})
		return
	}
	c.add(t)
}

// loadTarget follows one target of a Location: a path or glob relative to
// the Location's file (never above its source), or a URL.
func (c *Catalog) loadTarget(rfs *rootFS, file, origin, target string, seen map[string]bool) {
	fail := func(err error) {
		c.broken(&Broken{Source: display(origin, path.Dir(file)), Origin: origin, File: file,
			Err: &FileError{File: display(origin, file), Err: fmt.Errorf("Location target %s: %w", target, err)}})
	}
	if IsGitURL(target) {
		c.loadRemoteTarget(target, fail)
		return
	}
	p := path.Join(path.Dir(file), strings.TrimPrefix(target, "./"))
	if strings.HasPrefix(target, "/") || p == ".." || strings.HasPrefix(p, "../") {
		fail(errors.New("leaves the source: a Location's targets are relative to it and stay inside its folder or repository"))
		return
	}
	if !strings.ContainsAny(p, "*?[") {
		info, err := rfs.Stat(p)
		if err != nil {
			fail(unwrapPath(err))
			return
		}
		if info.IsDir() {
			n := 0
			if err := c.walk(rfs, p, origin, seen, &n); err != nil {
				fail(err)
			}
			return
		}
		c.loadFile(rfs, p, origin, origin, seen)
		return
	}
	matches, err := globFiles(rfs, p)
	if err != nil {
		fail(err)
		return
	}
	if len(matches) == 0 {
		fail(errors.New("matches no file"))
	}
	for _, m := range matches {
		c.loadFile(rfs, m, origin, origin, seen)
	}
}

func (c *Catalog) loadRemoteTarget(target string, fail func(error)) {
	if c.depth >= 3 {
		fail(errors.New("Locations nest more than 3 deep"))
		return
	}
	src, err := ParseGitSource(target)
	if err != nil {
		fail(err)
		return
	}
	rfs, err := c.clone(src)
	if err != nil {
		fail(err)
		return
	}
	c.depth++
	defer func() { c.depth-- }()
	if err := c.load(rfs, orDot(src.Path), src.Display()); err != nil {
		fail(err)
	}
}

// globFiles expands a glob with * ? [...] in a component and ** for any
// number of folders, as Backstage's file locations do.
func globFiles(rfs *rootFS, pattern string) ([]string, error) {
	parts := strings.Split(pattern, "/")
	base := []string{}
	for _, p := range parts {
		if strings.ContainsAny(p, "*?[") {
			break
		}
		base = append(base, p)
	}
	start := orDot(path.Join(base...))
	var out []string
	n := 0
	err := fs.WalkDir(rfs, start, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if n++; n > maxWalkEntries {
			return fmt.Errorf("more than %d files", maxWalkEntries)
		}
		if d.IsDir() {
			if p != start && skipDir(d.Name()) {
				return fs.SkipDir
			}
			return nil
		}
		if globMatch(parts, strings.Split(p, "/")) {
			out = append(out, p)
		}
		return nil
	})
	return out, err
}

// dropSkeletons removes what was loaded from inside another template's
// skeleton folder: a template that creates templates carries their files.
func (c *Catalog) dropSkeletons(origin string, from, brokenFrom int) {
	var dirs []string
	for _, t := range c.Templates[from:] {
		for _, s := range t.Steps {
			url, _ := s.Input["url"].(string)
			if !strings.HasPrefix(s.Action, "fetch:") || url == "" || strings.Contains(url, "${{") || strings.Contains(url, "://") {
				continue
			}
			d := path.Join(t.dir, url)
			if d != t.dir && d != "." && !strings.HasPrefix(d, "../") {
				dirs = append(dirs, d)
			}
		}
	}
	inside := func(file string) bool {
		return slices.ContainsFunc(dirs, func(d string) bool { return strings.HasPrefix(file, d+"/") })
	}
	c.Templates = slices.DeleteFunc(c.Templates, func(t *Template) bool { return t.Origin == origin && inside(t.File) })
	c.Broken = slices.DeleteFunc(c.Broken, func(b *Broken) bool { return b.Origin == origin && inside(b.File) })
}

// display names a file or folder of a source for people.
func display(origin, rel string) string {
	if origin == BuiltinSource {
		return origin
	}
	if rel == "." || rel == "" {
		return origin
	}
	if IsGitURL(origin) {
		return strings.TrimSuffix(origin, "/") + "/" + rel
	}
	return filepath.Join(origin, filepath.FromSlash(rel))
}

func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) && errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s does not exist", pe.Path)
	}
	return err
}

func (c *Catalog) broken(b *Broken) { c.Broken = append(c.Broken, b) }

func (c *Catalog) add(t *Template) {
	c.seq++
	t.seq = c.seq
	c.Templates = append(c.Templates, t)
}

func (c *Catalog) sort() {
	sort.SliceStable(c.Templates, func(i, j int) bool {
		a, b := c.Templates[i], c.Templates[j]
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.seq < b.seq
	})
}

// ErrUnknown is wrapped by Get's error for a name no source defines.
var ErrUnknown = errors.New("unknown template")

// Chosen reports whether t is the template `idp new NAME` takes for its
// name: the one loaded last.
func (c *Catalog) Chosen(t *Template) bool {
	for _, o := range c.Templates {
		if o.Name == t.Name && o.seq > t.seq {
			return false
		}
	}
	return true
}

// Others lists the other templates with t's name.
func (c *Catalog) Others(t *Template) []*Template {
	var out []*Template
	for _, o := range c.Templates {
		if o.Name == t.Name && o != t {
			out = append(out, o)
		}
	}
	return out
}

// Ref is how `idp new` names t when another template has its name.
func (t *Template) Ref() string { return t.Origin + ":" + t.Name }

// Get finds a template by name (the one loaded last, when several share
// it), or by SOURCE:NAME, where SOURCE is the template's configured source
// ("built-in", a folder, a Git URL) or its own folder. A template that
// could not be loaded is an error with its reason.
func (c *Catalog) Get(ref string) (*Template, error) {
	name, source := ref, ""
	if i := strings.LastIndex(ref, ":"); i >= 0 {
		source, name = ref[:i], ref[i+1:]
	}
	var found *Template
	for _, t := range c.Templates {
		if t.Name == name && (source == "" || sameSource(source, t)) {
			found = t
		}
	}
	if found != nil {
		if found.Refusal != "" {
			return nil, &RefusedError{Template: found.Name, Reason: found.Refusal}
		}
		return found, nil
	}
	for _, b := range c.Broken {
		if b.Name == name && (source == "" || source == b.Origin || source == b.Source) {
			return nil, fmt.Errorf("template %s cannot be used: %w", name, b.Err)
		}
	}
	var names []string
	for _, t := range c.Templates {
		if !slices.Contains(names, t.Name) {
			names = append(names, t.Name)
		}
	}
	if source != "" {
		return nil, fmt.Errorf("%w %q in %s (templates: %s)", ErrUnknown, name, source, strings.Join(names, ", "))
	}
	return nil, fmt.Errorf("%w %q (templates: %s)", ErrUnknown, name, strings.Join(names, ", "))
}

func sameSource(source string, t *Template) bool {
	if source == t.Origin || source == t.Source {
		return true
	}
	if !IsGitURL(source) && t.Origin != BuiltinSource && !IsGitURL(t.Origin) {
		a, err1 := filepath.Abs(source)
		b, err2 := filepath.Abs(t.Origin)
		s, err3 := filepath.Abs(t.Source)
		return err1 == nil && err2 == nil && err3 == nil && (a == b || a == s)
	}
	return false
}

// RefusedError is a template idp loaded but cannot run: it uses an action
// only a third-party Backstage plugin provides.
type RefusedError struct {
	Template string
	Reason   string
}

func (e *RefusedError) Error() string {
	if e.Template == "" {
		return e.Reason
	}
	return fmt.Sprintf("template %s cannot run in idp: %s", e.Template, e.Reason)
}

// IsGitURL reports whether a template source is a Git URL rather than a
// folder: it has a scheme or the scp-like user@host:path form.
func IsGitURL(s string) bool {
	if strings.Contains(s, "://") {
		return true
	}
	at, colon := strings.Index(s, "@"), strings.Index(s, ":")
	return at > 0 && colon > at && !strings.Contains(s[:colon], "/")
}
