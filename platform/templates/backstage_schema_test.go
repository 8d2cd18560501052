package templates

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/gofrs/flock"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"
)

// The npm packages that hold Backstage's own schemas for templates and
// catalog entities: fetched through npm at test time, never committed.
const (
	scaffolderCommon = "@backstage/plugin-scaffolder-common@2.4.0"
	catalogModel     = "@backstage/catalog-model@1.10.3"
)

// npmPackage returns the folder an npm package is unpacked in, under the
// user cache dir, fetching it with `npm pack` once (under a file lock).
func npmPackage(t *testing.T, spec string) string {
	t.Helper()
	if _, err := exec.LookPath("npm"); err != nil {
		t.Skip("npm is not installed: it fetches Backstage's schema for this test")
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(cache, "idp", "npm", strings.NewReplacer("@", "", "/", "-").Replace(spec))
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		t.Fatal(err)
	}
	lock := flock.New(dir + ".lock")
	if err := lock.Lock(); err != nil {
		t.Fatal(err)
	}
	defer lock.Unlock()
	if _, err := os.Stat(filepath.Join(dir, "package", "package.json")); err == nil {
		return dir
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), "pack-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	cmd := exec.Command("npm", "pack", spec, "--silent", "--pack-destination", tmp)
	cmd.Dir = tmp
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("npm pack %s: %v\n%s", spec, err, out)
	}
	tgz := filepath.Join(tmp, strings.TrimSpace(lastLine(string(out))))
	if err := untar(tgz, filepath.Join(tmp, "x")); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(tmp, "x"), dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

func untar(tgz, dst string) error {
	f, err := os.Open(tgz)
	if err != nil {
		return err
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return err
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		clean, err := CleanRelPath(h.Name)
		if err != nil || clean == "" || h.Typeflag != tar.TypeReg {
			continue
		}
		p := filepath.Join(dst, filepath.FromSlash(clean))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		data, err := io.ReadAll(io.LimitReader(tr, 64<<20))
		if err != nil {
			return err
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			return err
		}
	}
}

// jsModule reads the JSON a CommonJS schema module exports, with node.
func jsModule(t *testing.T, file string) any {
	t.Helper()
	out, err := exec.Command("node", "-e", `const m = require(process.argv[1]); process.stdout.write(JSON.stringify(m.default || m))`, file).Output()
	if err != nil {
		t.Fatalf("node %s: %v", file, err)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// backstageSchema compiles Backstage's Template v1beta3 schema with the
// catalog's Entity schemas it refers to.
func backstageSchema(t *testing.T) (*jsonschema.Schema, map[string]any) {
	sc := npmPackage(t, scaffolderCommon)
	cm := npmPackage(t, catalogModel)
	c := jsonschema.NewCompiler()
	docs := map[string]string{
		"TemplateV1beta3": filepath.Join(sc, "package/dist/Template.v1beta3.schema.json.cjs.js"),
		"Entity":          filepath.Join(cm, "package/dist/schema/Entity.schema.json.cjs.js"),
		"EntityMeta":      filepath.Join(cm, "package/dist/schema/EntityMeta.schema.json.cjs.js"),
		"common":          filepath.Join(cm, "package/dist/schema/shared/common.schema.json.cjs.js"),
	}
	var tpl map[string]any
	for id, file := range docs {
		doc := jsModule(t, file)
		if id == "TemplateV1beta3" {
			tpl = doc.(map[string]any)
		}
		if err := c.AddResource("file:///backstage/"+id, doc); err != nil {
			t.Fatal(err)
		}
	}
	s, err := c.Compile("file:///backstage/TemplateV1beta3")
	if err != nil {
		t.Fatal(err)
	}
	return s, tpl
}

// idpCannotHonour are keys Backstage's schema accepts that would change
// what a run produces and that idp refuses with a reason.
var idpCannotHonour = map[string]string{
	"spec.parameters[0].when": "a page shown only when a condition holds",
}

// Every document Backstage's own schema accepts, and whose actions idp
// runs, loads in idp: the schema's examples, and one document for every key
// the schema (and the Entity schema under it) defines, set to a value of
// its type. A key idp cannot honour is refused with its key path.
func TestBackstageSchemaAccepted(t *testing.T) {
	schema, raw := backstageSchema(t)
	base := func() map[string]any {
		return map[string]any{
			"apiVersion": APIVersion, "kind": Kind,
			"metadata": map[string]any{"name": "sample"},
			"spec": map[string]any{
				"type": "service",
				"parameters": []any{map[string]any{
					"title": "Page", "required": []any{"name"},
					"properties": map[string]any{"name": map[string]any{"type": "string"}},
				}},
				"steps":  []any{map[string]any{"id": "log", "action": ActionLog, "input": map[string]any{"message": "hi"}}},
				"output": map[string]any{"links": []any{map[string]any{"title": "t", "url": "https://x"}}, "text": []any{map[string]any{"title": "t", "content": "c"}}},
			},
		}
	}
	type variant struct {
		path string
		doc  map[string]any
	}
	var variants []variant
	for _, ex := range raw["examples"].([]any) {
		variants = append(variants, variant{"examples", ex.(map[string]any)})
	}
	// Every key of spec, of a parameters page, of a step, of an output link
	// and text, and of metadata.
	spec := dig(raw, "allOf", 1, "properties", "spec", "properties").(map[string]any)
	targets := []struct {
		prefix string
		props  map[string]any
		at     func(doc map[string]any) map[string]any
	}{
		{"spec", spec, func(d map[string]any) map[string]any { return d["spec"].(map[string]any) }},
		{"spec.parameters[0]", dig(spec, "parameters", "oneOf", 1, "items", "properties").(map[string]any),
			func(d map[string]any) map[string]any { return dig(d, "spec", "parameters", 0).(map[string]any) }},
		{"spec.steps[0]", dig(spec, "steps", "items", "properties").(map[string]any),
			func(d map[string]any) map[string]any { return dig(d, "spec", "steps", 0).(map[string]any) }},
		{"spec.output.links[0]", dig(spec, "output", "properties", "links", "items", "properties").(map[string]any),
			func(d map[string]any) map[string]any { return dig(d, "spec", "output", "links", 0).(map[string]any) }},
		{"spec.output.text[0]", dig(spec, "output", "properties", "text", "items", "properties").(map[string]any),
			func(d map[string]any) map[string]any { return dig(d, "spec", "output", "text", 0).(map[string]any) }},
		{"metadata", metadataProps(t), func(d map[string]any) map[string]any { return d["metadata"].(map[string]any) }},
	}
	for _, tg := range targets {
		for _, k := range slices.Sorted(mapKeysOf(tg.props)) {
			if k == "action" || k == "steps" && tg.prefix == "spec" || k == "name" && tg.prefix == "metadata" {
				continue
			}
			d := base()
			tg.at(d)[k] = sample(k, tg.props[k].(map[string]any))
			variants = append(variants, variant{tg.prefix + "." + k, d})
		}
	}
	// An output key of its own, as templates write remoteUrl.
	d := base()
	d["spec"].(map[string]any)["output"].(map[string]any)["remoteUrl"] = "${{ steps.log.output.x }}"
	variants = append(variants, variant{"spec.output.remoteUrl", d})

	// Keys real templates carry that the schema leaves open.
	for path, set := range map[string]func(d map[string]any){
		"spec.system": func(d map[string]any) { d["spec"].(map[string]any)["system"] = "payments" },
		"ui:hints": func(d map[string]any) {
			dig(d, "spec", "parameters", 0, "properties").(map[string]any)["name"] = map[string]any{
				"type": "string", "ui:autofocus": true, "ui:options": map[string]any{"rows": 3}, "ui:field": "MyCompanyPicker"}
		},
		"allowedHosts": func(d map[string]any) {
			d["spec"].(map[string]any)["steps"] = []any{map[string]any{"id": "publish", "action": ActionPublishGitHub,
				"input": map[string]any{"repoUrl": "github.com?owner=a&repo=b", "allowedHosts": []any{"github.com"}}}}
		},
		"duplicate step ids": func(d map[string]any) {
			st := d["spec"].(map[string]any)["steps"].([]any)
			d["spec"].(map[string]any)["steps"] = append(st, st[0])
		},
	} {
		d := base()
		set(d)
		variants = append(variants, variant{path, d})
	}
	accepted := 0
	defer func() {
		t.Logf("%d of %d documents passed Backstage's schema and were checked", accepted, len(variants))
	}()
	for _, v := range variants {
		if err := schema.Validate(roundTrip(t, v.doc)); err != nil {
			continue // Backstage refuses it too
		}
		accepted++
		data, err := yaml.Marshal(v.doc)
		if err != nil {
			t.Fatal(err)
		}
		tpl, err := Parse(data)
		if want, refused := idpCannotHonour[v.path]; refused {
			if err == nil || !strings.Contains(err.Error(), v.path) || !strings.Contains(err.Error(), want) {
				t.Errorf("%s: idp cannot honour it and should say so with the key path; got %v", v.path, err)
			}
			continue
		}
		if v.path == "examples" && err != nil {
			// The schema's example passes its steps' inputs as
			// "parameters", which Backstage's runner does not read: its
			// actions would fail on their missing inputs, as idp says.
			if !strings.Contains(err.Error(), "spec.steps[0]") || !strings.Contains(err.Error(), `needs the input "url"`) {
				t.Errorf("the schema's example: %v", err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: Backstage's schema accepts the document, idp refuses it: %v\n%s", v.path, err, data)
			continue
		}
		if tpl.Refusal != "" && v.path != "examples" {
			t.Errorf("%s: %s", v.path, tpl.Refusal)
		}
	}
	if accepted < 30 {
		t.Errorf("only %d of %d documents passed Backstage's schema: the corpus is not exercising it", accepted, len(variants))
	}
}

func metadataProps(t *testing.T) map[string]any {
	cm := npmPackage(t, catalogModel)
	meta := jsModule(t, filepath.Join(cm, "package/dist/schema/EntityMeta.schema.json.cjs.js")).(map[string]any)
	return meta["properties"].(map[string]any)
}

func mapKeysOf(m map[string]any) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func dig(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			v = v.(map[string]any)[k]
		case int:
			v = v.([]any)[k]
		}
	}
	return v
}

// sample is a value a key's schema accepts: its first example, else one
// of its type.
func sample(key string, s map[string]any) any {
	if ex, ok := s["examples"].([]any); ok && len(ex) > 0 {
		return ex[0]
	}
	if e, ok := s["enum"].([]any); ok && len(e) > 0 {
		return e[0]
	}
	typ := s["type"]
	if list, ok := typ.([]any); ok && len(list) > 0 {
		typ = list[len(list)-1]
	}
	switch typ {
	case "string":
		return "x-" + key
	case "boolean":
		return true
	case "integer", "number":
		return 1
	case "array":
		if items, ok := s["items"].(map[string]any); ok {
			return []any{sample(key, items)}
		}
		return []any{}
	case "object":
		out := map[string]any{}
		if props, ok := s["properties"].(map[string]any); ok {
			keys := slices.Collect(mapKeysOf(props))
			sort.Strings(keys)
			for _, k := range keys {
				out[k] = sample(k, props[k].(map[string]any))
			}
		}
		return out
	}
	return fmt.Sprintf("x-%s", key)
}

func roundTrip(t *testing.T, v any) any {
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return out
}
