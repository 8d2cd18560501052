package nunjucks

import (
	"encoding/json"
	"errors"
	"os"
	"testing"
)

// FuzzTemplate parses and renders arbitrary templates: no panic, every
// failure is an *Error with a place, and a render is deterministic.
func FuzzTemplate(f *testing.F) {
	var cases []oracleCase
	if data, err := os.ReadFile("testdata/cases.json"); err == nil {
		_ = json.Unmarshal(data, &cases)
	}
	for _, c := range cases {
		f.Add(c.Template)
	}
	f.Add("${{ a.b[c] | replace(r/x+/g, '$1') | dump(2) }}{% for k, v in o %}{%- if loop.first -%}${{k}}{% endif %}{% endfor %}")
	data := map[string]any{
		"a": map[string]any{"b": []any{1, "two", nil}}, "c": 1, "o": map[string]any{"x": 1, "y": []any{}},
		"s": "text", "n": 3.5, "values": map[string]any{"name": "svc"},
	}
	f.Fuzz(func(t *testing.T, src string) {
		tpl, err := Parse(src, Options{TrimBlocks: len(src)%2 == 0, LstripBlocks: len(src)%3 == 0})
		if err != nil {
			checkError(t, src, err)
			return
		}
		out1, err1 := tpl.Render(data)
		out2, err2 := tpl.Render(data)
		if err1 != nil {
			checkError(t, src, err1)
		}
		if out1 != out2 || (err1 == nil) != (err2 == nil) {
			t.Fatalf("two renders of %q differ: %q/%v and %q/%v", src, out1, err1, out2, err2)
		}
		if _, _, err := tpl.Value(data); err != nil {
			checkError(t, src, err)
		}
	})
}

func checkError(t *testing.T, src string, err error) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || e.Line < 1 || e.Column < 1 || e.Msg == "" {
		t.Fatalf("%q: error %v (%T) is not an *Error with a place", src, err, err)
	}
}
