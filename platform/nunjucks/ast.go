package nunjucks

// Template nodes.
type (
	node interface{}

	textNode struct{ text string }

	outputNode struct {
		pos int
		x   expr
	}

	ifNode struct {
		conds  []expr
		bodies [][]node
		els    []node
	}

	forNode struct {
		pos   int
		names []string
		iter  expr
		body  []node
		els   []node
	}

	setNode struct {
		names []string
		x     expr   // {% set x = expr %}
		body  []node // {% set x %}body{% endset %}
	}

	filterBlockNode struct {
		f    *filterExpr // its in is nil; the body's text takes its place
		body []node
	}
)

// Expression nodes.
type (
	expr interface{ position() int }

	litExpr struct {
		pos int
		val any
	}

	nameExpr struct {
		pos  int
		name string
	}

	lookupExpr struct {
		pos      int
		obj, key expr
	}

	callExpr struct {
		pos    int
		fn     expr
		args   []expr
		kwargs []kwarg
	}

	filterExpr struct {
		pos    int
		name   string
		in     expr
		args   []expr
		kwargs []kwarg
		def    *filterDef
	}

	unaryExpr struct {
		pos int
		op  string // "-", "+", "not"
		x   expr
	}

	binaryExpr struct {
		pos  int
		op   string
		l, r expr
	}

	condExpr struct {
		pos             int
		cond, then, els expr // els may be nil
	}

	isExpr struct {
		pos  int
		x    expr
		test string
		args []expr
		not  bool
		def  *testDef
	}

	arrayExpr struct {
		pos   int
		elems []expr
	}

	dictExpr struct {
		pos        int
		keys, vals []expr
	}

	regexExpr struct {
		pos int
		re  *regexValue
	}
)

type kwarg struct {
	name string
	x    expr
}

func (e *litExpr) position() int    { return e.pos }
func (e *nameExpr) position() int   { return e.pos }
func (e *lookupExpr) position() int { return e.pos }
func (e *callExpr) position() int   { return e.pos }
func (e *filterExpr) position() int { return e.pos }
func (e *unaryExpr) position() int  { return e.pos }
func (e *binaryExpr) position() int { return e.pos }
func (e *condExpr) position() int   { return e.pos }
func (e *isExpr) position() int     { return e.pos }
func (e *arrayExpr) position() int  { return e.pos }
func (e *dictExpr) position() int   { return e.pos }
func (e *regexExpr) position() int  { return e.pos }
