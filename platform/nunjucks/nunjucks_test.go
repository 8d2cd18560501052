package nunjucks

import (
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
)

type oracleCase struct {
	Name     string         `json:"name"`
	Template string         `json:"template"`
	Data     map[string]any `json:"data"`
	Options  struct {
		TrimBlocks   bool `json:"trimBlocks"`
		LstripBlocks bool `json:"lstripBlocks"`
	} `json:"options"`
	Error   bool   `json:"error"`
	Differs string `json:"differs"`
	Want    string `json:"want"`
}

type oracleResult struct {
	Output *string `json:"output"`
	Error  string  `json:"error"`
}

// TestAgainstNunjucks renders every case in testdata/cases.json and
// compares with what Nunjucks 3.2.4 itself rendered (testdata/expected.json,
// written by testdata/oracle.js). Cases marked "differs" are idp's
// deliberate departures; their expected result is in the case.
func TestAgainstNunjucks(t *testing.T) {
	var cases []oracleCase
	readJSON(t, "testdata/cases.json", &cases)
	var expected struct {
		Generator string                  `json:"generator"`
		Cases     map[string]oracleResult `json:"cases"`
	}
	readJSON(t, "testdata/expected.json", &expected)
	if !strings.HasPrefix(expected.Generator, "nunjucks@") {
		t.Fatalf("expected.json was not written by the oracle: generator %q", expected.Generator)
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			wantErr, want := c.Error, c.Want
			if c.Differs == "" {
				res, ok := expected.Cases[c.Name]
				if !ok {
					t.Fatal("no expected result: run testdata/oracle.js (see its header)")
				}
				wantErr = res.Output == nil
				if wantErr != c.Error {
					t.Fatalf("cases.json says error=%v but Nunjucks said %+v", c.Error, res)
				}
				if res.Output != nil {
					want = *res.Output
				}
			}
			tpl, err := Parse(c.Template, Options{TrimBlocks: c.Options.TrimBlocks, LstripBlocks: c.Options.LstripBlocks})
			var got string
			if err == nil {
				got, err = tpl.Render(c.Data)
			}
			switch {
			case wantErr && err == nil:
				t.Fatalf("rendered %q; want an error", got)
			case wantErr:
				var e *Error
				if !errors.As(err, &e) || e.Line < 1 || e.Column < 1 {
					t.Errorf("error %v has no position", err)
				}
			case err != nil:
				t.Fatalf("error %v; want %q", err, want)
			case got != want:
				t.Errorf("rendered\n%q\nwant\n%q", got, want)
			}
		})
	}
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func TestErrorsNameThePlace(t *testing.T) {
	for _, tc := range []struct {
		src           string
		line, col     int
		msgContaining string
	}{
		{"a\nb ${{ x | nosuch }}", 2, 11, `unknown filter "nosuch"`},
		{"${{ x | random }}", 1, 9, `filter "random" is not supported`},
		{"{% include 'x' %}", 1, 4, `{% include %} is not supported`},
		{"{% whatever %}", 1, 4, "unknown tag {% whatever %}"},
		{"${{ x is frob }}", 1, 10, `unknown test "frob"`},
		{"{% if x %}", 1, 11, "missing {% endif %}"},
		{"x {% endfor %}", 1, 6, "{% endfor %} without its opening tag"},
		{"${{ 'abc }}", 1, 5, "string is never closed"},
		{"${{ x ", 1, 1, `"${{" is never closed with "}}"`},
		{"${{ x | truncate(length=3) }}", 1, 9, "keyword arguments"},
		{"${{ x | replace('a') }}", 1, 9, "needs 2 argument(s): old, new"},
		{"${{ x | upper(1) }}", 1, 9, "takes at most 0 argument(s)"},
		{"${{ r/(/ }}", 1, 5, "regular expression"},
		{"${{ x ! y }}", 1, 7, "unexpected character"},
		{"${{ range(1e9) }}", 1, 11, `"1e" is not a number`},
	} {
		_, err := Parse(tc.src, Options{})
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("Parse(%q) = %v; want an *Error", tc.src, err)
			continue
		}
		if e.Line != tc.line || e.Column != tc.col || !strings.Contains(e.Msg, tc.msgContaining) {
			t.Errorf("Parse(%q) = %v; want line %d, column %d, containing %q", tc.src, err, tc.line, tc.col, tc.msgContaining)
		}
	}
}

func TestRenderErrors(t *testing.T) {
	for _, tc := range []struct{ src, msg string }{
		{"${{ nosuch() }}", "nosuch is not a function (a undefined)"},
		{"${{ values.name.frob() }}", "values.name.frob is not a function"},
		{"${{ 1 in 5 }}", `cannot use "in" to search a number`},
		{"{% for k in values %}{% endfor %}", "looping over an object needs two names"},
		{"{% for x in 5 %}{% endfor %}", "cannot loop over a number"},
		{"${{ range(1000000000) }}", "too large"},
		{"${{ 'x' | parseRepoUrl }}", "no repo="},
		{"${{ 'name' | parseEntityRef }}", "no kind"},
		{"${{ 5 | batch(0) }}", "needs an array"},
		{"{% for i in range(1000) %}{% for j in range(300) %}{% for k in range(2) %}{% endfor %}{% endfor %}{% endfor %}", "loop iterations"},
	} {
		tpl, err := Parse(tc.src, Options{})
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.src, err)
			continue
		}
		_, err = tpl.Render(map[string]any{"values": map[string]any{"name": "x"}})
		if err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("Render(%q) = %v; want an error containing %q", tc.src, err, tc.msg)
		}
	}
}

func TestValueKeepsTypes(t *testing.T) {
	data := map[string]any{"parameters": map[string]any{
		"name": "svc", "replicas": 3, "tags": []string{"a", "b"}, "db": true, "empty": "",
		"nested": map[string]any{"k": 1.5},
	}}
	for _, tc := range []struct {
		src  string
		want any
		ok   bool
	}{
		{"${{ parameters.name }}", "svc", true},
		{"${{ parameters.replicas }}", int64(3), true},
		{"${{ parameters.replicas / 2 }}", 1.5, true},
		{"${{ parameters.tags }}", []any{"a", "b"}, true},
		{"${{ parameters.db }}", true, true},
		{"${{ parameters.nested }}", map[string]any{"k": 1.5}, true},
		{"${{ parameters.missing }}", nil, false},
		{"${{ parameters.empty }}", nil, false},
		{" ${{ parameters.replicas }}", " 3", true},
		{"${{ parameters.name }}-x", "svc-x", true},
		{"plain", "plain", true},
		{"", "", false},
		{"${{ parameters.name | upper }}", "SVC", true},
		{"${{ none }}", nil, true},
	} {
		tpl, err := Parse(tc.src, Options{})
		if err != nil {
			t.Fatal(err)
		}
		got, ok, err := tpl.Value(data)
		if err != nil || ok != tc.ok || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Value(%q) = %#v, %v, %v; want %#v, %v", tc.src, got, ok, err, tc.want, tc.ok)
		}
	}
}

func TestBackstageFilters(t *testing.T) {
	data := map[string]any{"repoUrl": "github.com?owner=acme&repo=payments", "owner": "group:default/team-a"}
	for src, want := range map[string]string{
		"${{ repoUrl | parseRepoUrl | dump }}":                                `{"host":"github.com","owner":"acme","repo":"payments"}`,
		"${{ (repoUrl | parseRepoUrl).repo }}":                                "payments",
		"${{ repoUrl | projectSlug }}":                                        "acme/payments",
		"${{ owner | parseEntityRef | pick('name') }}":                        "team-a",
		"${{ 'team-b' | parseEntityRef({defaultKind: 'group'}) | dump }}":     `{"kind":"group","name":"team-b","namespace":"default"}`,
		"${{ 'user:jo' | parseEntityRef({defaultNamespace: 'ops'}) | dump }}": `{"kind":"user","name":"jo","namespace":"ops"}`,
		"${{ {kind: 'a', name: 'b'} | parseEntityRef | pick('namespace') }}":  "default",
	} {
		got, err := RenderString(src, data)
		if err != nil || got != want {
			t.Errorf("%s = %q, %v; want %q", src, got, err, want)
		}
	}
}

func TestCustomFiltersAndClassicSyntax(t *testing.T) {
	tpl, err := Parse("{{ name | shout('!') }} ${{ name }}", Options{
		Syntax: Classic,
		Filters: map[string]Filter{"shout": {Params: []string{"suffix"}, Required: 1, Func: func(in any, args []any) (any, error) {
			return strings.ToUpper(in.(string)) + args[0].(string), nil
		}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := tpl.Render(map[string]any{"name": "hi"})
	if err != nil || got != "HI! $hi" {
		t.Errorf("got %q, %v", got, err)
	}
	if _, err := Parse("${{ x | shout }}", Options{}); err == nil {
		t.Error("a filter added to one parse leaked into the built-ins")
	}
}

func TestDeepNestingIsRefused(t *testing.T) {
	src := "${{ " + strings.Repeat("(", 10000) + "1" + strings.Repeat(")", 10000) + " }}"
	if _, err := Parse(src, Options{}); err == nil || !strings.Contains(err.Error(), "nested too deeply") {
		t.Errorf("got %v", err)
	}
	src = strings.Repeat("{% if true %}", 500) + strings.Repeat("{% endif %}", 500)
	if _, err := Parse(src, Options{}); err == nil || !strings.Contains(err.Error(), "nested too deeply") {
		t.Errorf("got %v", err)
	}
}

func TestHugeOutputIsRefused(t *testing.T) {
	src := "{% set s = 'xxxxxxxxxxxxxxxx' %}{% for i in range(30) %}{% set s = s ~ s %}{% endfor %}${{ s }}"
	if _, err := RenderString(src, nil); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("got %v", err)
	}
}

func TestFiltersListed(t *testing.T) {
	names := Filters()
	for _, want := range []string{"replace", "dump", "parseRepoUrl", "indent"} {
		found := false
		for _, n := range names {
			found = found || n == want
		}
		if !found {
			t.Errorf("Filters() lacks %q", want)
		}
	}
}
