package nunjucks

import (
	"fmt"
	"strconv"
	"strings"
)

// maxDepth bounds the nesting of expressions and tags, so a hostile
// template cannot exhaust the stack.
const maxDepth = 200

type parser struct {
	src     string
	toks    []token
	i       int
	filters map[string]*filterDef
	depth   int
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func (p *parser) errorf(pos int, format string, args ...any) error {
	return newError(p.src, pos, fmt.Sprintf(format, args...))
}

// describe names a token for "expected X, found Y" messages.
func describe(t token) string {
	switch t.kind {
	case tName, tOp:
		return fmt.Sprintf("%q", t.val)
	case tString:
		return fmt.Sprintf("string %q", t.val)
	case tNumber:
		return "number " + t.val
	}
	return t.kind.String()
}

func (p *parser) expectOp(op string) (token, error) {
	t := p.next()
	if !t.is(tOp, op) {
		return t, p.errorf(t.pos, "expected %q, found %s", op, describe(t))
	}
	return t, nil
}

func (p *parser) expect(kind tokKind) (token, error) {
	t := p.next()
	if t.kind != kind {
		return t, p.errorf(t.pos, "expected %s, found %s", kind, describe(t))
	}
	return t, nil
}

func (p *parser) skipOp(op string) bool {
	if p.peek().is(tOp, op) {
		p.i++
		return true
	}
	return false
}

func (p *parser) skipName(name string) bool {
	if p.peek().is(tName, name) {
		p.i++
		return true
	}
	return false
}

func (p *parser) enter(pos int) error {
	p.depth++
	if p.depth > maxDepth {
		return p.errorf(pos, "nested too deeply (more than %d levels)", maxDepth)
	}
	return nil
}

func (p *parser) leave() { p.depth-- }

// body parses nodes until EOF or a tag whose name is in stop; it returns
// the stop tag's name, having consumed its start and name.
func (p *parser) body(stop ...string) ([]node, string, error) {
	var nodes []node
	for {
		t := p.next()
		switch t.kind {
		case tEOF:
			if len(stop) > 0 {
				return nil, "", p.errorf(t.pos, "missing {%% %s %%}", stop[len(stop)-1])
			}
			return nodes, "", nil
		case tText:
			if t.val != "" {
				nodes = append(nodes, &textNode{text: t.val})
			}
		case tComment:
		case tVarStart:
			x, err := p.expr()
			if err != nil {
				return nil, "", err
			}
			if _, err := p.expect(tVarEnd); err != nil {
				return nil, "", err
			}
			nodes = append(nodes, &outputNode{pos: t.pos, x: x})
		case tBlockStart:
			name, err := p.expect(tName)
			if err != nil {
				return nil, "", p.errorf(name.pos, "expected a tag name, found %s", describe(name))
			}
			for _, s := range stop {
				if name.val == s {
					return nodes, s, nil
				}
			}
			n, err := p.tag(name)
			if err != nil {
				return nil, "", err
			}
			if n != nil {
				nodes = append(nodes, n)
			}
		default:
			return nil, "", p.errorf(t.pos, "unexpected %s", describe(t))
		}
	}
}

// unsupportedTags are Nunjucks tags that need a template loader or macros.
var unsupportedTags = map[string]bool{
	"include": true, "extends": true, "block": true, "import": true, "from": true,
	"macro": true, "call": true, "asyncEach": true, "asyncAll": true, "ifAsync": true,
}

func (p *parser) tag(name token) (node, error) {
	if err := p.enter(name.pos); err != nil {
		return nil, err
	}
	defer p.leave()
	switch name.val {
	case "if", "ifAsync":
		return p.ifTag()
	case "for":
		return p.forTag(name)
	case "set":
		return p.setTag()
	case "raw":
		return p.rawTag()
	case "filter":
		return p.filterTag(name)
	case "endif", "endfor", "endset", "endraw", "endfilter", "else", "elif", "elseif":
		return nil, p.errorf(name.pos, "{%% %s %%} without its opening tag", name.val)
	}
	if unsupportedTags[name.val] {
		return nil, p.errorf(name.pos, "the Nunjucks tag {%% %s %%} is not supported by idp", name.val)
	}
	return nil, p.errorf(name.pos, "unknown tag {%% %s %%}", name.val)
}

func (p *parser) endTag() error {
	_, err := p.expect(tBlockEnd)
	return err
}

func (p *parser) ifTag() (node, error) {
	n := &ifNode{}
	for {
		cond, err := p.expr()
		if err != nil {
			return nil, err
		}
		if err := p.endTag(); err != nil {
			return nil, err
		}
		body, stop, err := p.body("elif", "elseif", "else", "endif")
		if err != nil {
			return nil, err
		}
		n.conds = append(n.conds, cond)
		n.bodies = append(n.bodies, body)
		switch stop {
		case "else":
			if err := p.endTag(); err != nil {
				return nil, err
			}
			n.els, _, err = p.body("endif")
			if err != nil {
				return nil, err
			}
			return n, p.endTag()
		case "endif":
			return n, p.endTag()
		}
	}
}

func (p *parser) forTag(tag token) (node, error) {
	n := &forNode{pos: tag.pos}
	for {
		t, err := p.expect(tName)
		if err != nil {
			return nil, err
		}
		n.names = append(n.names, t.val)
		if !p.skipOp(",") {
			break
		}
	}
	if t := p.next(); !t.is(tName, "in") {
		return nil, p.errorf(t.pos, `expected "in" in the for tag, found %s`, describe(t))
	}
	var err error
	if n.iter, err = p.expr(); err != nil {
		return nil, err
	}
	if err := p.endTag(); err != nil {
		return nil, err
	}
	body, stop, err := p.body("else", "endfor")
	if err != nil {
		return nil, err
	}
	n.body = body
	if stop == "else" {
		if err := p.endTag(); err != nil {
			return nil, err
		}
		if n.els, _, err = p.body("endfor"); err != nil {
			return nil, err
		}
	}
	return n, p.endTag()
}

func (p *parser) setTag() (node, error) {
	n := &setNode{}
	for {
		t, err := p.expect(tName)
		if err != nil {
			return nil, err
		}
		n.names = append(n.names, t.val)
		if !p.skipOp(",") {
			break
		}
	}
	if p.skipOp("=") {
		var err error
		if n.x, err = p.expr(); err != nil {
			return nil, err
		}
		return n, p.endTag()
	}
	if err := p.endTag(); err != nil {
		return nil, err
	}
	body, _, err := p.body("endset")
	if err != nil {
		return nil, err
	}
	n.body = body
	return n, p.endTag()
}

// rawTag reads what the lexer made of {% raw %}: end, text, start, endraw, end.
func (p *parser) rawTag() (node, error) {
	if err := p.endTag(); err != nil {
		return nil, err
	}
	text, err := p.expect(tText)
	if err != nil {
		return nil, err
	}
	if _, err := p.expect(tBlockStart); err != nil {
		return nil, err
	}
	if _, err := p.expect(tName); err != nil {
		return nil, err
	}
	return &textNode{text: text.val}, p.endTag()
}

func (p *parser) filterTag(tag token) (node, error) {
	f, err := p.filterCall(tag.pos, nil)
	if err != nil {
		return nil, err
	}
	if err := p.endTag(); err != nil {
		return nil, err
	}
	body, _, err := p.body("endfilter")
	if err != nil {
		return nil, err
	}
	return &filterBlockNode{f: f, body: body}, p.endTag()
}

// Expressions, loosest binding first, in Nunjucks' order.

func (p *parser) expr() (expr, error) {
	t := p.peek()
	if err := p.enter(t.pos); err != nil {
		return nil, err
	}
	defer p.leave()
	x, err := p.or()
	if err != nil {
		return nil, err
	}
	for p.peek().is(tName, "if") {
		pos := p.next().pos
		cond, err := p.or()
		if err != nil {
			return nil, err
		}
		c := &condExpr{pos: pos, cond: cond, then: x}
		if p.skipName("else") {
			if c.els, err = p.or(); err != nil {
				return nil, err
			}
		}
		x = c
	}
	return x, nil
}

// binaryLevel parses operand (op operand)* for the operators at one level.
func (p *parser) binaryLevel(operand func() (expr, error), isOp func(token) (string, bool)) (expr, error) {
	x, err := operand()
	if err != nil {
		return nil, err
	}
	for {
		op, ok := isOp(p.peek())
		if !ok {
			return x, nil
		}
		pos := p.next().pos
		y, err := operand()
		if err != nil {
			return nil, err
		}
		x = &binaryExpr{pos: pos, op: op, l: x, r: y}
	}
}

func word(w string) func(token) (string, bool) {
	return func(t token) (string, bool) { return w, t.is(tName, w) }
}

func ops(list ...string) func(token) (string, bool) {
	return func(t token) (string, bool) {
		if t.kind != tOp {
			return "", false
		}
		for _, o := range list {
			if t.val == o {
				return o, true
			}
		}
		return "", false
	}
}

func (p *parser) or() (expr, error)  { return p.binaryLevel(p.and, word("or")) }
func (p *parser) and() (expr, error) { return p.binaryLevel(p.not, word("and")) }

func (p *parser) not() (expr, error) {
	if t := p.peek(); t.is(tName, "not") {
		p.next()
		if err := p.enter(t.pos); err != nil {
			return nil, err
		}
		defer p.leave()
		x, err := p.not()
		if err != nil {
			return nil, err
		}
		return &unaryExpr{pos: t.pos, op: "not", x: x}, nil
	}
	return p.in()
}

func (p *parser) in() (expr, error) {
	x, err := p.is()
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		op := ""
		switch {
		case t.is(tName, "in"):
			p.next()
			op = "in"
		case t.is(tName, "not") && p.toks[p.i+1].is(tName, "in"):
			p.i += 2
			op = "not in"
		default:
			return x, nil
		}
		y, err := p.is()
		if err != nil {
			return nil, err
		}
		x = &binaryExpr{pos: t.pos, op: op, l: x, r: y}
	}
}

func (p *parser) is() (expr, error) {
	x, err := p.compare()
	if err != nil {
		return nil, err
	}
	if !p.peek().is(tName, "is") {
		return x, nil
	}
	pos := p.next().pos
	n := &isExpr{pos: pos, x: x, not: p.skipName("not")}
	t, err := p.expect(tName)
	if err != nil {
		// "is none", "is null" and "is true" are names too; numbers are not.
		return nil, p.errorf(t.pos, "expected a test name after \"is\", found %s", describe(t))
	}
	n.test = t.val
	if n.def = tests[t.val]; n.def == nil {
		return nil, p.errorf(t.pos, "unknown test %q", t.val)
	}
	if p.peek().is(tOp, "(") {
		args, kwargs, err := p.args()
		if err != nil {
			return nil, err
		}
		if len(kwargs) > 0 {
			return nil, p.errorf(t.pos, "test %q takes no keyword arguments", t.val)
		}
		n.args = args
	} else if n.def.args > 0 && startsOperand(p.peek()) {
		// Jinja style: "x is divisibleby 3".
		arg, err := p.compare()
		if err != nil {
			return nil, err
		}
		n.args = []expr{arg}
	}
	if len(n.args) > n.def.args {
		return nil, p.errorf(t.pos, "test %q takes %d argument(s), got %d", t.val, n.def.args, len(n.args))
	}
	return n, nil
}

func startsOperand(t token) bool {
	switch t.kind {
	case tString, tNumber:
		return true
	case tName:
		switch t.val {
		case "and", "or", "if", "else", "in", "not", "is":
			return false
		}
		return true
	}
	return false
}

func (p *parser) compare() (expr, error) {
	return p.binaryLevel(p.concat, ops("==", "===", "!=", "!==", "<", ">", "<=", ">="))
}
func (p *parser) concat() (expr, error)   { return p.binaryLevel(p.addExpr, ops("~")) }
func (p *parser) addExpr() (expr, error)  { return p.binaryLevel(p.subExpr, ops("+")) }
func (p *parser) subExpr() (expr, error)  { return p.binaryLevel(p.mulExpr, ops("-")) }
func (p *parser) mulExpr() (expr, error)  { return p.binaryLevel(p.divExpr, ops("*")) }
func (p *parser) divExpr() (expr, error)  { return p.binaryLevel(p.fdivExpr, ops("/")) }
func (p *parser) fdivExpr() (expr, error) { return p.binaryLevel(p.modExpr, ops("//")) }
func (p *parser) modExpr() (expr, error)  { return p.binaryLevel(p.powExpr, ops("%")) }
func (p *parser) powExpr() (expr, error) {
	return p.binaryLevel(func() (expr, error) { return p.unary(false) }, ops("**"))
}

// unary parses -x and +x. As in Nunjucks, filters apply to the whole
// signed operand: -x | abs is abs(-x).
func (p *parser) unary(noFilters bool) (expr, error) {
	t := p.peek()
	if err := p.enter(t.pos); err != nil {
		return nil, err
	}
	defer p.leave()
	var x expr
	var err error
	if t.is(tOp, "-") || t.is(tOp, "+") {
		p.next()
		var operand expr
		if operand, err = p.unary(true); err != nil {
			return nil, err
		}
		x = &unaryExpr{pos: t.pos, op: t.val, x: operand}
	} else if x, err = p.primary(); err != nil {
		return nil, err
	}
	if noFilters {
		return x, nil
	}
	for p.peek().is(tOp, "|") {
		pos := p.next().pos
		if x, err = p.filterCall(pos, x); err != nil {
			return nil, err
		}
	}
	return x, nil
}

// filterCall parses "name" or "name(args)" after a | (or in a filter tag).
func (p *parser) filterCall(pos int, in expr) (*filterExpr, error) {
	t, err := p.expect(tName)
	if err != nil {
		return nil, p.errorf(t.pos, "expected a filter name, found %s", describe(t))
	}
	name := t.val
	for p.peek().is(tOp, ".") && p.toks[p.i+1].kind == tName { // dotted names
		p.next()
		name += "." + p.next().val
	}
	f := &filterExpr{pos: t.pos, name: name, in: in}
	if f.def = p.filters[name]; f.def == nil {
		if why, ok := unsupportedFilters[name]; ok {
			return nil, p.errorf(t.pos, "the Nunjucks filter %q is not supported by idp: %s", name, why)
		}
		return nil, p.errorf(t.pos, "unknown filter %q", name)
	}
	if p.peek().is(tOp, "(") {
		if f.args, f.kwargs, err = p.args(); err != nil {
			return nil, err
		}
	}
	if err := f.def.checkArity(len(f.args), f.kwargs); err != nil {
		return nil, p.errorf(t.pos, "filter %q: %v", name, err)
	}
	return f, nil
}

// args parses (a, b, key=c).
func (p *parser) args() ([]expr, []kwarg, error) {
	if _, err := p.expectOp("("); err != nil {
		return nil, nil, err
	}
	var args []expr
	var kwargs []kwarg
	for !p.peek().is(tOp, ")") {
		if len(args)+len(kwargs) > 0 {
			if _, err := p.expectOp(","); err != nil {
				return nil, nil, err
			}
			if p.peek().is(tOp, ")") { // trailing comma
				break
			}
		}
		if t := p.peek(); t.kind == tName && p.toks[p.i+1].is(tOp, "=") {
			p.i += 2
			x, err := p.expr()
			if err != nil {
				return nil, nil, err
			}
			kwargs = append(kwargs, kwarg{name: t.val, x: x})
			continue
		}
		if len(kwargs) > 0 {
			return nil, nil, p.errorf(p.peek().pos, "a positional argument cannot follow a keyword argument")
		}
		x, err := p.expr()
		if err != nil {
			return nil, nil, err
		}
		args = append(args, x)
	}
	p.next()
	return args, kwargs, nil
}

func (p *parser) primary() (expr, error) {
	t := p.next()
	var x expr
	switch t.kind {
	case tString:
		x = &litExpr{pos: t.pos, val: t.val}
	case tNumber:
		f, err := strconv.ParseFloat(t.val, 64)
		if err != nil {
			return nil, p.errorf(t.pos, "bad number %s", t.val)
		}
		x = &litExpr{pos: t.pos, val: f}
	case tRegex:
		re, err := compileRegex(t.val, t.flags)
		if err != nil {
			return nil, p.errorf(t.pos, "%v", err)
		}
		x = &regexExpr{pos: t.pos, re: re}
	case tName:
		switch t.val {
		case "true", "True":
			x = &litExpr{pos: t.pos, val: true}
		case "false", "False":
			x = &litExpr{pos: t.pos, val: false}
		case "none", "None", "null":
			x = &litExpr{pos: t.pos, val: nil}
		default:
			x = &nameExpr{pos: t.pos, name: t.val}
		}
	case tOp:
		var err error
		switch t.val {
		case "(":
			inner, err := p.expr()
			if err != nil {
				return nil, err
			}
			if _, err := p.expectOp(")"); err != nil {
				return nil, err
			}
			x = &groupExpr{pos: t.pos, x: inner}
		case "[":
			if x, err = p.array(t.pos); err != nil {
				return nil, err
			}
		case "{":
			if x, err = p.dict(t.pos); err != nil {
				return nil, err
			}
		default:
			return nil, p.errorf(t.pos, "unexpected %s in an expression", describe(t))
		}
	default:
		if t.kind == tVarEnd || t.kind == tBlockEnd || t.kind == tEOF {
			return nil, p.errorf(t.pos, "expected an expression, found %s", describe(t))
		}
		return nil, p.errorf(t.pos, "unexpected %s", describe(t))
	}
	return p.postfix(x)
}

func (p *parser) postfix(x expr) (expr, error) {
	for {
		t := p.peek()
		switch {
		case t.is(tOp, "."):
			p.next()
			name := p.next()
			switch name.kind {
			case tName:
				x = &lookupExpr{pos: name.pos, obj: x, key: &litExpr{pos: name.pos, val: name.val}}
			case tNumber: // a.0 as in Jinja
				f, _ := strconv.ParseFloat(name.val, 64)
				x = &lookupExpr{pos: name.pos, obj: x, key: &litExpr{pos: name.pos, val: f}}
			default:
				return nil, p.errorf(name.pos, "expected a property name after \".\", found %s", describe(name))
			}
		case t.is(tOp, "["):
			p.next()
			key, err := p.expr()
			if err != nil {
				return nil, err
			}
			if _, err := p.expectOp("]"); err != nil {
				return nil, err
			}
			x = &lookupExpr{pos: t.pos, obj: x, key: key}
		case t.is(tOp, "("):
			args, kwargs, err := p.args()
			if err != nil {
				return nil, err
			}
			x = &callExpr{pos: t.pos, fn: x, args: args, kwargs: kwargs}
		default:
			return x, nil
		}
	}
}

func (p *parser) array(pos int) (expr, error) {
	a := &arrayExpr{pos: pos}
	for !p.skipOp("]") {
		if len(a.elems) > 0 {
			if _, err := p.expectOp(","); err != nil {
				return nil, err
			}
			if p.skipOp("]") {
				break
			}
		}
		x, err := p.expr()
		if err != nil {
			return nil, err
		}
		a.elems = append(a.elems, x)
	}
	return a, nil
}

func (p *parser) dict(pos int) (expr, error) {
	d := &dictExpr{pos: pos}
	for !p.skipOp("}") {
		if len(d.keys) > 0 {
			if _, err := p.expectOp(","); err != nil {
				return nil, err
			}
			if p.skipOp("}") {
				break
			}
		}
		kt := p.peek()
		var key expr
		switch kt.kind {
		case tName: // {a: 1} means the key "a"
			p.next()
			key = &litExpr{pos: kt.pos, val: kt.val}
		case tString, tNumber:
			k, err := p.primary()
			if err != nil {
				return nil, err
			}
			key = k
		default:
			return nil, p.errorf(kt.pos, "expected a key, found %s", describe(kt))
		}
		if _, err := p.expectOp(":"); err != nil {
			return nil, err
		}
		v, err := p.expr()
		if err != nil {
			return nil, err
		}
		d.keys = append(d.keys, key)
		d.vals = append(d.vals, v)
	}
	return d, nil
}

// applyWhitespaceControl trims text next to tags written with "-", and
// applies trimBlocks and lstripBlocks.
func applyWhitespaceControl(toks []token, trimBlocks, lstripBlocks bool) {
	for i := range toks {
		if toks[i].kind != tText {
			continue
		}
		text := toks[i].val
		if i > 0 {
			prev := toks[i-1]
			isEnd := prev.kind == tBlockEnd || prev.kind == tVarEnd || (prev.kind == tComment && prev.val == "end")
			if isEnd && prev.trim {
				text = strings.TrimLeft(text, " \t\r\n\f\v")
			} else if trimBlocks && (prev.kind == tBlockEnd || (prev.kind == tComment && prev.val == "end")) {
				if strings.HasPrefix(text, "\r\n") {
					text = text[2:]
				} else {
					text = strings.TrimPrefix(text, "\n")
				}
			}
		}
		if i+1 < len(toks) {
			next := toks[i+1]
			isStart := next.kind == tBlockStart || next.kind == tVarStart || (next.kind == tComment && next.val == "")
			if isStart && next.trim {
				text = strings.TrimRight(text, " \t\r\n\f\v")
			} else if lstripBlocks && (next.kind == tBlockStart || (next.kind == tComment && next.val == "")) {
				line := text[strings.LastIndexByte(text, '\n')+1:]
				// Only when the tag starts its line: before it, blanks alone.
				if strings.Trim(line, " \t") == "" && (strings.Contains(text, "\n") || i == 0) {
					text = text[:len(text)-len(line)]
				}
			}
		}
		toks[i].val = text
	}
}
