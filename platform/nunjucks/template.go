// Package nunjucks evaluates the Nunjucks template language the way
// Backstage's scaffolder uses it: ${{ expr }} for values, {% %} tags for
// if, for, set, raw and filter blocks, {# #} comments, whitespace control
// with "-", JavaScript's value semantics, Nunjucks' built-in filters and
// tests, and Backstage's own filters (parseRepoUrl, projectSlug, pick,
// parseEntityRef).
//
// What it leaves out is refused with a clear error, never skipped: loader
// tags (include, extends, import, macro), a few filters (random, groupby,
// slice, urlize) and calls of anything but range() and a handful of string
// and array methods. Object keys are visited in sorted order, where
// JavaScript would keep insertion order.
package nunjucks

import (
	"errors"
	"maps"
	"slices"
	"strings"
)

// Options configure parsing.
type Options struct {
	// Syntax defaults to Backstage (${{ }}).
	Syntax Syntax
	// TrimBlocks removes the first newline after a tag; LstripBlocks the
	// blanks before a tag at the start of a line (Nunjucks' options of the
	// same names, which fetch:template passes through).
	TrimBlocks, LstripBlocks bool
	// Filters adds or replaces filters by name.
	Filters map[string]Filter
}

// Filter is a filter a caller adds: Params name its arguments (for
// keyword arguments), Required of them must be given.
type Filter struct {
	Params   []string
	Required int
	Func     FilterFunc
}

// Template is a parsed template, safe for concurrent renders.
type Template struct {
	src   string
	nodes []node
}

// Parse parses src. Unknown tags, filters and tests are errors here,
// before anything is rendered.
func Parse(src string, opts Options) (*Template, error) {
	syn := opts.Syntax
	if syn == (Syntax{}) {
		syn = Backstage
	}
	toks, err := lex(src, syn)
	if err != nil {
		return nil, err
	}
	applyWhitespaceControl(toks, opts.TrimBlocks, opts.LstripBlocks)
	filters := builtinFilters
	if len(opts.Filters) > 0 {
		filters = maps.Clone(builtinFilters)
		for name, f := range opts.Filters {
			filters[name] = &filterDef{params: f.Params, required: f.Required, fn: f.Func}
		}
	}
	p := &parser{src: src, toks: toks, filters: filters}
	nodes, _, err := p.body()
	if err != nil {
		return nil, err
	}
	reassocNodes(nodes)
	return &Template{src: src, nodes: nodes}, nil
}

// Render renders the template with data (JSON-like Go values).
func (t *Template) Render(data map[string]any) (string, error) {
	r := t.renderer(data)
	var b strings.Builder
	if err := r.render(t.nodes, &b); err != nil {
		return "", t.wrap(err)
	}
	return b.String(), nil
}

// IsExpression reports whether the template is exactly one ${{ expr }}
// with nothing around it.
func (t *Template) IsExpression() bool {
	if len(t.nodes) != 1 {
		return false
	}
	_, ok := t.nodes[0].(*outputNode)
	return ok
}

// Value renders the template as Backstage renders a step's input: a
// template that is one expression keeps the expression's type (a list
// stays a list), anything else becomes its text. ok is false where
// Backstage would leave the value undefined: an undefined result or "".
func (t *Template) Value(data map[string]any) (v any, ok bool, err error) {
	if !t.IsExpression() {
		s, err := t.Render(data)
		return s, s != "", err
	}
	r := t.renderer(data)
	v, err = r.eval(t.nodes[0].(*outputNode).x)
	if err != nil {
		return nil, false, t.wrap(err)
	}
	if IsUndefined(v) || v == "" {
		return nil, false, nil
	}
	return Export(v), true, nil
}

func (t *Template) renderer(data map[string]any) *renderer {
	top, _ := normalize(data).(map[string]any)
	if top == nil {
		top = map[string]any{}
	}
	return &renderer{src: t.src, frames: []map[string]any{top, {}}}
}

func (t *Template) wrap(err error) error {
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	return &Error{Line: 1, Column: 1, Msg: err.Error()}
}

// Export turns an evaluated value into plain data for YAML or JSON:
// whole numbers become int64, undefined members disappear, NaN and
// Infinity become null, as JSON.stringify would write them.
func Export(v any) any {
	v = toJSON(v)
	switch t := v.(type) {
	case float64:
		if t == float64(int64(t)) && t > -1e18 && t < 1e18 {
			return int64(t)
		}
	case []any:
		for i, e := range t {
			t[i] = Export(e)
		}
	case map[string]any:
		for k, e := range t {
			t[k] = Export(e)
		}
	}
	return v
}

// RenderString parses and renders src in one step.
func RenderString(src string, data map[string]any) (string, error) {
	t, err := Parse(src, Options{})
	if err != nil {
		return "", err
	}
	return t.Render(data)
}

// Filters lists the names of the built-in filters, for documentation.
func Filters() []string {
	return slices.Sorted(maps.Keys(builtinFilters))
}

// reassocNodes applies JavaScript's operator precedence to every
// expression in the template (see reassoc.go).
func reassocNodes(nodes []node) {
	for _, n := range nodes {
		switch n := n.(type) {
		case *outputNode:
			n.x = reassoc(n.x)
		case *ifNode:
			for i := range n.conds {
				n.conds[i] = reassoc(n.conds[i])
				reassocNodes(n.bodies[i])
			}
			reassocNodes(n.els)
		case *forNode:
			n.iter = reassoc(n.iter)
			reassocNodes(n.body)
			reassocNodes(n.els)
		case *setNode:
			n.x = reassoc(n.x)
			reassocNodes(n.body)
		case *filterBlockNode:
			reassocAll(n.f.args)
			reassocNodes(n.body)
		}
	}
}
