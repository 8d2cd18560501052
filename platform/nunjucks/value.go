package nunjucks

import (
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
)

// undefinedValue is JavaScript's undefined: what a missing variable or
// property evaluates to. It renders as "" and is distinct from null (nil).
type undefinedValue struct{}

var undefined = undefinedValue{}

// IsUndefined reports whether v is the undefined value an expression yields
// for a missing variable or property.
func IsUndefined(v any) bool {
	_, ok := v.(undefinedValue)
	return ok
}

// normalize deep-copies Go data into the value model the evaluator works
// on: nil (null), bool, float64, string, []any and map[string]any. Numbers
// of every Go kind become float64, as they are in JavaScript.
func normalize(v any) any {
	switch t := v.(type) {
	case nil:
		return nil
	case undefinedValue, bool, string, float64:
		return t
	case int:
		return float64(t)
	case int64:
		return float64(t)
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = normalize(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			out[k] = normalize(e)
		}
		return out
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Bool:
		return rv.Bool()
	case reflect.String:
		return rv.String()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return float64(rv.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return float64(rv.Uint())
	case reflect.Float32, reflect.Float64:
		return rv.Float()
	case reflect.Slice, reflect.Array:
		out := make([]any, rv.Len())
		for i := range out {
			out[i] = normalize(rv.Index(i).Interface())
		}
		return out
	case reflect.Map:
		out := make(map[string]any, rv.Len())
		iter := rv.MapRange()
		for iter.Next() {
			out[fmt.Sprint(iter.Key().Interface())] = normalize(iter.Value().Interface())
		}
		return out
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			return nil
		}
		return normalize(rv.Elem().Interface())
	}
	return fmt.Sprint(v)
}

// jsString is JavaScript's String(v).
func jsString(v any) string {
	switch t := v.(type) {
	case undefinedValue:
		return "undefined"
	case nil:
		return "null"
	case bool:
		if t {
			return "true"
		}
		return "false"
	case float64:
		return formatNumber(t)
	case string:
		return t
	case []any:
		parts := make([]string, len(t))
		for i, e := range t {
			if e == nil || IsUndefined(e) {
				continue
			}
			parts[i] = jsString(e)
		}
		return strings.Join(parts, ",")
	case map[string]any:
		return "[object Object]"
	case *regexValue:
		return t.String()
	case callable:
		return "function"
	}
	return fmt.Sprint(v)
}

// outputString is what ${{ v }} writes: null and undefined print nothing.
func outputString(v any) string {
	if v == nil || IsUndefined(v) {
		return ""
	}
	return jsString(v)
}

// formatNumber prints a number the way JavaScript's Number#toString does.
func formatNumber(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0:
		return "0" // also -0
	}
	abs := math.Abs(f)
	if abs >= 1e-6 && abs < 1e21 {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	s := strconv.FormatFloat(f, 'e', -1, 64) // 1e+21, 1.5e-08
	mant, exp, _ := strings.Cut(s, "e")
	sign := exp[0]
	digits := strings.TrimLeft(exp[1:], "0")
	return mant + "e" + string(sign) + digits
}

// toNumber is JavaScript's Number(v).
func toNumber(v any) float64 {
	switch t := v.(type) {
	case nil:
		return 0
	case bool:
		if t {
			return 1
		}
		return 0
	case float64:
		return t
	case string:
		return parseJSNumber(t)
	case []any:
		switch len(t) {
		case 0:
			return 0
		case 1:
			return toNumber(jsString(t))
		}
	}
	return math.NaN()
}

func parseJSNumber(s string) float64 {
	s = strings.TrimSpace(s)
	switch s {
	case "":
		return 0
	case "Infinity", "+Infinity":
		return math.Inf(1)
	case "-Infinity":
		return math.Inf(-1)
	}
	if strings.ContainsAny(s, "_xXpPnN") || strings.HasPrefix(s, "0b") { // Go-only spellings and inf/nan words
		return math.NaN()
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return math.NaN()
	}
	return f
}

// truthy is JavaScript's truthiness: an empty array or object is true.
func truthy(v any) bool {
	switch t := v.(type) {
	case nil, undefinedValue:
		return false
	case bool:
		return t
	case float64:
		return t != 0 && !math.IsNaN(t)
	case string:
		return t != ""
	}
	return true
}

// isObject reports whether v is an array, an object or a function: the
// values JavaScript compares by identity and converts to strings.
func isObject(v any) bool {
	switch v.(type) {
	case []any, map[string]any, *regexValue, callable:
		return true
	}
	return false
}

// sameObject compares objects by identity, as JavaScript does.
func sameObject(a, b any) bool {
	ra, rb := reflect.ValueOf(a), reflect.ValueOf(b)
	if ra.Kind() != rb.Kind() {
		return false
	}
	switch ra.Kind() {
	case reflect.Map, reflect.Pointer, reflect.Func:
		return ra.Pointer() == rb.Pointer()
	case reflect.Slice:
		return ra.Pointer() == rb.Pointer() && ra.Len() == rb.Len()
	}
	return false
}

// strictEqual is JavaScript's ===.
func strictEqual(a, b any) bool {
	switch x := a.(type) {
	case nil:
		return b == nil
	case undefinedValue:
		return IsUndefined(b)
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case float64:
		y, ok := b.(float64)
		return ok && x == y
	case string:
		y, ok := b.(string)
		return ok && x == y
	}
	return isObject(b) && sameObject(a, b)
}

// looseEqual is JavaScript's ==, which Nunjucks compiles == to.
func looseEqual(a, b any) bool {
	nullish := func(v any) bool { return v == nil || IsUndefined(v) }
	switch {
	case nullish(a) || nullish(b):
		return nullish(a) && nullish(b)
	case isObject(a) && isObject(b):
		return sameObject(a, b)
	case isObject(a):
		return looseEqual(jsString(a), b)
	case isObject(b):
		return looseEqual(a, jsString(b))
	}
	if _, ok := a.(bool); ok {
		return looseEqual(toNumber(a), b)
	}
	if _, ok := b.(bool); ok {
		return looseEqual(a, toNumber(b))
	}
	sa, aStr := a.(string)
	sb, bStr := b.(string)
	if aStr && bStr {
		return sa == sb
	}
	return toNumber(a) == toNumber(b)
}

// compare is JavaScript's relational comparison: ok is false when it is
// undefined (NaN is involved), which makes every relation false.
func compare(a, b any) (cmp int, ok bool) {
	if isObject(a) {
		a = jsString(a)
	}
	if isObject(b) {
		b = jsString(b)
	}
	sa, aStr := a.(string)
	sb, bStr := b.(string)
	if aStr && bStr {
		return strings.Compare(sa, sb), true
	}
	x, y := toNumber(a), toNumber(b)
	switch {
	case math.IsNaN(x) || math.IsNaN(y):
		return 0, false
	case x < y:
		return -1, true
	case x > y:
		return 1, true
	}
	return 0, true
}

// add is JavaScript's +: string concatenation when either side is (or
// converts to) a string, numeric addition otherwise.
func add(a, b any) any {
	if isObject(a) {
		a = jsString(a)
	}
	if isObject(b) {
		b = jsString(b)
	}
	_, aStr := a.(string)
	_, bStr := b.(string)
	if aStr || bStr {
		return jsString(a) + jsString(b)
	}
	return toNumber(a) + toNumber(b)
}

// sortedKeys lists an object's keys in a stable order. JavaScript keeps
// insertion order, which decoded Go maps do not have; sorted keys keep every
// render of the same input identical.
func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// length is .length of a string (in characters) or an array.
func length(v any) (int, bool) {
	switch t := v.(type) {
	case string:
		return len([]rune(t)), true
	case []any:
		return len(t), true
	}
	return 0, false
}

// typeName names a value's type in error messages.
func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case undefinedValue:
		return "undefined"
	case bool:
		return "boolean"
	case float64:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	case callable:
		return "function"
	case *regexValue:
		return "regular expression"
	}
	return fmt.Sprintf("%T", v)
}
