package templates

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
)

const header = "apiVersion: scaffolder.backstage.io/v1beta3\nkind: Template\nmetadata:\n  name: t\n"

func parse(t *testing.T, spec string) *Template {
	t.Helper()
	tpl, err := Parse([]byte(header + spec))
	if err != nil {
		t.Fatal(err)
	}
	return tpl
}

const fetchStep = "  steps:\n    - action: fetch:template\n      input: {url: ./skeleton}\n"

func TestParseRefusesWhatItDoesNotKnow(t *testing.T) {
	for _, tc := range []struct{ spec, want string }{
		{"spec:\n  steps:\n    - action: fetch:template\n      input: {url: x, colour: red}\n", `action fetch:template has no input "colour"`},
		{"spec:\n  steps:\n    - action: fetch:template\n      input: {}\n", `needs the input "url"`},
		{"spec:\n  parameters:\n    - properties:\n        a: {type: string, not: {const: x}}\n" + fetchStep, "line 8: spec.parameters[0].properties.a.not: the JSON Schema keyword not is not supported"},
		{"spec:\n  parameters:\n    - properties:\n        a: {type: object}\n" + fetchStep, "type object is not supported"},
		{"spec:\n  parameters:\n    - properties:\n        a: {type: strin}\n" + fetchStep, `unknown type "strin"`},
		{"spec:\n  parameters:\n    - properties:\n        a: {type: string, pattern: '(('}\n" + fetchStep, "pattern"},
		{"spec:\n  parameters:\n    - properties:\n        a: {type: integer, default: x}\n" + fetchStep, "the default x is invalid"},
		{"spec:\n  parameters:\n    - required: [b]\n      properties:\n        a: {type: string}\n" + fetchStep, `line 7: spec.parameters[0].required: names "b", which the page does not define`},
		{"spec:\n  parameters:\n    - anyOf: []\n" + fetchStep, `keyword anyOf on a page is not supported`},
		{"spec:\n  steps: []\n", "line 6: spec.steps: is empty"},
		{"spec:\n  steps:\n    - action: fetch:template\n      input: [url]\n", "line 8: spec.steps[0].input: must be a mapping"},
		{"spec:\n  owner: [a]\n" + fetchStep, "line 6: spec.owner: must be text"},
		{"spec:\n  steps:\n    - name: x\n", "line 7: spec.steps[0].action: is missing"},
	} {
		_, err := Parse([]byte(header + tc.spec))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%q) = %v; want an error containing %q", tc.spec, err, tc.want)
		}
	}
	if _, err := Parse([]byte("apiVersion: backstage.io/v1alpha1\nkind: Component\n")); err == nil || !strings.Contains(err.Error(), "scaffolder.backstage.io/v1beta3") {
		t.Errorf("a catalog entity was accepted as a template: %v", err)
	}
}

const formSpec = `spec:
  parameters:
    - title: One
      required: [name]
      ui:order: [port, '*']
      properties:
        name: {type: string, pattern: '^[a-z-]+$', maxLength: 10}
        port: {type: integer, minimum: 1024, maximum: 65535, default: 8080}
        tier: {type: string, enum: [gold, silver], enumNames: [Gold, Silver]}
        tags: {type: array, items: {type: string}, uniqueItems: true, maxItems: 3}
        mode: {type: string}
      dependencies:
        mode: [tier]
    - title: Two
      properties:
        db: {type: boolean, default: false}
      dependencies:
        db:
          oneOf:
            - properties:
                db: {const: true}
                size: {type: string, enum: [s, m], default: s}
              required: [size]
            - properties:
                db: {const: false}
  steps:
    - action: idp:publish
      input: {name: '${{ parameters.name }}'}
`

func TestFormSchema(t *testing.T) {
	tpl := parse(t, formSpec)
	if got := []string{tpl.Pages[0].Properties[0].Name, tpl.Pages[0].Properties[1].Name}; got[0] != "port" || got[1] != "name" {
		t.Errorf("ui:order not applied: %v", got)
	}
	if !tpl.Property("name").DNSLabel || tpl.NameParameter() != "name" {
		t.Error("the name parameter is not marked for DNS-1123 checks")
	}
	if c := tpl.Property("tier").Choices(); len(c) != 2 || c[0].Label != "Gold" || c[1].Value != "silver" {
		t.Errorf("choices %+v", c)
	}
	two := tpl.Pages[1]
	if f := fieldNames(two.Fields(map[string]any{"db": false})); f != "db" {
		t.Errorf("fields without a database: %s", f)
	}
	if f := fieldNames(two.Fields(map[string]any{"db": true})); f != "db,size" {
		t.Errorf("fields with a database: %s", f)
	}
	for _, tc := range []struct {
		values map[string]any
		want   string // "" = valid
	}{
		{map[string]any{"name": "svc"}, ""},
		{map[string]any{}, "name: is required"},
		{map[string]any{"name": ""}, "name: is required"},
		{map[string]any{"name": "Svc"}, "must match the pattern"},
		{map[string]any{"name": "a-very-long-name"}, "at most 10 characters"},
		{map[string]any{"name": "-svc"}, "not a DNS-1123 name"},
		{map[string]any{"name": "svc", "port": int64(80)}, "port: must be at least 1024"},
		{map[string]any{"name": "svc", "port": 8080.5}, "whole number"},
		{map[string]any{"name": "svc", "tier": "bronze"}, "tier: must be one of gold, silver"},
		{map[string]any{"name": "svc", "tags": []any{"a", "a"}}, "lists a twice"},
		{map[string]any{"name": "svc", "tags": []any{"a", "b", "c", "d"}}, "at most 3"},
		{map[string]any{"name": "svc", "db": true, "size": "xl"}, "size: must be one of s, m"},
		{map[string]any{"name": "svc", "mode": "x"}, "tier: is required"},
		{map[string]any{"name": "svc", "mode": "x", "tier": "gold"}, ""},
		{map[string]any{"name": "svc", "colour": "red"}, `has no parameter "colour"`},
		{map[string]any{"name": "svc", "db": "yes"}, "db: must be true or false"},
	} {
		err := tpl.Validate(tpl.WithDefaults(tc.values))
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%v: %v", tc.values, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%v: got %v; want %q", tc.values, err, tc.want)
		}
	}
	if v := tpl.WithDefaults(map[string]any{"db": true}); v["size"] != "s" || v["port"] != 8080 {
		t.Errorf("defaults through dependencies: %v", v)
	}
}

func fieldNames(props []*Property) string {
	var names []string
	for _, p := range props {
		names = append(names, p.Name)
	}
	return strings.Join(names, ",")
}

func TestParseValue(t *testing.T) {
	tpl := parse(t, formSpec)
	for _, tc := range []struct {
		name, text string
		want       any
		err        string
	}{
		{"port", "9090", int64(9090), ""},
		{"port", "x", nil, "not a whole number"},
		{"db", "yes", true, ""},
		{"db", "False", false, ""},
		{"db", "maybe", nil, "not true or false"},
		{"tags", "a, b,,c", []any{"a", "b", "c"}, ""},
		{"tags", `["x", "y"]`, []any{"x", "y"}, ""},
		{"tags", `[x`, nil, "not a JSON list"},
		{"name", " keep spaces ", " keep spaces ", ""},
		{"size", "m", "m", ""},
		{"nope", "1", nil, `no parameter "nope"`},
	} {
		got, err := tpl.ParseValue(tc.name, tc.text)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseValue(%s, %q) = %v, %v; want error %q", tc.name, tc.text, got, err, tc.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseValue(%s, %q) = %#v, %v; want %#v", tc.name, tc.text, got, err, tc.want)
		}
	}
}

func TestCheckDNSLabel(t *testing.T) {
	for name, ok := range map[string]bool{
		"a": true, "payments-api": true, "a1": true, "1a": true, strings.Repeat("a", 63): true,
		"": false, "A": false, "-a": false, "a-": false, "a_b": false, "a.b": false, strings.Repeat("a", 64): false, "ä": false,
	} {
		if err := CheckDNSLabel(name); (err == nil) != ok {
			t.Errorf("CheckDNSLabel(%q) = %v", name, err)
		}
	}
}

// skeletonTemplate builds a template over an in-memory folder.
func skeletonTemplate(t *testing.T, steps string, files fstest.MapFS) *Template {
	t.Helper()
	tpl := parse(t, "spec:\n  parameters:\n    - properties:\n        name: {type: string, default: svc}\n        flag: {type: boolean, default: false}\n  steps:\n"+steps)
	tpl.fsys = files
	return tpl
}

func TestFetchTemplate(t *testing.T) {
	files := fstest.MapFS{
		"skeleton/README.md":                       {Data: []byte("# ${{ values.name }}\n")},
		"skeleton/${{ values.name }}/main.txt":     {Data: []byte("name=${{ values.name | upper }}")},
		"skeleton/run.sh":                          {Data: []byte("#!/bin/sh\necho ${{ values.name }}\n"), Mode: 0o755},
		"skeleton/static/logo.txt":                 {Data: []byte("${{ verbatim }}")},
		"skeleton/img.bin":                         {Data: []byte("\x00\x01${{ x }}")},
		"skeleton/${{ 'opt.txt' if values.flag }}": {Data: []byte("optional")},
		"skeleton/values.yaml.njk":                 {Data: []byte("name: ${{ values.name }}")},
		"other/extra.txt":                          {Data: []byte("plain ${{ not rendered }}")},
	}
	steps := `    - action: fetch:template
      input:
        url: ./skeleton
        targetPath: ./out
        copyWithoutTemplating: ['static/**']
        values: {name: '${{ parameters.name }}', flag: '${{ parameters.flag }}'}
    - action: fetch:plain
      input: {url: other, targetPath: out/plain}
`
	plan, err := skeletonTemplate(t, steps, files).Execute(map[string]any{"name": "pay"}, testEnv())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"out/README.md":       "# pay\n",
		"out/pay/main.txt":    "name=PAY",
		"out/run.sh":          "#!/bin/sh\necho pay\n",
		"out/static/logo.txt": "${{ verbatim }}",
		"out/img.bin":         "\x00\x01${{ x }}",
		"out/values.yaml.njk": "name: pay",
		"out/plain/extra.txt": "plain ${{ not rendered }}",
	}
	got := map[string]string{}
	for _, f := range plan.Files {
		got[f.Path] = string(f.Content)
		if f.Path == "out/run.sh" && f.Mode != 0o755 {
			t.Errorf("run.sh lost its execute bit: %o", f.Mode)
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("files\n%v\nwant\n%v", got, want)
	}
	plan, err = skeletonTemplate(t, steps, files).Execute(map[string]any{"name": "pay", "flag": true}, testEnv())
	if err != nil || string(plan.Content("out/opt.txt")) != "optional" {
		t.Errorf("a file named by a condition was not written when it holds: %v", err)
	}
}

func TestTemplateFileExtension(t *testing.T) {
	files := fstest.MapFS{
		"s/a.txt.njk": {Data: []byte("${{ values.name }}")},
		"s/b.txt":     {Data: []byte("${{ values.name }}")},
	}
	plan, err := skeletonTemplate(t, "    - action: fetch:template\n      input: {url: s, templateFileExtension: true, values: {name: x}}\n", files).Execute(nil, testEnv())
	if err != nil {
		t.Fatal(err)
	}
	if string(plan.Content("a.txt")) != "x" || string(plan.Content("b.txt")) != "${{ values.name }}" {
		t.Errorf("files %v", filePaths(plan))
	}
}

func TestPathsCannotEscape(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files fstest.MapFS
		input string
		want  string
	}{
		{"url escapes", fstest.MapFS{"s/a": {}}, "{url: ../s}", "leaves the template's source"},
		{"url is absolute", fstest.MapFS{"s/a": {}}, "{url: /etc}", "absolute"},
		{"url is remote", fstest.MapFS{"s/a": {}}, "{url: 'https://github.com/x/y'}", "not read when the template loaded"},
		{"target escapes", fstest.MapFS{"s/a": {}}, "{url: s, targetPath: ../../x}", "escapes its folder"},
		{"file name escapes", fstest.MapFS{"s/${{ values.p }}": {}}, "{url: s, values: {p: ../../etc/passwd}}", "escapes its folder"},
		{"file name absolute", fstest.MapFS{"s/${{ values.p }}": {}}, "{url: s, values: {p: /etc/passwd}}", "is absolute"},
		{"file name in .git", fstest.MapFS{"s/${{ values.p }}": {}}, "{url: s, values: {p: .git/hooks/post-checkout}}", "inside .git"},
		{"file name with backslash", fstest.MapFS{"s/${{ values.p }}": {}}, `{url: s, values: {p: '..\..\x'}}`, "backslash"},
		{"unknown filter in a file", fstest.MapFS{"s/a": {Data: []byte("${{ x | frob }}")}}, "{url: s}", `s/a: line 1, column 9: unknown filter "frob"`},
		{"url is a file", fstest.MapFS{"s/a": {}}, "{url: s/a}", "is a file"},
		{"file and folder collide", fstest.MapFS{"s/${{ values.a }}": {}, "s/x/y": {}}, "{url: s, values: {a: x}}", "collides"},
	} {
		tpl := skeletonTemplate(t, "    - action: fetch:template\n      input: "+tc.input+"\n", tc.files)
		_, err := tpl.Execute(nil, testEnv())
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v; want an error containing %q", tc.name, err, tc.want)
		}
	}
}

func TestStepsAndOutputs(t *testing.T) {
	tpl := parse(t, `spec:
  parameters:
    - properties:
        repoUrl: {type: string, ui:field: RepoUrlPicker, default: 'github.com?owner=acme&repo=pay'}
        db: {type: boolean, default: true}
  steps:
    - id: pub
      action: publish:github
      input:
        repoUrl: ${{ parameters.repoUrl }}
        repoVisibility: public
        protectDefaultBranch: true
    - action: idp:application
      input:
        name: '${{ (parameters.repoUrl | parseRepoUrl).repo }}'
        repoUrl: ${{ steps.pub.output.remoteUrl }}
        syncPolicy: manual
    - action: idp:database
      if: ${{ parameters.db }}
      input: {name: pay-db, size: medium, storageGB: 64}
    - action: debug:log
      input: {message: 'made ${{ steps.pub.output.repoContentsUrl }}'}
    - action: catalog:register
      input: {repoContentsUrl: x, catalogInfoPath: /catalog-info.yaml}
`)
	plan, err := tpl.Execute(nil, testEnv())
	if err != nil {
		t.Fatal(err)
	}
	if r := plan.Repo; r.Name != "pay" || r.Owner != "acme" || r.Private || r.DefaultBranch != "main" {
		t.Errorf("repo %+v", r)
	}
	if a := plan.Application; a.Name != "pay" || a.Automated || a.Namespace != "pay" || a.RepoURL != "https://git.example.com/pay.git" {
		t.Errorf("application %+v", a)
	}
	if d := plan.Database; d == nil || d.Namespace != "pay" || d.Size != "medium" || d.StorageGB != 64 {
		t.Errorf("database %+v", d)
	}
	notes := strings.Join(plan.Notes, "\n")
	for _, want := range []string{"input protectDefaultBranch not applied", "log: made https://git.example.com/pay", "catalog:register) skipped"} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes lack %q:\n%s", want, notes)
		}
	}
	plan, err = tpl.Execute(map[string]any{"db": false}, testEnv())
	if err != nil || plan.Database != nil {
		t.Errorf("the database step ran with db=false: %+v, %v", plan.Database, err)
	}
	for _, bad := range []struct {
		values map[string]any
		want   string
	}{
		{map[string]any{"repoUrl": "github.com?owner=acme&repo=Pay_1"}, "not a DNS-1123 name"},
		{map[string]any{"repoUrl": "github.com?owner=acme"}, "no repo="},
	} {
		if _, err := tpl.Execute(bad.values, testEnv()); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%v: got %v; want %q", bad.values, err, bad.want)
		}
	}
}

func TestCatalog(t *testing.T) {
	dir := t.TempDir()
	own := filepath.Join(dir, "go-service")
	if err := os.MkdirAll(filepath.Join(own, "skeleton"), 0o755); err != nil {
		t.Fatal(err)
	}
	spec := strings.Replace(header, "name: t", "name: go-service\n  title: Acme Go", 1) + fetchStep
	if err := os.WriteFile(filepath.Join(own, FileName), []byte("spec:\n"+spec[strings.Index(spec, "  steps"):]), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(own, FileName), []byte(strings.Replace(header, "name: t", "name: go-service\n  title: Acme Go", 1)+"spec:\n"+fetchStep), 0o644); err != nil {
		t.Fatal(err)
	}
	c := builtins(t)
	if err := c.LoadDir(dir); err != nil {
		t.Fatal(err)
	}
	tpl, err := c.Get("go-service")
	if err != nil || tpl.Title != "Acme Go" || tpl.Source != own {
		t.Errorf("the organisation's go-service did not replace the built-in: %+v, %v", tpl, err)
	}
	if _, err := c.Get("rails"); !errors.Is(err, ErrUnknown) || !strings.Contains(err.Error(), "python-service") {
		t.Errorf("Get(rails) = %v", err)
	}
	if err := c.LoadDir(t.TempDir()); err == nil || !strings.Contains(err.Error(), "no kind: Template document") {
		t.Errorf("an empty folder loaded: %v", err)
	}
	if err := c.LoadDir(own); err != nil { // a template's own folder works too
		t.Error(err)
	}
	for s, want := range map[string]bool{"https://x/y.git": true, "git@github.com:acme/t.git": true, "./templates": false, "/abs/path": false, "dir@2/x:y": false} {
		if IsGitURL(s) != want {
			t.Errorf("IsGitURL(%q) != %v", s, want)
		}
	}
}

// A broken expression is refused when the template loads, even in a file
// that some answers leave out.
func TestLoadLintsTheSkeleton(t *testing.T) {
	spec := header + `spec:
  parameters:
    - properties:
        db: {type: boolean}
  steps:
    - action: fetch:template
      input: {url: ./skeleton, values: {db: '${{ parameters.db }}'}}
`
	for name, files := range map[string]fstest.MapFS{
		"content": {"t/skeleton/${{ 'db.sql' if values.db }}": {Data: []byte("${{ values.x | frobnicate }}")}},
		"name":    {"t/skeleton/${{ values.x | frobnicate }}.txt": {Data: []byte("x")}},
	} {
		files["t/template.yaml"] = &fstest.MapFile{Data: []byte(spec)}
		_, err := Load(files, "t", "acme")
		if err == nil || !strings.Contains(err.Error(), `unknown filter "frobnicate"`) || !strings.Contains(err.Error(), "acme/template.yaml: step 1 (fetch:template): ") {
			t.Errorf("%s: %v", name, err)
		}
	}
	bad := strings.Replace(spec, "'${{ parameters.db }}'", "'${{ parameters.db | frob }}'", 1)
	if _, err := Load(fstest.MapFS{"t/template.yaml": {Data: []byte(bad)}, "t/skeleton/a": {}}, "t", "acme"); err == nil || !strings.Contains(err.Error(), "input values") {
		t.Errorf("a bad step input: %v", err)
	}
}
