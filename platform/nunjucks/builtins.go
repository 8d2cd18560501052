package nunjucks

import (
	"fmt"
	"math"
	"regexp"
	"strings"
	"unicode"
)

// testDef is an "is" test: x is name(args).
type testDef struct {
	args int
	fn   func(v any, args []any) (bool, error)
}

func test0(fn func(v any) bool) *testDef {
	return &testDef{fn: func(v any, _ []any) (bool, error) { return fn(v), nil }}
}

func test1(fn func(v, arg any) bool) *testDef {
	return &testDef{args: 1, fn: func(v any, args []any) (bool, error) { return fn(v, args[0]), nil }}
}

func relTest(ok func(int) bool) *testDef {
	return test1(func(v, arg any) bool {
		c, defined := compare(v, arg)
		return defined && ok(c)
	})
}

var tests map[string]*testDef

func init() {
	isString := func(v any) bool { _, ok := v.(string); return ok }
	tests = map[string]*testDef{
		"defined":   test0(func(v any) bool { return !IsUndefined(v) }),
		"undefined": test0(IsUndefined),
		"none":      test0(func(v any) bool { return v == nil }),
		"null":      test0(func(v any) bool { return v == nil }),
		"number":    test0(func(v any) bool { _, ok := v.(float64); return ok }),
		"string":    test0(isString),
		"truthy":    test0(truthy),
		"falsy":     test0(func(v any) bool { return !truthy(v) }),
		"odd":       test0(func(v any) bool { return math.Mod(toNumber(v), 2) == 1 || math.Mod(toNumber(v), 2) == -1 }),
		"even":      test0(func(v any) bool { return math.Mod(toNumber(v), 2) == 0 }),
		"lower":     test0(func(v any) bool { s, ok := v.(string); return ok && s == strings.ToLower(s) }),
		"upper":     test0(func(v any) bool { s, ok := v.(string); return ok && s == strings.ToUpper(s) }),
		"iterable":  test0(func(v any) bool { _, a := v.([]any); return a || isString(v) }),
		"mapping":   test0(func(v any) bool { _, ok := v.(map[string]any); return ok }),
		"callable":  test0(func(v any) bool { _, ok := v.(callable); return ok }),
		"escaped":   test0(func(any) bool { return false }),
		"divisibleby": test1(func(v, arg any) bool {
			d := toNumber(arg)
			return d != 0 && math.Mod(toNumber(v), d) == 0
		}),
		"equalto":     test1(strictEqual),
		"eq":          test1(strictEqual),
		"sameas":      test1(strictEqual),
		"ne":          test1(func(v, arg any) bool { return !strictEqual(v, arg) }),
		"gt":          relTest(func(c int) bool { return c > 0 }),
		"greaterthan": relTest(func(c int) bool { return c > 0 }),
		"ge":          relTest(func(c int) bool { return c >= 0 }),
		"lt":          relTest(func(c int) bool { return c < 0 }),
		"lessthan":    relTest(func(c int) bool { return c < 0 }),
		"le":          relTest(func(c int) bool { return c <= 0 }),
	}
}

// globals are the functions a template may call by name.
var globals = map[string]any{
	"range": callable(rangeGlobal),
}

// rangeGlobal is range(stop) or range(start, stop[, step]).
func rangeGlobal(args []any) (any, error) {
	var start, stop, step float64 = 0, 0, 1
	switch len(args) {
	case 1:
		stop = toNumber(args[0])
	case 2, 3:
		start, stop = toNumber(args[0]), toNumber(args[1])
		if len(args) == 3 {
			step = toNumber(args[2])
		}
	default:
		return nil, failf("range takes 1 to 3 arguments, got %d", len(args))
	}
	if step == 0 || math.IsNaN(start+stop+step) {
		return nil, failf("range needs numbers and a step other than 0")
	}
	n := math.Ceil((stop - start) / step)
	if n > maxIterations {
		return nil, failf("range of %v numbers is too large (at most %d)", n, maxIterations)
	}
	out := []any{}
	for i := 0; float64(i) < n; i++ {
		out = append(out, start+float64(i)*step)
	}
	return out, nil
}

// stringMethod returns the few JavaScript string methods templates use
// (values.name.split("-")), or nil.
func stringMethod(s, name string) callable {
	str := func(args []any, i int) string {
		if i < len(args) {
			return jsString(args[i])
		}
		return "undefined"
	}
	switch name {
	case "toLowerCase":
		return func([]any) (any, error) { return strings.ToLower(s), nil }
	case "toUpperCase":
		return func([]any) (any, error) { return strings.ToUpper(s), nil }
	case "trim":
		return func([]any) (any, error) { return strings.TrimSpace(s), nil }
	case "startsWith":
		return func(a []any) (any, error) { return strings.HasPrefix(s, str(a, 0)), nil }
	case "endsWith":
		return func(a []any) (any, error) { return strings.HasSuffix(s, str(a, 0)), nil }
	case "includes":
		return func(a []any) (any, error) { return strings.Contains(s, str(a, 0)), nil }
	case "indexOf":
		return func(a []any) (any, error) {
			i := strings.Index(s, str(a, 0))
			if i < 0 {
				return -1.0, nil
			}
			return float64(len([]rune(s[:i]))), nil
		}
	case "split":
		return func(a []any) (any, error) {
			if len(a) == 0 || IsUndefined(a[0]) {
				return []any{s}, nil
			}
			var parts []string
			if re, ok := a[0].(*regexValue); ok {
				parts = re.re.Split(s, -1)
			} else {
				parts = strings.Split(s, jsString(a[0]))
			}
			out := make([]any, len(parts))
			for i, p := range parts {
				out[i] = p
			}
			return out, nil
		}
	case "replaceAll":
		return func(a []any) (any, error) {
			if len(a) > 0 {
				if re, ok := a[0].(*regexValue); ok {
					if !re.global {
						return nil, failf("replaceAll must be called with a global RegExp")
					}
					return re.replace(s, str(a, 1)), nil
				}
			}
			return strings.ReplaceAll(s, str(a, 0), str(a, 1)), nil
		}
	case "trimStart", "trimLeft":
		return func([]any) (any, error) { return strings.TrimLeftFunc(s, isJSSpace), nil }
	case "trimEnd", "trimRight":
		return func([]any) (any, error) { return strings.TrimRightFunc(s, isJSSpace), nil }
	case "slice", "substring":
		return func(a []any) (any, error) {
			rs := []rune(s)
			n := len(rs)
			var start, end int
			if name == "slice" {
				start, end = relIndex(a, 0, 0, n), relIndex(a, 1, n, n)
			} else {
				start, end = clampIndex(a, 0, 0, n), clampIndex(a, 1, n, n)
				if start > end {
					start, end = end, start
				}
			}
			if start >= end {
				return "", nil
			}
			return string(rs[start:end]), nil
		}
	case "charAt":
		return func(a []any) (any, error) {
			rs := []rune(s)
			i := clampIndex(a, 0, 0, len(rs)+1)
			if i >= len(rs) {
				return "", nil
			}
			return string(rs[i]), nil
		}
	case "at":
		return func(a []any) (any, error) {
			rs := []rune(s)
			i := intArg(a, 0, 0)
			if i < 0 {
				i += len(rs)
			}
			if i < 0 || i >= len(rs) {
				return undefined, nil
			}
			return string(rs[i]), nil
		}
	case "padStart", "padEnd":
		return func(a []any) (any, error) {
			target := intArg(a, 0, 0)
			fill := " "
			if len(a) > 1 && !IsUndefined(a[1]) {
				fill = jsString(a[1])
			}
			n := len([]rune(s))
			if target <= n || fill == "" || target > maxIterations {
				return s, nil
			}
			pad := []rune(strings.Repeat(fill, (target-n)/len([]rune(fill))+1))[:target-n]
			if name == "padStart" {
				return string(pad) + s, nil
			}
			return s + string(pad), nil
		}
	case "repeat":
		return func(a []any) (any, error) {
			n := intArg(a, 0, 0)
			if n < 0 || n*len(s) > maxIterations*100 {
				return nil, failf("Invalid count value: %d", n)
			}
			return strings.Repeat(s, n), nil
		}
	case "lastIndexOf":
		return func(a []any) (any, error) {
			i := strings.LastIndex(s, str(a, 0))
			if i < 0 {
				return -1.0, nil
			}
			return float64(len([]rune(s[:i]))), nil
		}
	case "concat":
		return func(a []any) (any, error) {
			var b strings.Builder
			b.WriteString(s)
			for _, x := range a {
				b.WriteString(jsString(x))
			}
			return b.String(), nil
		}
	case "toString", "valueOf":
		return func([]any) (any, error) { return s, nil }
	case "replace": // JavaScript replaces the first match of a string
		return func(a []any) (any, error) {
			if len(a) > 0 {
				if re, ok := a[0].(*regexValue); ok {
					return re.replace(s, str(a, 1)), nil
				}
			}
			return strings.Replace(s, str(a, 0), str(a, 1), 1), nil
		}
	}
	return nil
}

// arrayMethod returns the JavaScript array methods templates use, or nil.
func arrayMethod(arr []any, name string) callable {
	switch name {
	case "join":
		return func(a []any) (any, error) {
			sep := ","
			if len(a) > 0 && !IsUndefined(a[0]) {
				sep = jsString(a[0])
			}
			return joinFilter(arr, []any{sep, undefined})
		}
	case "includes":
		return func(a []any) (any, error) {
			if len(a) == 0 {
				return false, nil
			}
			return contains(arr, a[0])
		}
	case "slice":
		return func(a []any) (any, error) {
			n := len(arr)
			start, end := relIndex(a, 0, 0, n), relIndex(a, 1, n, n)
			if start >= end {
				return []any{}, nil
			}
			return append([]any{}, arr[start:end]...), nil
		}
	case "concat":
		return func(a []any) (any, error) {
			out := append([]any{}, arr...)
			for _, x := range a {
				if more, ok := x.([]any); ok {
					out = append(out, more...)
				} else {
					out = append(out, x)
				}
			}
			return out, nil
		}
	case "at":
		return func(a []any) (any, error) {
			i := intArg(a, 0, 0)
			if i < 0 {
				i += len(arr)
			}
			if i < 0 || i >= len(arr) {
				return undefined, nil
			}
			return arr[i], nil
		}
	case "lastIndexOf":
		return func(a []any) (any, error) {
			for i := len(arr) - 1; i >= 0; i-- {
				if len(a) > 0 && strictEqual(arr[i], a[0]) {
					return float64(i), nil
				}
			}
			return -1.0, nil
		}
	case "toString":
		return func([]any) (any, error) { return jsString(arr), nil }
	case "indexOf":
		return func(a []any) (any, error) {
			for i, e := range arr {
				if len(a) > 0 && strictEqual(e, a[0]) {
					return float64(i), nil
				}
			}
			return -1.0, nil
		}
	}
	return nil
}

// intArg is ToIntegerOrInfinity of argument i (def when missing).
func intArg(a []any, i, def int) int {
	if i >= len(a) || IsUndefined(a[i]) {
		return def
	}
	f := toNumber(a[i])
	switch {
	case math.IsNaN(f):
		return 0
	case f > 1<<31:
		return 1 << 31
	case f < -(1 << 31):
		return -(1 << 31)
	}
	return int(f)
}

// relIndex is slice's index: negative counts from the end, clamped to [0, n].
func relIndex(a []any, i, def, n int) int {
	x := intArg(a, i, def)
	if x < 0 {
		x += n
	}
	return min(max(x, 0), n)
}

// clampIndex is substring's index: clamped to [0, n].
func clampIndex(a []any, i, def, n int) int { return min(max(intArg(a, i, def), 0), n) }

func isJSSpace(r rune) bool { return unicode.IsSpace(r) || r == '\uFEFF' }

// regexValue is a regular expression literal, r/pattern/flags. Go's RE2
// syntax covers the patterns templates use; back-references and
// look-arounds are refused when the literal is parsed.
type regexValue struct {
	src, flags string
	re         *regexp.Regexp
	global     bool
}

func (r *regexValue) String() string { return "/" + r.src + "/" + r.flags }

func compileRegex(src, flags string) (*regexValue, error) {
	prefix := ""
	if strings.Contains(flags, "i") {
		prefix += "i"
	}
	if strings.Contains(flags, "m") {
		prefix += "m"
	}
	if strings.Contains(flags, "s") {
		prefix += "s"
	}
	pattern := src
	if prefix != "" {
		pattern = "(?" + prefix + ")" + src
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, fmt.Errorf("regular expression r/%s/: %v", src, err)
	}
	return &regexValue{src: src, flags: flags, re: re, global: strings.Contains(flags, "g")}, nil
}

// replace is String#replace with a regular expression: every match with
// the g flag, the first otherwise; $1..$9, $& and $$ in repl.
func (r *regexValue) replace(s, repl string) string {
	expand := func(match []int) string {
		var b strings.Builder
		for i := 0; i < len(repl); i++ {
			c := repl[i]
			if c != '$' || i+1 == len(repl) {
				b.WriteByte(c)
				continue
			}
			n := repl[i+1]
			switch {
			case n == '$':
				b.WriteByte('$')
				i++
			case n == '&':
				b.WriteString(s[match[0]:match[1]])
				i++
			case n >= '1' && n <= '9' && int(n-'0') < len(match)/2:
				g := int(n - '0')
				if match[2*g] >= 0 {
					b.WriteString(s[match[2*g]:match[2*g+1]])
				}
				i++
			default:
				b.WriteByte(c)
			}
		}
		return b.String()
	}
	limit := 1
	if r.global {
		limit = -1
	}
	var b strings.Builder
	last := 0
	for _, m := range r.re.FindAllStringSubmatchIndex(s, limit) {
		b.WriteString(s[last:m[0]])
		b.WriteString(expand(m))
		last = m[1]
	}
	b.WriteString(s[last:])
	return b.String()
}
