package templates

import (
	"io/fs"
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
