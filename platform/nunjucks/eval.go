package nunjucks

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Limits on one render, so that a template cannot make idp loop or grow
// output without bound (range(1e9), nested loops).
const (
	maxOutput     = 16 << 20
	maxIterations = 250_000
)

// callable is a function value: a global such as range, or a bound method.
type callable func(args []any) (any, error)

// renderer holds the state of one render.
type renderer struct {
	src        string
	frames     []map[string]any // innermost last; frames[0] is the data
	iterations int
	out        int
}

// evalError is an evaluation failure before its position is known.
type evalError struct{ msg string }

func (e *evalError) Error() string { return e.msg }

func failf(format string, args ...any) error {
	return &evalError{msg: fmt.Sprintf(format, args...)}
}

// at turns an error from evaluating x into an *Error at x's position,
// unless it already has one.
func (r *renderer) at(pos int, err error) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	return newError(r.src, pos, err.Error())
}

func (r *renderer) lookupName(name string) any {
	for i := len(r.frames) - 1; i >= 0; i-- {
		if v, ok := r.frames[i][name]; ok {
			return v
		}
	}
	if g, ok := globals[name]; ok {
		return g
	}
	return undefined
}

// setLocal defines a name in the innermost frame (loop variables).
func (r *renderer) setLocal(name string, v any) { r.frames[len(r.frames)-1][name] = v }

// assign is {% set %}: as in Nunjucks, it changes the variable where an
// enclosing frame (a loop's or the template's) already has it, and
// defines it in the innermost frame otherwise. frames[0], the data, is
// never written.
func (r *renderer) assign(name string, v any) {
	for i := len(r.frames) - 1; i >= 1; i-- {
		if _, ok := r.frames[i][name]; ok {
			r.frames[i][name] = v
			return
		}
	}
	r.setLocal(name, v)
}

func (r *renderer) render(nodes []node, b *strings.Builder) error {
	for _, n := range nodes {
		if err := r.renderNode(n, b); err != nil {
			return err
		}
		if b.Len() > maxOutput {
			return failf("the output is larger than %d MiB", maxOutput>>20)
		}
	}
	return nil
}

func (r *renderer) renderNode(n node, b *strings.Builder) error {
	switch n := n.(type) {
	case *textNode:
		b.WriteString(n.text)
	case *outputNode:
		v, err := r.eval(n.x)
		if err != nil {
			return err
		}
		b.WriteString(outputString(v))
	case *ifNode:
		for i, cond := range n.conds {
			v, err := r.eval(cond)
			if err != nil {
				return err
			}
			if truthy(v) {
				return r.render(n.bodies[i], b)
			}
		}
		return r.render(n.els, b)
	case *forNode:
		return r.renderFor(n, b)
	case *setNode:
		var v any
		if n.x != nil {
			var err error
			if v, err = r.eval(n.x); err != nil {
				return err
			}
		} else {
			var body strings.Builder
			if err := r.render(n.body, &body); err != nil {
				return err
			}
			v = body.String()
		}
		for _, name := range n.names {
			r.assign(name, v)
		}
	case *filterBlockNode:
		var body strings.Builder
		if err := r.render(n.body, &body); err != nil {
			return err
		}
		v, err := r.applyFilter(n.f, body.String())
		if err != nil {
			return err
		}
		b.WriteString(outputString(v))
	default:
		return fmt.Errorf("nunjucks: unknown node %T", n)
	}
	return nil
}

func (r *renderer) renderFor(n *forNode, b *strings.Builder) error {
	seq, err := r.eval(n.iter)
	if err != nil {
		return err
	}
	type item struct{ vals []any }
	var items []item
	// unpack gives each name its value: for a, b in [[1, 2], [3, 4]]
	// takes each element apart.
	unpack := func(e any) item {
		if len(n.names) == 1 {
			return item{[]any{e}}
		}
		parts, _ := e.([]any)
		vals := make([]any, len(n.names))
		for i := range vals {
			vals[i] = undefined
			if i < len(parts) {
				vals[i] = parts[i]
			}
		}
		return item{vals}
	}
	switch s := seq.(type) {
	case []any:
		for _, e := range s {
			items = append(items, unpack(e))
		}
	case map[string]any:
		if len(n.names) != 2 {
			return r.at(n.pos, failf("looping over an object needs two names: {%% for key, value in object %%}"))
		}
		for _, k := range sortedKeys(s) {
			items = append(items, item{[]any{k, s[k]}})
		}
	case string:
		i := 0
		for _, c := range s {
			if len(n.names) == 2 { // Nunjucks walks a string like an object: index, character
				items = append(items, item{[]any{strconv.Itoa(i), string(c)}})
			} else {
				items = append(items, unpack(string(c)))
			}
			i++
		}
	case nil, undefinedValue:
		// Nunjucks renders nothing (or the else branch) for a missing list.
	default:
		return r.at(n.iter.position(), failf("cannot loop over a %s", typeName(seq)))
	}
	if len(items) == 0 {
		return r.render(n.els, b)
	}
	r.frames = append(r.frames, map[string]any{})
	defer func() { r.frames = r.frames[:len(r.frames)-1] }()
	for i, it := range items {
		r.iterations++
		if r.iterations > maxIterations {
			return r.at(n.pos, failf("more than %d loop iterations", maxIterations))
		}
		for j, name := range n.names {
			r.setLocal(name, it.vals[j])
		}
		r.setLocal("loop", map[string]any{
			"index": float64(i + 1), "index0": float64(i),
			"revindex": float64(len(items) - i), "revindex0": float64(len(items) - i - 1),
			"first": i == 0, "last": i == len(items)-1, "length": float64(len(items)),
		})
		if err := r.render(n.body, b); err != nil {
			return err
		}
	}
	return nil
}

func (r *renderer) eval(x expr) (any, error) {
	switch x := x.(type) {
	case *litExpr:
		return x.val, nil
	case *nameExpr:
		return r.lookupName(x.name), nil
	case *regexExpr:
		return x.re, nil
	case *groupExpr:
		return r.eval(x.x)
	case *floorExpr:
		v, err := r.eval(x.x)
		if err != nil {
			return nil, err
		}
		return math.Floor(toNumber(v)), nil
	case *lookupExpr:
		obj, err := r.eval(x.obj)
		if err != nil {
			return nil, err
		}
		key, err := r.eval(x.key)
		if err != nil {
			return nil, err
		}
		return member(obj, key), nil
	case *callExpr:
		return r.evalCall(x)
	case *filterExpr:
		in, err := r.eval(x.in)
		if err != nil {
			return nil, err
		}
		return r.applyFilter(x, in)
	case *unaryExpr:
		v, err := r.eval(x.x)
		if err != nil {
			return nil, err
		}
		switch x.op {
		case "not":
			return !truthy(v), nil
		case "-":
			return -toNumber(v), nil
		}
		return toNumber(v), nil
	case *binaryExpr:
		return r.evalBinary(x)
	case *condExpr:
		c, err := r.eval(x.cond)
		if err != nil {
			return nil, err
		}
		if truthy(c) {
			return r.eval(x.then)
		}
		if x.els == nil {
			return "", nil
		}
		return r.eval(x.els)
	case *isExpr:
		v, err := r.eval(x.x)
		if err != nil {
			return nil, err
		}
		args, err := r.evalList(x.args)
		if err != nil {
			return nil, err
		}
		ok, err := x.def.fn(v, pad(args, x.def.args))
		if err != nil {
			return nil, r.at(x.pos, err)
		}
		return ok != x.not, nil
	case *arrayExpr:
		return r.evalList(x.elems)
	case *dictExpr:
		m := make(map[string]any, len(x.keys))
		for i := range x.keys {
			k, err := r.eval(x.keys[i])
			if err != nil {
				return nil, err
			}
			v, err := r.eval(x.vals[i])
			if err != nil {
				return nil, err
			}
			m[jsString(k)] = v
		}
		return m, nil
	}
	return nil, fmt.Errorf("nunjucks: unknown expression %T", x)
}

func (r *renderer) evalList(xs []expr) ([]any, error) {
	out := make([]any, len(xs))
	for i, x := range xs {
		v, err := r.eval(x)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

func (r *renderer) evalBinary(x *binaryExpr) (any, error) {
	l, err := r.eval(x.l)
	if err != nil {
		return nil, err
	}
	// and/or short-circuit and yield an operand, as in JavaScript.
	switch x.op {
	case "and":
		if !truthy(l) {
			return l, nil
		}
		return r.eval(x.r)
	case "or":
		if truthy(l) {
			return l, nil
		}
		return r.eval(x.r)
	}
	rv, err := r.eval(x.r)
	if err != nil {
		return nil, err
	}
	switch x.op {
	case "in", "not in":
		ok, err := contains(rv, l)
		if err != nil {
			return nil, r.at(x.pos, err)
		}
		return ok == (x.op == "in"), nil
	case "==":
		return looseEqual(l, rv), nil
	case "!=":
		return !looseEqual(l, rv), nil
	case "===":
		return strictEqual(l, rv), nil
	case "!==":
		return !strictEqual(l, rv), nil
	case "<", ">", "<=", ">=":
		c, ok := compare(l, rv)
		if !ok {
			return false, nil
		}
		switch x.op {
		case "<":
			return c < 0, nil
		case ">":
			return c > 0, nil
		case "<=":
			return c <= 0, nil
		}
		return c >= 0, nil
	case "~":
		s := jsString(l) + jsString(rv)
		if len(s) > maxOutput {
			return nil, r.at(x.pos, failf("the string is larger than %d MiB", maxOutput>>20))
		}
		return s, nil
	case "+":
		v := add(l, rv)
		if s, ok := v.(string); ok && len(s) > maxOutput {
			return nil, r.at(x.pos, failf("the string is larger than %d MiB", maxOutput>>20))
		}
		return v, nil
	}
	a, b := toNumber(l), toNumber(rv)
	switch x.op {
	case "-":
		return a - b, nil
	case "*":
		return a * b, nil
	case "/":
		return a / b, nil
	case "%":
		return math.Mod(a, b), nil
	case "**":
		return math.Pow(a, b), nil
	}
	return nil, r.at(x.pos, failf("unknown operator %q", x.op))
}

// contains is Nunjucks' "in": an element of an array, a key of an object
// or a substring of a string.
func contains(container, v any) (bool, error) {
	switch c := container.(type) {
	case []any:
		for _, e := range c {
			if strictEqual(e, v) {
				return true, nil
			}
		}
		return false, nil
	case map[string]any:
		_, ok := c[jsString(v)]
		return ok, nil
	case string:
		return strings.Contains(c, jsString(v)), nil
	}
	return false, failf("cannot use \"in\" to search a %s", typeName(container))
}

// member is obj[key], undefined where JavaScript would give undefined or
// throw on a missing parent (Nunjucks' memberLookup is lenient the same way).
func member(obj, key any) any {
	switch o := obj.(type) {
	case map[string]any:
		if v, ok := o[jsString(key)]; ok {
			return v
		}
	case []any:
		if f, ok := key.(float64); ok {
			if i := int(f); float64(i) == f && i >= 0 && i < len(o) {
				return o[i]
			}
			return undefined
		}
		if key == "length" {
			return float64(len(o))
		}
		if m := arrayMethod(o, jsString(key)); m != nil {
			return m
		}
	case string:
		if f, ok := key.(float64); ok {
			rs := []rune(o)
			if i := int(f); float64(i) == f && i >= 0 && i < len(rs) {
				return string(rs[i])
			}
			return undefined
		}
		if key == "length" {
			return float64(len([]rune(o)))
		}
		if m := stringMethod(o, jsString(key)); m != nil {
			return m
		}
	}
	return undefined
}

func (r *renderer) evalCall(x *callExpr) (any, error) {
	fn, err := r.eval(x.fn)
	if err != nil {
		return nil, err
	}
	args, err := r.evalList(x.args)
	if err != nil {
		return nil, err
	}
	if len(x.kwargs) > 0 {
		return nil, r.at(x.pos, failf("keyword arguments are only supported for filters"))
	}
	f, ok := fn.(callable)
	if !ok {
		return nil, r.at(x.pos, failf("%s is not a function (a %s)", describeExpr(x.fn), typeName(fn)))
	}
	v, err := f(args)
	if err != nil {
		return nil, r.at(x.pos, err)
	}
	return v, nil
}

func describeExpr(x expr) string {
	switch x := x.(type) {
	case *groupExpr:
		return describeExpr(x.x)
	case *nameExpr:
		return x.name
	case *lookupExpr:
		if k, ok := x.key.(*litExpr); ok {
			return describeExpr(x.obj) + "." + jsString(k.val)
		}
		return describeExpr(x.obj) + "[...]"
	}
	return "the value"
}

func (r *renderer) applyFilter(f *filterExpr, in any) (any, error) {
	args, err := r.evalList(f.args)
	if err != nil {
		return nil, err
	}
	full := make([]any, len(f.def.params))
	for i := range full {
		full[i] = undefined
		if i < len(args) {
			full[i] = args[i]
		}
	}
	v, err := f.def.fn(in, full)
	if err != nil {
		return nil, r.at(f.pos, fmt.Errorf("filter %q: %w", f.name, err))
	}
	if s, ok := v.(string); ok && len(s) > maxOutput {
		return nil, r.at(f.pos, failf("filter %q: the result is larger than %d MiB", f.name, maxOutput>>20))
	}
	return v, nil
}

// pad extends args with undefined to n entries.
func pad(args []any, n int) []any {
	for len(args) < n {
		args = append(args, undefined)
	}
	return args
}
