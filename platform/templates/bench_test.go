package templates

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/back-stack/idp/assets"
)

// BenchmarkLoadFolder100 loads a folder of 100 templates as an
// organisation keeps them: each a copy of the built-in go-service (its
// template.yaml and a 13-file skeleton, every file linted), two levels
// deep, with a catalog-info.yaml and a README beside each. It measures
// discovery, parsing and the lint of every skeleton.
func BenchmarkLoadFolder100(b *testing.B) {
	dir := b.TempDir()
	src := assets.Templates()
	for i := range 100 {
		root := filepath.Join(dir, fmt.Sprintf("team-%d", i%10), fmt.Sprintf("svc-%03d", i))
		err := fs.WalkDir(src, "go-service", func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			data, err := fs.ReadFile(src, p)
			if err != nil {
				return err
			}
			if path.Base(p) == FileName {
				data = []byte(strings.Replace(string(data), "name: go-service", fmt.Sprintf("name: svc-%03d", i), 1))
			}
			out := filepath.Join(root, filepath.FromSlash(strings.TrimPrefix(p, "go-service/")))
			if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
				return err
			}
			return os.WriteFile(out, data, 0o644)
		})
		if err != nil {
			b.Fatal(err)
		}
		os.WriteFile(filepath.Join(root, "catalog-info.yaml"), []byte("apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: x}\n"), 0o644)
		os.WriteFile(filepath.Join(root, "README.md"), []byte("# a golden path\n"), 0o644)
	}
	b.ResetTimer()
	for b.Loop() {
		c := &Catalog{}
		if err := c.LoadDir(dir); err != nil {
			b.Fatal(err)
		}
		if len(c.Templates) != 100 || len(c.Broken) != 0 {
			b.Fatalf("%d templates, broken %v", len(c.Templates), c.Broken)
		}
	}
}
