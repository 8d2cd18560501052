package templates

import (
	"strings"
	"testing"
	"testing/fstest"
)

// Backstage's built-in workspace actions, each: and duplicate step ids, as
// Backstage's workflow runner runs them.
func TestWorkspaceActions(t *testing.T) {
	files := fstest.MapFS{
		"skeleton/a.txt":        {Data: []byte("a ${{ values.n }}")},
		"skeleton/docs/b.md":    {Data: []byte("b")},
		"skeleton/docs/c.md":    {Data: []byte("c")},
		"skeleton/tmp/x.log":    {Data: []byte("x")},
		"skeleton/old/keep.txt": {Data: []byte("k")},
		"one/file.txt":          {Data: []byte("${{ values.n }}!")},
	}
	tpl := skeletonTemplate(t, `    - id: fetch
      action: fetch:template
      input: {url: ./skeleton, values: {n: '${{ parameters.name }}'}}
    - action: fetch:template:file
      input: {url: ./one/file.txt, targetPath: conf/one.txt, values: {n: 1}}
    - action: fs:rename
      input:
        files:
          - {from: old, to: new}
          - {from: a.txt, to: docs/b.md, overwrite: true}
    - action: fs:delete
      input: {files: ['tmp/**', '**/c.md']}
    - id: list
      action: fs:readdir
      input: {paths: ['.'], recursive: true}
    - id: loop
      action: debug:log
      each: ['${{ parameters.name }}', b, c]
      if: ${{ each.value != 'b' }}
      input: {message: 'item ${{ each.key }}=${{ each.value }}'}
    - id: loop
      action: catalog:write
      each: {first: 1, second: 2}
      input:
        filePath: 'cat-${{ each.key }}.yaml'
        entity: {kind: Component, metadata: {name: '${{ each.key }}', count: '${{ each.value }}'}}
    - action: debug:log
      input: {message: 'files ${{ steps.list.output.files | length }} first ${{ steps.list.output.files[0].path }}'}
    - action: debug:wait
      input: {seconds: 2}
`, files)
	plan, err := tpl.Execute(nil, testEnv())
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, f := range plan.Files {
		paths = append(paths, f.Path)
	}
	if got := strings.Join(paths, " "); got != "cat-first.yaml cat-second.yaml conf/one.txt docs/b.md new/keep.txt" {
		t.Errorf("files %s", got)
	}
	if got := string(plan.Content("docs/b.md")); got != "a svc" {
		t.Errorf("docs/b.md = %q (the rename did not overwrite)", got)
	}
	if got := string(plan.Content("conf/one.txt")); got != "1!" {
		t.Errorf("conf/one.txt = %q", got)
	}
	if got := string(plan.Content("cat-second.yaml")); got != "kind: Component\nmetadata:\n  count: 2\n  name: second\n" {
		t.Errorf("catalog:write wrote %q", got)
	}
	notes := strings.Join(plan.Notes, "\n")
	for _, want := range []string{"log: item 0=svc", "log: item 2=c", "files 3 first conf/one.txt", "debug:wait"} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes lack %q:\n%s", want, notes)
		}
	}
	if strings.Contains(notes, "item 1=b") {
		t.Errorf("if did not skip an iteration:\n%s", notes)
	}

	for _, bad := range []struct{ steps, want string }{
		{"    - action: fs:rename\n      input: {files: [{from: nope, to: x}]}\n", "nope is not in the workspace"},
		{"    - action: fetch:plain\n      input: {url: ./skeleton}\n    - action: fs:rename\n      input: {files: [{from: a.txt, to: docs/b.md}]}\n", "docs/b.md exists; set overwrite"},
		{"    - action: fs:rename\n      input: {files: [{from: a, to: ../x}]}\n", "escapes its folder"},
		{"    - action: debug:log\n      each: '${{ parameters.name }}'\n", "each: must resolve to a list or a mapping"},
		{"    - action: fs:delete\n      input: {files: ['../x']}\n", "escapes its folder"},
	} {
		tpl := skeletonTemplate(t, bad.steps, files)
		if _, err := tpl.Execute(nil, testEnv()); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%s: %v; want %q", bad.steps, err, bad.want)
		}
	}
}

func TestParseGitSource(t *testing.T) {
	for in, want := range map[string]GitSource{
		"https://github.com/acme/t/tree/main/templates/go":          {Repo: "https://github.com/acme/t.git", Ref: "main", Path: "templates/go"},
		"https://github.com/acme/t/blob/v2/x/template.yaml":         {Repo: "https://github.com/acme/t.git", Ref: "v2", Path: "x/template.yaml"},
		"https://gitlab.com/g/sub/t/-/tree/dev/tpl":                 {Repo: "https://gitlab.com/g/sub/t", Ref: "dev", Path: "tpl"},
		"https://git.example.com/acme/t.git//golden?ref=v2":         {Repo: "https://git.example.com/acme/t.git", Ref: "v2", Path: "golden"},
		"https://git.example.com/acme/t.git":                        {Repo: "https://git.example.com/acme/t.git"},
		"git@github.com:acme/t.git//tpl?ref=main":                   {Repo: "git@github.com:acme/t.git", Ref: "main", Path: "tpl"},
		"https://dev.azure.com/o/p/_git/t?path=/tpl&version=GBmain": {Repo: "https://dev.azure.com/o/p/_git/t", Ref: "main", Path: "tpl"},
	} {
		got, err := ParseGitSource(in)
		got.Raw = ""
		if err != nil || got != want {
			t.Errorf("ParseGitSource(%s) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	if _, err := ParseGitSource("https://github.com/acme/t/tree/main/../../x"); err == nil {
		t.Error("a path that leaves the repository was accepted")
	}
}
