package nunjucks

// Nunjucks compiles templates to JavaScript and writes most operators out
// without parentheses: "not a == b" becomes "!a == b", "1 + 2 ~ 'x'"
// becomes `1 + 2 + "" + 'x'`, "a // b % c" becomes "Math.floor(a / b % c)".
// JavaScript's precedence, not Nunjucks' grammar, decides what such an
// expression means. reassoc rebuilds every chain of those operators with
// JavaScript's precedence so that idp computes what Nunjucks computes.
// Everything Nunjucks emits as a call or in parentheses (filters, in, is,
// inline if, **, explicit parentheses) stays one operand.

// groupExpr is an expression written in parentheses.
type groupExpr struct {
	pos int
	x   expr
}

func (e *groupExpr) position() int { return e.pos }

// floorExpr is Math.floor(x), what "//" compiles to.
type floorExpr struct {
	pos int
	x   expr
}

func (e *floorExpr) position() int { return e.pos }

// jsPrecedence of the operators Nunjucks writes out raw.
var jsPrecedence = map[string]int{
	"or": 3, "and": 4,
	"==": 8, "!=": 8, "===": 8, "!==": 8,
	"<": 9, ">": 9, "<=": 9, ">=": 9,
	"+": 11, "-": 11,
	"*": 12, "/": 12, "%": 12,
}

// chainItem is an operand, a binary operator or a prefix operator.
type chainItem struct {
	pos     int
	operand expr
	op      string // binary operator
	prefix  string // "not", "-", "+"
}

func isRawBinary(x expr) (*binaryExpr, bool) {
	b, ok := x.(*binaryExpr)
	if !ok {
		return nil, false
	}
	if _, raw := jsPrecedence[b.op]; raw || b.op == "~" {
		return b, true
	}
	return nil, false
}

// reassoc rewrites x and every expression inside it.
func reassoc(x expr) expr {
	if x == nil {
		return nil
	}
	_, raw := isRawBinary(x)
	_, unary := x.(*unaryExpr)
	if raw || unary {
		var items []chainItem
		flatten(x, &items)
		c := &chainParser{items: items}
		return c.parse(0)
	}
	return reassocChildren(x)
}

// flatten writes x out as Nunjucks' code generator would.
func flatten(x expr, items *[]chainItem) {
	if b, ok := isRawBinary(x); ok {
		flatten(b.l, items)
		if b.op == "~" { // left + "" + right
			*items = append(*items, chainItem{pos: b.pos, op: "+"},
				chainItem{pos: b.pos, operand: &litExpr{pos: b.pos, val: ""}},
				chainItem{pos: b.pos, op: "+"})
		} else {
			*items = append(*items, chainItem{pos: b.pos, op: b.op})
		}
		flatten(b.r, items)
		return
	}
	if u, ok := x.(*unaryExpr); ok {
		*items = append(*items, chainItem{pos: u.pos, prefix: u.op})
		flatten(u.x, items)
		return
	}
	*items = append(*items, chainItem{pos: x.position(), operand: reassocChildren(x)})
}

// reassocChildren rewrites the independent expressions inside an operand.
func reassocChildren(x expr) expr {
	switch x := x.(type) {
	case *groupExpr:
		x.x = reassoc(x.x)
	case *lookupExpr:
		x.obj, x.key = reassoc(x.obj), reassoc(x.key)
	case *callExpr:
		x.fn = reassoc(x.fn)
		reassocAll(x.args)
	case *filterExpr:
		x.in = reassoc(x.in)
		reassocAll(x.args)
	case *condExpr:
		x.cond, x.then, x.els = reassoc(x.cond), reassoc(x.then), reassoc(x.els)
	case *isExpr:
		x.x = reassoc(x.x)
		reassocAll(x.args)
	case *arrayExpr:
		reassocAll(x.elems)
	case *dictExpr:
		reassocAll(x.keys)
		reassocAll(x.vals)
	case *binaryExpr:
		switch x.op {
		case "//": // Math.floor(l / r): the division is a raw chain of its own
			return &floorExpr{pos: x.pos, x: reassoc(&binaryExpr{pos: x.pos, op: "/", l: x.l, r: x.r})}
		default: // in, not in, **: calls
			x.l, x.r = reassoc(x.l), reassoc(x.r)
		}
	}
	return x
}

func reassocAll(xs []expr) {
	for i := range xs {
		xs[i] = reassoc(xs[i])
	}
}

// chainParser parses a flattened chain by precedence climbing.
type chainParser struct {
	items []chainItem
	i     int
}

func (c *chainParser) parse(minPrec int) expr {
	left := c.unary()
	for c.i < len(c.items) {
		it := c.items[c.i]
		prec := jsPrecedence[it.op]
		if prec < minPrec || prec == 0 {
			break
		}
		c.i++
		right := c.parse(prec + 1) // all of these are left-associative
		left = &binaryExpr{pos: it.pos, op: it.op, l: left, r: right}
	}
	return left
}

// unary parses prefix operators, which bind tighter than any binary one.
func (c *chainParser) unary() expr {
	it := c.items[c.i]
	c.i++
	if it.prefix != "" {
		return &unaryExpr{pos: it.pos, op: it.prefix, x: c.unary()}
	}
	return it.operand
}
