package nunjucks

import (
	"strings"
	"testing"
)

// A skeleton file of typical size: YAML with values, a loop and a condition.
var benchSrc = strings.Repeat(`metadata:
  name: ${{ values.name }}
  labels:
{%- for t in values.tags %}
    tag-${{ loop.index }}: ${{ t | lower | replace(" ", "-") }}
{%- endfor %}
{%- if values.database %}
  database: ${{ (values.name ~ "-db") | dump }}
{%- endif %}
`, 20)

var benchData = map[string]any{"values": map[string]any{"name": "payments-api", "tags": []any{"Go", "HTTP", "Team A"}, "database": true}}

func BenchmarkParse(b *testing.B) {
	for b.Loop() {
		if _, err := Parse(benchSrc, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRender(b *testing.B) {
	t, err := Parse(benchSrc, Options{})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := t.Render(benchData); err != nil {
			b.Fatal(err)
		}
	}
}
