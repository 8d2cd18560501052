package templates

import (
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

// Catalog is the set of templates idp offers, in name order. A template
// from a later source replaces a built-in (or earlier) one of the same
// name, so an organisation can adapt a golden path.
type Catalog struct {
	Templates []*Template
}

// LoadFS adds every template under root in fsys: root itself when it holds
// a template.yaml, else each folder directly under it that does.
func (c *Catalog) LoadFS(fsys fs.FS, root, source string) error {
	root = orDot(root)
	if _, err := fs.Stat(fsys, path.Join(root, FileName)); err == nil {
		t, err := Load(fsys, root, source)
		if err != nil {
			return err
		}
		c.add(t)
		return nil
	}
	entries, err := fs.ReadDir(fsys, root)
	if err != nil {
		return fmt.Errorf("templates %s: %w", source, err)
	}
	found := 0
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		dir := path.Join(root, e.Name())
		if _, err := fs.Stat(fsys, path.Join(dir, FileName)); err != nil {
			continue
		}
		t, err := Load(fsys, dir, joinSource(source, e.Name()))
		if err != nil {
			return err
		}
		c.add(t)
		found++
	}
	if found == 0 {
		return fmt.Errorf("templates %s: no %s in it or in the folders directly under it", source, FileName)
	}
	return nil
}

func joinSource(source, name string) string {
	if source == BuiltinSource {
		return source
	}
	return filepath.Join(source, name)
}

// LoadDir adds the templates in a folder on disk.
func (c *Catalog) LoadDir(dir string) error {
	info, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("templates: %w", err)
	}
	if !info.IsDir() {
		return fmt.Errorf("templates: %s is not a folder", dir)
	}
	return c.LoadFS(os.DirFS(dir), ".", dir)
}

func (c *Catalog) add(t *Template) {
	if i := slices.IndexFunc(c.Templates, func(x *Template) bool { return x.Name == t.Name }); i >= 0 {
		c.Templates[i] = t
	} else {
		c.Templates = append(c.Templates, t)
	}
	sort.Slice(c.Templates, func(i, j int) bool { return c.Templates[i].Name < c.Templates[j].Name })
}

// ErrUnknown is wrapped by Get's error for a name no source defines.
var ErrUnknown = errors.New("unknown template")

// Get finds a template by name.
func (c *Catalog) Get(name string) (*Template, error) {
	for _, t := range c.Templates {
		if t.Name == name {
			return t, nil
		}
	}
	names := make([]string, len(c.Templates))
	for i, t := range c.Templates {
		names[i] = t.Name
	}
	return nil, fmt.Errorf("%w %q (templates: %s)", ErrUnknown, name, strings.Join(names, ", "))
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
