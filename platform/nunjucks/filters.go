package nunjucks

import (
	"encoding/json"
	"fmt"
	"html"
	"math"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// FilterFunc is a filter: in is the value before the |, args are the
// arguments in the order of the filter's parameter names, undefined where
// the template left one out.
type FilterFunc func(in any, args []any) (any, error)

type filterDef struct {
	params   []string // names of the arguments after the value
	required int
	fn       FilterFunc
}

// checkArity checks the arguments a template passes. Keyword arguments
// are refused: Nunjucks hands them to built-in filters as a trailing
// object, which silently garbles them.
func (d *filterDef) checkArity(n int, kwargs []kwarg) error {
	if len(kwargs) > 0 {
		return fmt.Errorf("keyword arguments (%s=...) are not supported; pass the arguments in order: %s", kwargs[0].name, strings.Join(d.params, ", "))
	}
	if n > len(d.params) {
		return fmt.Errorf("takes at most %d argument(s), got %d", len(d.params), n)
	}
	if n < d.required {
		return fmt.Errorf("needs %d argument(s): %s", d.required, strings.Join(d.params[:d.required], ", "))
	}
	return nil
}

func def(fn FilterFunc, required int, params ...string) *filterDef {
	return &filterDef{params: params, required: required, fn: fn}
}

// builtinFilters are Nunjucks' built-in filters that idp implements, with
// Nunjucks' semantics, plus Backstage's scaffolder filters (backstage.go).
var builtinFilters = map[string]*filterDef{
	"abs":         def(func(in any, _ []any) (any, error) { return math.Abs(toNumber(in)), nil }, 0),
	"batch":       def(batchFilter, 1, "linecount", "fill_with"),
	"capitalize":  def(func(in any, _ []any) (any, error) { return capitalize(normalizeStr(in)), nil }, 0),
	"center":      def(centerFilter, 0, "width"),
	"default":     def(defaultFilter, 0, "default", "boolean"),
	"d":           def(defaultFilter, 0, "default", "boolean"),
	"dictsort":    def(dictsortFilter, 0, "caseSensitive", "by"),
	"dump":        def(dumpFilter, 0, "spaces"),
	"escape":      def(escapeFilter, 0),
	"e":           def(escapeFilter, 0),
	"forceescape": def(escapeFilter, 0),
	"first":       def(firstFilter, 0),
	"float":       def(floatFilter, 0, "default"),
	"indent":      def(indentFilter, 0, "width", "indentfirst"),
	"int":         def(intFilter, 0, "default"),
	"join":        def(joinFilter, 0, "delimiter", "attribute"),
	"last":        def(lastFilter, 0),
	"length":      def(lengthFilter, 0),
	"list":        def(listFilter, 0),
	"lower":       def(func(in any, _ []any) (any, error) { return strings.ToLower(normalizeStr(in)), nil }, 0),
	"nl2br":       def(nl2brFilter, 0),
	"reject":      def(selectFilter(false), 0, "test", "arg"),
	"rejectattr":  def(selectAttrFilter(false), 1, "attribute", "test", "arg"),
	"replace":     def(replaceFilter, 2, "old", "new", "maxCount"),
	"reverse":     def(reverseFilter, 0),
	"round":       def(roundFilter, 0, "precision", "method"),
	"safe":        def(func(in any, _ []any) (any, error) { return in, nil }, 0),
	"select":      def(selectFilter(true), 0, "test", "arg"),
	"selectattr":  def(selectAttrFilter(true), 1, "attribute", "test", "arg"),
	"sort":        def(sortFilter, 0, "reverse", "caseSens", "attribute"),
	"string":      def(func(in any, _ []any) (any, error) { return jsString(in), nil }, 0),
	"striptags":   def(striptagsFilter, 0, "preserveLinebreaks"),
	"sum":         def(sumFilter, 0, "attribute", "start"),
	"title":       def(titleFilter, 0),
	"trim":        def(func(in any, _ []any) (any, error) { return strings.TrimSpace(normalizeStr(in)), nil }, 0),
	"truncate":    def(truncateFilter, 0, "length", "killwords", "end"),
	"upper":       def(func(in any, _ []any) (any, error) { return strings.ToUpper(normalizeStr(in)), nil }, 0),
	"urlencode":   def(urlencodeFilter, 0),
	"wordcount":   def(wordcountFilter, 0),
}

// unsupportedFilters are Nunjucks built-ins idp leaves out on purpose.
var unsupportedFilters = map[string]string{
	"random":  "a template must render the same way every time",
	"groupby": "its result depends on object key order, which idp does not keep",
	"slice":   "use batch or a loop instead",
	"urlize":  "it produces HTML links, which service skeletons do not need",
}

func isUndef(v any) bool { return IsUndefined(v) }

// normalizeStr is Nunjucks' normalize(value, ”): null, undefined and
// false become "".
func normalizeStr(v any) string {
	if v == nil || IsUndefined(v) || v == false {
		return ""
	}
	return jsString(v)
}

func capitalize(s string) string {
	r := []rune(s)
	if len(r) == 0 {
		return ""
	}
	return strings.ToUpper(string(r[0])) + strings.ToLower(string(r[1:]))
}

func defaultFilter(in any, args []any) (any, error) {
	if truthy(args[1]) {
		if truthy(in) {
			return in, nil
		}
		return args[0], nil
	}
	if isUndef(in) {
		return args[0], nil
	}
	return in, nil
}

func batchFilter(in any, args []any) (any, error) {
	arr, ok := in.([]any)
	if !ok {
		return nil, failf("needs an array, got a %s", typeName(in))
	}
	n := int(toNumber(args[0]))
	if n <= 0 {
		return nil, failf("linecount must be a positive number")
	}
	var out []any
	for i := 0; i < len(arr); i += n {
		row := append([]any{}, arr[i:min(i+n, len(arr))]...)
		for truthy(args[1]) && len(row) < n {
			row = append(row, args[1])
		}
		out = append(out, row)
	}
	return out, nil
}

func centerFilter(in any, args []any) (any, error) {
	s := normalizeStr(in)
	width := 80
	if !isUndef(args[0]) {
		width = int(toNumber(args[0]))
	}
	n := len([]rune(s))
	if n >= width {
		return s, nil
	}
	// Nunjucks repeats ' ' (spaces/2 - spaces%2) and spaces/2 times in a
	// loop that counts up to a fraction.
	spaces := float64(min(width, maxOutput) - n)
	pre := int(math.Max(0, math.Ceil(spaces/2-math.Mod(spaces, 2))))
	post := int(math.Ceil(spaces / 2))
	return strings.Repeat(" ", pre) + s + strings.Repeat(" ", post), nil
}

func dictsortFilter(in any, args []any) (any, error) {
	obj, ok := in.(map[string]any)
	if !ok {
		return nil, failf("needs an object, got a %s", typeName(in))
	}
	by := "key"
	if !isUndef(args[1]) {
		by = jsString(args[1])
	}
	if by != "key" && by != "value" {
		return nil, failf(`can only sort by "key" or "value"`)
	}
	pairs := make([]any, 0, len(obj))
	for _, k := range sortedKeys(obj) {
		pairs = append(pairs, []any{k, obj[k]})
	}
	idx := 0
	if by == "value" {
		idx = 1
	}
	slices.SortStableFunc(pairs, func(a, b any) int {
		x, y := a.([]any)[idx], b.([]any)[idx]
		if !truthy(args[0]) {
			if s, ok := x.(string); ok {
				x = strings.ToUpper(s)
			}
			if s, ok := y.(string); ok {
				y = strings.ToUpper(s)
			}
		}
		c, _ := compare(x, y)
		return c
	})
	return pairs, nil
}

// dumpFilter is JSON.stringify(value, null, spaces). Object keys come out
// sorted.
func dumpFilter(in any, args []any) (any, error) {
	if isUndef(in) {
		return undefined, nil
	}
	indent := ""
	switch s := args[0].(type) {
	case float64:
		indent = strings.Repeat(" ", min(max(int(s), 0), 10))
	case string:
		indent = s[:min(len(s), 10)]
	}
	return marshalJS(toJSON(in), indent)
}

// marshalJS writes JSON as JSON.stringify does: no HTML escaping.
func marshalJS(v any, indent string) (string, error) {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", indent)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}

// toJSON maps values to what JSON.stringify writes: undefined members are
// dropped, undefined array elements, NaN and Infinity become null.
func toJSON(v any) any {
	switch t := v.(type) {
	case undefinedValue:
		return nil
	case float64:
		if math.IsNaN(t) || math.IsInf(t, 0) {
			return nil
		}
		return t
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = toJSON(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			if !isUndef(e) {
				out[k] = toJSON(e)
			}
		}
		return out
	case *regexValue:
		return map[string]any{}
	case callable:
		return nil
	}
	return v
}

func escapeFilter(in any, _ []any) (any, error) {
	return html.EscapeString(normalizeStr(in)), nil
}

func firstFilter(in any, _ []any) (any, error) {
	switch t := in.(type) {
	case []any:
		if len(t) > 0 {
			return t[0], nil
		}
	case string:
		for _, r := range t {
			return string(r), nil
		}
	}
	return undefined, nil
}

func lastFilter(in any, _ []any) (any, error) {
	switch t := in.(type) {
	case []any:
		if len(t) > 0 {
			return t[len(t)-1], nil
		}
	case string:
		if r := []rune(t); len(r) > 0 {
			return string(r[len(r)-1]), nil
		}
	}
	return undefined, nil
}

// floatPrefix is what JavaScript's parseFloat reads: the longest numeric prefix.
var floatPrefix = regexp.MustCompile(`^[+-]?(Infinity|(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?)`)

func floatFilter(in any, args []any) (any, error) {
	m := floatPrefix.FindString(strings.TrimLeftFunc(jsString(in), unicode.IsSpace))
	if m == "" {
		return args[0], nil
	}
	return parseJSNumber(m), nil
}

var intPrefix = regexp.MustCompile(`^[+-]?\d+`)

// intFilter is parseInt(value, 10).
func intFilter(in any, args []any) (any, error) {
	m := intPrefix.FindString(strings.TrimLeftFunc(jsString(in), unicode.IsSpace))
	if m == "" {
		return args[0], nil
	}
	f, err := strconv.ParseFloat(m, 64)
	if err != nil {
		return args[0], nil
	}
	return f, nil
}

// indentFilter indents every line but the first (unless indentfirst) by
// width spaces; empty lines too, as Nunjucks does.
func indentFilter(in any, args []any) (any, error) {
	s := normalizeStr(in)
	if s == "" {
		return "", nil
	}
	width := 4
	if !isUndef(args[0]) {
		width = min(max(int(toNumber(args[0])), 0), 1000)
	}
	sp := strings.Repeat(" ", width)
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if i > 0 || truthy(args[1]) {
			lines[i] = sp + l
		}
	}
	return strings.Join(lines, "\n"), nil
}

func joinFilter(in any, args []any) (any, error) {
	arr, ok := in.([]any)
	if !ok {
		return in, nil
	}
	sep := ""
	if !isUndef(args[0]) {
		sep = jsString(args[0])
	}
	parts := make([]string, len(arr))
	for i, e := range arr {
		if truthy(args[1]) {
			e = member(e, args[1])
		}
		if e != nil && !isUndef(e) {
			parts[i] = jsString(e)
		}
	}
	return strings.Join(parts, sep), nil
}

func lengthFilter(in any, _ []any) (any, error) {
	switch t := in.(type) {
	case map[string]any:
		return float64(len(t)), nil
	case undefinedValue:
		return 0.0, nil
	}
	if n, ok := length(in); ok {
		return float64(n), nil
	}
	return undefined, nil
}

func listFilter(in any, _ []any) (any, error) {
	switch t := in.(type) {
	case string:
		out := []any{}
		for _, r := range t {
			out = append(out, string(r))
		}
		return out, nil
	case []any:
		return t, nil
	case map[string]any:
		out := []any{}
		for _, k := range sortedKeys(t) {
			out = append(out, map[string]any{"key": k, "value": t[k]})
		}
		return out, nil
	}
	return nil, failf("type not iterable: %s", typeName(in))
}

func nl2brFilter(in any, _ []any) (any, error) {
	return strings.NewReplacer("\r\n", "<br />\n", "\n", "<br />\n").Replace(normalizeStr(in)), nil
}

func replaceFilter(in any, args []any) (any, error) {
	old, repl, maxCount := args[0], args[1], -1
	if re, ok := old.(*regexValue); ok {
		return re.replace(jsString(in), jsString(repl)), nil
	}
	if !isUndef(args[2]) {
		maxCount = int(toNumber(args[2]))
	}
	switch o := old.(type) {
	case float64:
		old = formatNumber(o)
	case string:
	default:
		return in, nil
	}
	if f, ok := in.(float64); ok {
		in = formatNumber(f)
	}
	s, ok := in.(string)
	if !ok {
		return in, nil
	}
	from, to := old.(string), jsString(repl)
	if from == "" {
		rs := strings.Split(s, "")
		return to + strings.Join(rs, to) + to, nil
	}
	if maxCount == 0 {
		return s, nil
	}
	return strings.Replace(s, from, to, maxCount), nil
}

func reverseFilter(in any, _ []any) (any, error) {
	switch t := in.(type) {
	case string:
		r := []rune(t)
		slices.Reverse(r)
		return string(r), nil
	case []any:
		out := slices.Clone(t)
		slices.Reverse(out)
		return out, nil
	}
	return nil, failf("needs a string or an array, got a %s", typeName(in))
}

func roundFilter(in any, args []any) (any, error) {
	v := toNumber(in)
	prec := 0.0
	if !isUndef(args[0]) {
		prec = toNumber(args[0])
	}
	factor := math.Pow(10, prec)
	switch m := jsString(args[1]); m {
	case "ceil":
		return math.Ceil(v*factor) / factor, nil
	case "floor":
		return math.Floor(v*factor) / factor, nil
	case "common", "undefined":
		return math.Floor(v*factor+0.5) / factor, nil // Math.round
	default:
		return nil, failf("unknown method %q (use common, ceil or floor)", m)
	}
}

func sortFilter(in any, args []any) (any, error) {
	arr, ok := in.([]any)
	if !ok {
		return nil, failf("needs an array, got a %s", typeName(in))
	}
	reverse, caseSens, attr := truthy(args[0]), truthy(args[1]), args[2]
	out := slices.Clone(arr)
	key := func(v any) any {
		if truthy(attr) {
			v = member(v, attr)
		}
		if s, ok := v.(string); ok && !caseSens {
			return strings.ToLower(s)
		}
		return v
	}
	slices.SortStableFunc(out, func(a, b any) int {
		c, _ := compare(key(a), key(b))
		if reverse {
			return -c
		}
		return c
	})
	return out, nil
}

var tagRe = regexp.MustCompile(`</?([a-zA-Z][a-zA-Z0-9]*)\b[^>]*>|<!--[\s\S]*?-->`)

func striptagsFilter(in any, args []any) (any, error) {
	s := tagRe.ReplaceAllString(normalizeStr(in), "")
	if truthy(args[0]) {
		lines := strings.Split(s, "\n")
		for i, l := range lines {
			lines[i] = strings.Join(strings.Fields(l), " ")
		}
		return strings.TrimSpace(regexp.MustCompile(`\n\n\n+`).ReplaceAllString(strings.Join(lines, "\n"), "\n\n")), nil
	}
	return strings.Join(strings.Fields(s), " "), nil
}

func sumFilter(in any, args []any) (any, error) {
	arr, ok := in.([]any)
	if !ok {
		return nil, failf("needs an array, got a %s", typeName(in))
	}
	var total any = 0.0
	if !isUndef(args[1]) {
		total = args[1]
	}
	for _, e := range arr {
		if truthy(args[0]) {
			e = member(e, args[0])
		}
		total = add(total, e)
	}
	return total, nil
}

func titleFilter(in any, _ []any) (any, error) {
	words := strings.Split(normalizeStr(in), " ")
	for i, w := range words {
		words[i] = capitalize(w)
	}
	return strings.Join(words, " "), nil
}

func truncateFilter(in any, args []any) (any, error) {
	s := []rune(normalizeStr(in))
	n := 255
	if truthy(args[0]) {
		n = max(int(toNumber(args[0])), 0)
	}
	if len(s) <= n {
		return string(s), nil
	}
	if truthy(args[1]) {
		s = s[:n]
	} else {
		idx := -1
		for i := min(n, len(s)-1); i >= 0; i-- {
			if s[i] == ' ' {
				idx = i
				break
			}
		}
		if idx == -1 {
			idx = n
		}
		s = s[:idx]
	}
	end := "..."
	if args[2] != nil && !isUndef(args[2]) {
		end = jsString(args[2])
	}
	return string(s) + end, nil
}

// encodeURIComponent escapes all but A-Z a-z 0-9 - _ . ! ~ * ' ( ).
func encodeURIComponent(s string) string {
	e := url.QueryEscape(s)
	e = strings.ReplaceAll(e, "+", "%20")
	for _, c := range []string{"!", "'", "(", ")", "*", "~"} {
		e = strings.ReplaceAll(e, url.QueryEscape(c), c)
	}
	return e
}

func urlencodeFilter(in any, _ []any) (any, error) {
	switch t := in.(type) {
	case string:
		return encodeURIComponent(t), nil
	case map[string]any:
		var parts []string
		for _, k := range sortedKeys(t) {
			parts = append(parts, encodeURIComponent(k)+"="+encodeURIComponent(jsString(t[k])))
		}
		return strings.Join(parts, "&"), nil
	case []any:
		var parts []string
		for _, e := range t {
			pair, ok := e.([]any)
			if !ok || len(pair) < 2 {
				return nil, failf("an array needs [key, value] pairs")
			}
			parts = append(parts, encodeURIComponent(jsString(pair[0]))+"="+encodeURIComponent(jsString(pair[1])))
		}
		return strings.Join(parts, "&"), nil
	}
	return encodeURIComponent(normalizeStr(in)), nil
}

var wordRe = regexp.MustCompile(`\w+`)

func wordcountFilter(in any, _ []any) (any, error) {
	words := wordRe.FindAllString(normalizeStr(in), -1)
	if len(words) == 0 {
		return nil, nil
	}
	return float64(len(words)), nil
}

func selectFilter(keep bool) FilterFunc {
	return func(in any, args []any) (any, error) {
		arr, ok := in.([]any)
		if !ok {
			return nil, failf("needs an array, got a %s", typeName(in))
		}
		test := tests["truthy"]
		if !isUndef(args[0]) {
			if test = tests[jsString(args[0])]; test == nil {
				return nil, failf("unknown test %q", jsString(args[0]))
			}
		}
		out := []any{}
		for _, e := range arr {
			ok, err := test.fn(e, []any{args[1]})
			if err != nil {
				return nil, err
			}
			if ok == keep {
				out = append(out, e)
			}
		}
		return out, nil
	}
}

func selectAttrFilter(keep bool) FilterFunc {
	return func(in any, args []any) (any, error) {
		arr, ok := in.([]any)
		if !ok {
			return nil, failf("needs an array, got a %s", typeName(in))
		}
		out := []any{}
		for _, e := range arr {
			v, err := selectFilter(true)([]any{member(e, args[0])}, args[1:])
			if err != nil {
				return nil, err
			}
			if (len(v.([]any)) == 1) == keep {
				out = append(out, e)
			}
		}
		return out, nil
	}
}
