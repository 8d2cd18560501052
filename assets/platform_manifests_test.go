package assets

import (
	"io/fs"
	"strings"
	"testing"
)

// The bootstrap's templates are embedded, laid out as the GitOps
// repository is, with their shared helpers.
func TestPlatformManifestsEmbedded(t *testing.T) {
	src := PlatformManifests()
	for _, want := range []string{
		"helpers.gotmpl",
		"bootstrap/root.yaml.tmpl",
		"platform/argocd/application.yaml.tmpl",
		"platform/crossplane/providers.yaml.tmpl",
		"platform/crossplane/xrds/aksclusters.yaml.tmpl",
		"platform/crossplane/compositions/aksclusters.yaml.tmpl",
		"infrastructure/aks.yaml.tmpl",
	} {
		if _, err := fs.Stat(src, want); err != nil {
			t.Errorf("%s is not embedded: %v", want, err)
		}
	}
	n := 0
	err := fs.WalkDir(src, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		switch {
		case strings.HasSuffix(p, ".tmpl"):
			n++
		case p == "helpers.gotmpl" || p == "README.md":
		default:
			t.Errorf("%s is neither a template nor the helpers: Render would skip it", p)
		}
		return nil
	})
	if err != nil || n < 20 {
		t.Errorf("%d templates (%v)", n, err)
	}
}
