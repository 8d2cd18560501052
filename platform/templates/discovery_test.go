package templates

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
)

func doc(name, steps string) string {
	return "apiVersion: scaffolder.backstage.io/v1beta3\nkind: Template\nmetadata:\n  name: " + name + "\nspec:\n  type: service\n  steps:\n" + steps
}

const plainStep = "    - action: fetch:plain\n      input: {url: ./skeleton}\n"

func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for p, data := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func names(c *Catalog) []string {
	var out []string
	for _, t := range c.Templates {
		out = append(out, t.Name)
	}
	return out
}

// Templates are found as Backstage's catalog finds them: any *.yaml or
// *.yml at any depth, several documents per file, Location targets with
// globs; a template's own skeleton is not searched; one broken template is
// listed with its reason and hides nothing.
func TestDiscovery(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"a/deep/er/svc.yaml":           doc("svc", plainStep),
		"a/deep/er/skeleton/x":         "x",
		"a/deep/er/skeleton/t.yaml":    doc("inside-a-skeleton", plainStep), // a template that makes templates
		"multi.yml":                    doc("one", "    - action: debug:log\n") + "---\n" + doc("two", "    - action: debug:log\n") + "---\napiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: c}\n",
		"broken/template.yaml":         doc("broken", "    - action: fetch:template\n      input: {url: ./nowhere}\n"),
		"syntax/template.yaml":         "apiVersion: scaffolder.backstage.io/v1beta3\nkind: Template\nmetadata: {name: [\n",
		"notes/README.md":              "kind: Template",
		"other/catalog-info.yaml":      "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: c}\n",
		"node_modules/x/template.yaml": doc("from-node-modules", "    - action: debug:log\n"),
		".github/template.yaml":        doc("from-dot-dir", "    - action: debug:log\n"),
	})
	c := &Catalog{}
	if err := c.LoadDir(dir); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(names(c), " "); got != "one svc two" {
		t.Errorf("templates %q; want one svc two", got)
	}
	reasons := map[string]string{}
	for _, b := range c.Broken {
		reasons[b.Name+"@"+b.File] = b.Error()
	}
	if r := reasons["broken@broken/template.yaml"]; !strings.Contains(r, filepath.Join(dir, "broken", "template.yaml")) || !strings.Contains(r, `url "./nowhere"`) {
		t.Errorf("broken: %q (all: %v)", r, reasons)
	}
	if r := reasons["@syntax/template.yaml"]; !strings.Contains(r, "template.yaml: line 3: did not find expected node content") {
		t.Errorf("a YAML syntax error: %q (all: %v)", r, reasons)
	}
	if len(c.Broken) != 2 {
		t.Errorf("broken: %v", reasons)
	}
	if _, err := c.Get("broken"); err == nil || !strings.Contains(err.Error(), "template broken cannot be used") {
		t.Errorf("Get(broken) = %v", err)
	}
	tpl, err := c.Get("two")
	if err != nil || tpl.File != "multi.yml" || tpl.Line != 10 || tpl.Type != "service" {
		t.Errorf("Get(two) = %+v, %v", tpl, err)
	}
}

func TestLocations(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"catalog/all.yaml":          "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata: {name: golden}\nspec:\n  targets:\n    - ../templates/*/template.yaml\n    - ../extra/one.yaml\n    - ./missing.yaml\n    - ../../outside.yaml\n",
		"templates/a/template.yaml": doc("a", "    - action: debug:log\n"),
		"templates/b/template.yaml": doc("b", "    - action: debug:log\n"),
		"extra/one.yaml":            doc("extra", "    - action: debug:log\n"),
	})
	c := &Catalog{}
	// A Location file as the source: its targets are followed, inside the
	// source's folder (here: the file's folder's parent is outside).
	if err := c.LoadDir(filepath.Join(dir, "catalog", "all.yaml")); err != nil || len(c.Templates) != 0 || len(c.Broken) != 4 {
		t.Errorf("targets above the Location's folder loaded: %v %v %v", err, names(c), c.Broken)
	}
	c = &Catalog{}
	if err := c.LoadDir(dir); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(names(c), " "); got != "a b extra" {
		t.Errorf("templates %q", got)
	}
	var msgs []string
	for _, b := range c.Broken {
		msgs = append(msgs, b.Error())
	}
	all := strings.Join(msgs, "\n")
	if !strings.Contains(all, "Location target ./missing.yaml: catalog/missing.yaml does not exist") || !strings.Contains(all, "Location target ../../outside.yaml: leaves the source") {
		t.Errorf("broken targets:\n%s", all)
	}
}

// Two templates with one name: both listed; Get takes the one loaded last,
// SOURCE:NAME the other.
func TestDuplicateNames(t *testing.T) {
	a := writeTree(t, map[string]string{"x/template.yaml": doc("svc", "    - action: debug:log\n      input: {message: a}\n")})
	b := writeTree(t, map[string]string{"template.yaml": doc("svc", "    - action: debug:log\n      input: {message: b}\n")})
	c := &Catalog{}
	for _, d := range []string{a, b} {
		if err := c.LoadDir(d); err != nil {
			t.Fatal(err)
		}
	}
	if len(c.Templates) != 2 {
		t.Fatalf("templates %v", names(c))
	}
	got, err := c.Get("svc")
	if err != nil || got.Origin != b || !c.Chosen(got) {
		t.Errorf("Get(svc) = %+v, %v", got, err)
	}
	got, err = c.Get(a + ":svc")
	if err != nil || got.Origin != a || c.Chosen(got) || got.Ref() != a+":svc" {
		t.Errorf("Get(a:svc) = %+v, %v", got, err)
	}
	if got, err = c.Get(filepath.Join(a, "x") + ":svc"); err != nil || got.Origin != a {
		t.Errorf("the template's own folder as SOURCE: %+v, %v", got, err)
	}
	if _, err := c.Get("/nowhere:svc"); !errors.Is(err, ErrUnknown) {
		t.Errorf("Get(/nowhere:svc) = %v", err)
	}
}

// A skeleton url may go up with ../ inside the template's source, never
// above it; a skeleton folder, or a folder above it, that is a link to
// outside the source is refused naming the link, local and cloned alike.
func TestSkeletonResolution(t *testing.T) {
	outside := writeTree(t, map[string]string{"secret.txt": "top secret"})
	step := func(url string) string {
		return "    - action: fetch:template\n      input: {url: '" + url + "'}\n    - action: idp:publish\n      input: {name: svc}\n"
	}
	dir := writeTree(t, map[string]string{
		"shared/skeleton/README.md":        "${{ values.x }}shared",
		"templates/up/template.yaml":       doc("up", step("../../shared/skeleton")),
		"templates/out/template.yaml":      doc("out", step("../../../x")),
		"templates/link/template.yaml":     doc("link", step("./skeleton")),
		"templates/above/template.yaml":    doc("above", step("./linked/skeleton")),
		"templates/inside/template.yaml":   doc("inside", step("./skeleton")),
		"templates/filelink/template.yaml": doc("filelink", step("./skeleton")),
		"templates/filelink/skeleton/ok":   "ok",
	})
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.Symlink(outside, filepath.Join(dir, "templates", "link", "skeleton")))
	must(os.MkdirAll(filepath.Join(outside, "skeleton"), 0o755))
	must(os.Symlink(outside, filepath.Join(dir, "templates", "above", "linked")))
	must(os.Symlink("../../shared/skeleton", filepath.Join(dir, "templates", "inside", "skeleton")))
	must(os.Symlink(filepath.Join(outside, "secret.txt"), filepath.Join(dir, "templates", "filelink", "skeleton", "secret.txt")))

	c := &Catalog{}
	must(c.LoadDir(dir))
	reasons := map[string]string{}
	for _, b := range c.Broken {
		reasons[b.Name] = b.Error()
	}
	for name, want := range map[string]string{
		"out":      "leaves the template's source",
		"link":     "templates/link/skeleton is a symbolic link to " + outside + ", outside of " + dir,
		"above":    "templates/above/linked is a symbolic link to " + outside,
		"filelink": "templates/filelink/skeleton/secret.txt is a symbolic link to " + filepath.Join(outside, "secret.txt"),
	} {
		if !strings.Contains(reasons[name], want) {
			t.Errorf("%s: %q; want %q", name, reasons[name], want)
		}
	}
	for _, name := range []string{"up", "inside"} {
		tpl, err := c.Get(name)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		plan, err := tpl.Execute(nil, testEnv())
		if err != nil || string(plan.Content("README.md")) != "shared" {
			t.Errorf("%s: %v %v", name, plan, err)
		}
	}

	// The same in a cloned source: links as Git stores them.
	cloned := fstest.MapFS{
		"t/template.yaml":    {Data: []byte(doc("link", step("./skeleton")))},
		"t/skeleton":         {Data: []byte("../../.."), Mode: os.ModeSymlink},
		"u/template.yaml":    {Data: []byte(doc("abs", step("./skeleton")))},
		"u/skeleton":         {Data: []byte("/etc"), Mode: os.ModeSymlink},
		"v/template.yaml":    {Data: []byte(doc("ok", step("./skeleton")))},
		"v/skeleton":         {Data: []byte("../w"), Mode: os.ModeSymlink},
		"w/a.txt":            {Data: []byte("a")},
		"loop/template.yaml": {Data: []byte(doc("loop", step("./skeleton")))},
		"loop/skeleton/me":   {Data: []byte("."), Mode: os.ModeSymlink},
	}
	c = &Catalog{}
	must(c.LoadFS(cloned, ".", "https://git.example.com/t.git"))
	reasons = map[string]string{}
	for _, b := range c.Broken {
		reasons[b.Name] = b.Error()
	}
	for name, want := range map[string]string{
		"link": "t/skeleton is a symbolic link to ../../.., outside of https://git.example.com/t.git",
		"abs":  "u/skeleton is a symbolic link to /etc, an absolute path outside",
		"loop": "loop/skeleton/me: too many symbolic links",
	} {
		if !strings.Contains(reasons[name], want) {
			t.Errorf("cloned %s: %q; want %q", name, reasons[name], want)
		}
	}
	tpl, err := c.Get("ok")
	if err != nil {
		t.Fatal(err)
	}
	if plan, err := tpl.Execute(nil, testEnv()); err != nil || string(plan.Content("a.txt")) != "a" {
		t.Errorf("a link inside the clone: %v", err)
	}
}
