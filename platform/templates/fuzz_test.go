package templates

import (
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
)

// FuzzCleanRelPath: whatever CleanRelPath accepts stays inside its root
// and out of .git.
func FuzzCleanRelPath(f *testing.F) {
	for _, s := range []string{"a/b", "../x", "/etc", "a/../../b", ".git/config", "a/.GIT./x", `a\b`, "./a//b/", "", ".", "a/./b", "C:x", "\x00"} {
		f.Add(s)
	}
	root := filepath.FromSlash("/work/root")
	f.Fuzz(func(t *testing.T, p string) {
		clean, err := CleanRelPath(p)
		if err != nil {
			return
		}
		if clean == "" {
			return
		}
		if path.IsAbs(clean) || clean != path.Clean(clean) {
			t.Fatalf("%q -> %q is not clean and relative", p, clean)
		}
		for _, c := range strings.Split(clean, "/") {
			if c == ".." || strings.EqualFold(strings.TrimRight(c, ". "), ".git") {
				t.Fatalf("%q -> %q has %q", p, clean, c)
			}
		}
		joined := filepath.Join(root, filepath.FromSlash(clean))
		if rel, err := filepath.Rel(root, joined); err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
			t.Fatalf("%q -> %q leaves the root: %s", p, clean, joined)
		}
	})
}

// FuzzSkeletonNames renders a skeleton whose file name and values come
// from the fuzzer: no panic, and every file written lands under the target.
func FuzzSkeletonNames(f *testing.F) {
	f.Add("${{ values.p }}", "../../etc/passwd")
	f.Add("${{ values.p }}/x", "")
	f.Add("a${{ values.p | replace('.', '/') }}", "..x..y")
	f.Add("${{ values.p }}.txt", ".git")
	f.Add("{% raw %}${{ values.p }}{% endraw %}", "x")
	f.Fuzz(func(t *testing.T, name, value string) {
		if name == "" || strings.Contains(name, "/") || !fs.ValidPath("s/"+name) {
			return
		}
		tpl := &Template{Name: "fuzz", fsys: fstest.MapFS{"s/" + name: {Data: []byte("${{ values.p }}")}}}
		tpl.Steps = []*Step{{Action: ActionFetchTemplate, Input: map[string]any{
			"url": "s", "targetPath": "out", "values": map[string]any{"p": value},
		}}}
		ws := &workspace{files: map[string]File{}}
		if err := tpl.fetch(ActionFetchTemplate, input{"url": "s", "targetPath": "out", "values": map[string]any{"p": value}}, ws); err != nil {
			return
		}
		for p := range ws.files {
			if !strings.HasPrefix(p, "out/") {
				t.Fatalf("name %q, value %q wrote %q outside out/", name, value, p)
			}
			if _, err := CleanRelPath(p); err != nil {
				t.Fatalf("name %q, value %q wrote the bad path %q: %v", name, value, p, err)
			}
		}
	})
}

// FuzzSkeletonLinks builds a template tree on disk whose skeleton holds a
// link (to a folder or a file) with a target from the fuzzer, beside a
// secret outside the source: whatever the links say, no file of the run
// holds the secret, and a refused link is named in the error.
func FuzzSkeletonLinks(f *testing.F) {
	for _, s := range [][2]string{
		{"skeleton/l", "../../outside"}, {"skeleton", "../outside"}, {"skeleton/l", "/etc"},
		{"skeleton/a/l", "../../../outside/secret.txt"}, {"skeleton/l", "."}, {"skeleton/l", ".."},
		{"skeleton/l", "../skeleton/../../outside"}, {"l", "../outside"}, {"skeleton/l", "../shared"},
		{"skeleton/l", "l"}, {"skeleton/l", "ABS/secret.txt"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, link, target string) {
		if !fs.ValidPath(link) || link == "." || strings.Contains(link, "\x00") || strings.Contains(target, "\x00") || len(target) > 200 {
			return
		}
		base := t.TempDir()
		src, outside := filepath.Join(base, "src"), filepath.Join(base, "outside")
		target = strings.ReplaceAll(target, "ABS", outside)
		for p, data := range map[string]string{
			"src/t/template.yaml":     doc("fuzz", "    - action: fetch:template\n      input: {url: ./skeleton}\n"),
			"src/t/skeleton/a/ok.txt": "ok",
			"src/shared/s.txt":        "shared",
			"outside/secret.txt":      "SECRET",
		} {
			full := filepath.Join(base, filepath.FromSlash(p))
			os.MkdirAll(filepath.Dir(full), 0o755)
			os.WriteFile(full, []byte(data), 0o644)
		}
		at := filepath.Join(src, "t", filepath.FromSlash(link))
		os.RemoveAll(at)
		os.MkdirAll(filepath.Dir(at), 0o755)
		if err := os.Symlink(target, at); err != nil {
			return
		}
		c := &Catalog{}
		if err := c.LoadDir(src); err != nil {
			return
		}
		for _, b := range c.Broken {
			var le *LinkError
			if errors.As(b.Err, &le) && le.Link == "" {
				t.Fatalf("a refused link is not named: %v", b.Err)
			}
		}
		tpl, err := c.Get("fuzz")
		if err != nil {
			return
		}
		plan, err := tpl.Execute(nil, Env{})
		if err != nil {
			return
		}
		for _, file := range plan.Files {
			if strings.Contains(string(file.Content), "SECRET") {
				t.Fatalf("link %s -> %q: %s holds the secret from outside the source", link, target, file.Path)
			}
		}
	})
}

// FuzzResolve: over a cloned tree (links as Git stores them), whatever a
// link says, a resolved path is a valid path inside the tree.
func FuzzResolve(f *testing.F) {
	for _, s := range []string{"../x", "/etc", "..", ".", "a/../..", "b", "a/b/../../../c", "l"} {
		f.Add(s, "l/x")
	}
	f.Fuzz(func(t *testing.T, target, name string) {
		if !fs.ValidPath(name) {
			return
		}
		r := newRootFS(fstest.MapFS{"l": {Data: []byte(target), Mode: fs.ModeSymlink}, "b/x": {Data: []byte("x")}}, "fuzz")
		p, err := r.resolve(name)
		if err != nil {
			return
		}
		if !fs.ValidPath(p) {
			t.Fatalf("%q via l -> %q resolved to the invalid path %q", name, target, p)
		}
	})
}
