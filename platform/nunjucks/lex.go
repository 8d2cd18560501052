package nunjucks

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

type tokKind int

const (
	tText tokKind = iota
	tVarStart
	tVarEnd
	tBlockStart
	tBlockEnd
	tComment
	tName
	tString
	tNumber
	tRegex
	tOp
	tEOF
)

func (k tokKind) String() string {
	switch k {
	case tText:
		return "text"
	case tVarStart:
		return "variable start"
	case tVarEnd:
		return "end of the expression"
	case tBlockStart:
		return "tag start"
	case tBlockEnd:
		return "end of the tag"
	case tComment:
		return "comment"
	case tName:
		return "name"
	case tString:
		return "string"
	case tNumber:
		return "number"
	case tRegex:
		return "regular expression"
	case tOp:
		return "operator"
	}
	return "end of the template"
}

type token struct {
	kind tokKind
	val  string
	pos  int // byte offset in the source
	// trim is set on a tag start or end written with "-": the whitespace
	// on that side of the tag is removed.
	trim bool
	// flags are a regular expression's flags.
	flags string
}

func (t token) is(kind tokKind, val string) bool { return t.kind == kind && t.val == val }

// Syntax names the delimiters. Backstage uses ${{ }} for values so that
// {{ }} in skeleton files (Helm charts, GitHub workflows) stays as it is.
type Syntax struct {
	VariableStart, VariableEnd string
	BlockStart, BlockEnd       string
	CommentStart, CommentEnd   string
}

// Backstage is the syntax of Backstage's scaffolder (and idp's default).
var Backstage = Syntax{"${{", "}}", "{%", "%}", "{#", "#}"}

// Classic is Nunjucks' own default syntax, which Backstage's
// cookiecutterCompat mode uses.
var Classic = Syntax{"{{", "}}", "{%", "%}", "{#", "#}"}

type lexer struct {
	src  string
	syn  Syntax
	pos  int
	toks []token
	// next caches where each opener next occurs (-1: nowhere), so that
	// finding the next tag does not rescan the rest of the source.
	next map[string]int
}

// lex splits src into tokens: text between tags, and the expression tokens
// inside them. {% raw %} ... {% endraw %} becomes text.
func lex(src string, syn Syntax) ([]token, error) {
	l := &lexer{src: src, syn: syn}
	for l.pos < len(src) {
		if err := l.text(); err != nil {
			return nil, err
		}
	}
	l.emit(token{kind: tEOF, pos: len(src)})
	return l.toks, nil
}

func (l *lexer) emit(t token) { l.toks = append(l.toks, t) }

func (l *lexer) errorf(pos int, format string, args ...any) error {
	return newError(l.src, pos, fmt.Sprintf(format, args...))
}

// text scans up to the next tag and the tag itself.
func (l *lexer) text() error {
	rest := l.src[l.pos:]
	next, which := -1, ""
	if l.next == nil {
		l.next = map[string]int{}
	}
	for _, open := range []string{l.syn.VariableStart, l.syn.BlockStart, l.syn.CommentStart} {
		at, ok := l.next[open]
		if !ok || (at >= 0 && at < l.pos) {
			at = strings.Index(rest, open)
			if at >= 0 {
				at += l.pos
			}
			l.next[open] = at
		}
		if i := at - l.pos; at >= 0 && (next < 0 || i < next) {
			next, which = i, open
		}
	}
	if next < 0 {
		l.emit(token{kind: tText, val: rest, pos: l.pos})
		l.pos = len(l.src)
		return nil
	}
	if next > 0 {
		l.emit(token{kind: tText, val: rest[:next], pos: l.pos})
	}
	l.pos += next
	switch which {
	case l.syn.CommentStart:
		return l.comment()
	case l.syn.BlockStart:
		if ok, err := l.raw(); ok || err != nil {
			return err
		}
		return l.code(tBlockStart, l.syn.BlockStart, tBlockEnd, l.syn.BlockEnd)
	}
	return l.code(tVarStart, l.syn.VariableStart, tVarEnd, l.syn.VariableEnd)
}

func (l *lexer) comment() error {
	start := l.pos
	l.pos += len(l.syn.CommentStart)
	open := token{kind: tComment, pos: start, trim: strings.HasPrefix(l.src[l.pos:], "-")}
	end := strings.Index(l.src[l.pos:], l.syn.CommentEnd)
	if end < 0 {
		return l.errorf(start, "comment is never closed with %q", l.syn.CommentEnd)
	}
	body := l.src[l.pos : l.pos+end]
	l.pos += end + len(l.syn.CommentEnd)
	l.emit(open)
	// The closing half of the comment carries its own trim flag.
	l.emit(token{kind: tComment, val: "end", pos: l.pos, trim: strings.HasSuffix(body, "-")})
	return nil
}

var rawOpen = regexp.MustCompile(`^-?\s*(raw|verbatim)\s*(-?)`)

// raw handles {% raw %}...{% endraw %}: everything between is text.
func (l *lexer) raw() (bool, error) {
	start := l.pos
	after := l.src[l.pos+len(l.syn.BlockStart):]
	// Only the tag's first bytes matter; matching the whole rest of the
	// source would make lexing quadratic.
	m := rawOpen.FindStringSubmatchIndex(after[:min(len(after), 64)])
	if m == nil || !strings.HasPrefix(after[m[1]:], l.syn.BlockEnd) {
		return false, nil
	}
	word := after[m[2]:m[3]]
	trimOpen := strings.HasPrefix(after, "-")
	trimAfterOpen := m[5] > m[4]
	l.emit(token{kind: tBlockStart, pos: start, trim: trimOpen})
	l.emit(token{kind: tName, val: "raw", pos: start})
	l.emit(token{kind: tBlockEnd, pos: start, trim: trimAfterOpen})
	bodyStart := l.pos + len(l.syn.BlockStart) + m[1] + len(l.syn.BlockEnd)
	closeRe := regexp.MustCompile(regexp.QuoteMeta(l.syn.BlockStart) + `(-?)\s*end` + word + `\s*(-?)` + regexp.QuoteMeta(l.syn.BlockEnd))
	c := closeRe.FindStringSubmatchIndex(l.src[bodyStart:])
	if c == nil {
		return true, l.errorf(start, "{%% %s %%} is never closed with {%% end%s %%}", word, word)
	}
	l.emit(token{kind: tText, val: l.src[bodyStart : bodyStart+c[0]], pos: bodyStart})
	l.emit(token{kind: tBlockStart, pos: bodyStart + c[0], trim: c[3] > c[2]})
	l.emit(token{kind: tName, val: "endraw", pos: bodyStart + c[0]})
	l.emit(token{kind: tBlockEnd, pos: bodyStart + c[0], trim: c[5] > c[4]})
	l.pos = bodyStart + c[1]
	return true, nil
}

// code scans the tokens of one tag up to and including its end.
func (l *lexer) code(startKind tokKind, open string, endKind tokKind, end string) error {
	start := l.pos
	l.pos += len(open)
	trim := strings.HasPrefix(l.src[l.pos:], "-")
	if trim {
		l.pos++
	}
	l.emit(token{kind: startKind, pos: start, trim: trim})
	trimEnd := "-" + end
	for {
		l.skipSpace()
		if l.pos >= len(l.src) {
			return l.errorf(start, "%q is never closed with %q", open, end)
		}
		rest := l.src[l.pos:]
		switch {
		case strings.HasPrefix(rest, trimEnd):
			l.emit(token{kind: endKind, pos: l.pos, trim: true})
			l.pos += 1 + len(end)
			return nil
		case strings.HasPrefix(rest, end):
			l.emit(token{kind: endKind, pos: l.pos})
			l.pos += len(end)
			return nil
		}
		if err := l.codeToken(); err != nil {
			return err
		}
	}
}

func (l *lexer) skipSpace() {
	for l.pos < len(l.src) {
		r, n := utf8.DecodeRuneInString(l.src[l.pos:])
		if !unicode.IsSpace(r) {
			return
		}
		l.pos += n
	}
}

// operators, longest first.
var operators = []string{"===", "!==", "==", "!=", "<=", ">=", "//", "**",
	"(", ")", "[", "]", "{", "}", ",", ":", ".", "|", "~", "+", "-", "*", "/", "%", "<", ">", "="}

func (l *lexer) codeToken() error {
	start := l.pos
	c := l.src[l.pos]
	switch {
	case c == '"' || c == '\'':
		return l.str(c)
	case c == 'r' && l.pos+1 < len(l.src) && l.src[l.pos+1] == '/':
		return l.regex()
	case c >= '0' && c <= '9':
		return l.number()
	}
	for _, op := range operators {
		if strings.HasPrefix(l.src[l.pos:], op) {
			l.emit(token{kind: tOp, val: op, pos: start})
			l.pos += len(op)
			return nil
		}
	}
	r, _ := utf8.DecodeRuneInString(l.src[l.pos:])
	if !isNameStart(r) {
		return l.errorf(start, "unexpected character %q", r)
	}
	for l.pos < len(l.src) {
		r, n := utf8.DecodeRuneInString(l.src[l.pos:])
		if !isNameStart(r) && !unicode.IsDigit(r) {
			break
		}
		l.pos += n
	}
	l.emit(token{kind: tName, val: l.src[start:l.pos], pos: start})
	return nil
}

func isNameStart(r rune) bool {
	return r == '_' || r == '$' || unicode.IsLetter(r)
}

// str scans a quoted string. As in Nunjucks, \n, \t and \r are escapes and
// a backslash before any other character stands for that character.
func (l *lexer) str(quote byte) error {
	start := l.pos
	l.pos++
	var b strings.Builder
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		switch {
		case c == quote:
			l.pos++
			l.emit(token{kind: tString, val: b.String(), pos: start})
			return nil
		case c == '\\' && l.pos+1 < len(l.src):
			l.pos++
			r, n := utf8.DecodeRuneInString(l.src[l.pos:])
			switch r {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			default:
				b.WriteRune(r)
			}
			l.pos += n
		default:
			b.WriteByte(c)
			l.pos++
		}
	}
	return l.errorf(start, "string is never closed with %c", quote)
}

func (l *lexer) number() error {
	start := l.pos
	digits := func() {
		for l.pos < len(l.src) && l.src[l.pos] >= '0' && l.src[l.pos] <= '9' {
			l.pos++
		}
	}
	digits()
	if l.pos+1 < len(l.src) && l.src[l.pos] == '.' && l.src[l.pos+1] >= '0' && l.src[l.pos+1] <= '9' {
		l.pos++
		digits()
	}
	if l.pos < len(l.src) {
		// Nunjucks reads 1e9 or 10px as a (missing) variable name; idp
		// says so rather than rendering nothing.
		if r, _ := utf8.DecodeRuneInString(l.src[l.pos:]); isNameStart(r) {
			return l.errorf(start, "%q is not a number: write numbers with digits and one dot only", l.src[start:l.pos]+string(r))
		}
	}
	l.emit(token{kind: tNumber, val: l.src[start:l.pos], pos: start})
	return nil
}

// regex scans a Nunjucks regular expression literal: r/pattern/flags.
func (l *lexer) regex() error {
	start := l.pos
	l.pos += 2
	var b strings.Builder
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		switch {
		case c == '\\' && l.pos+1 < len(l.src):
			b.WriteString(l.src[l.pos : l.pos+2])
			l.pos += 2
			continue
		case c == '/':
			l.pos++
			fstart := l.pos
			for l.pos < len(l.src) && strings.IndexByte("gimyus", l.src[l.pos]) >= 0 {
				l.pos++
			}
			l.emit(token{kind: tRegex, val: b.String(), flags: l.src[fstart:l.pos], pos: start})
			return nil
		}
		b.WriteByte(c)
		l.pos++
	}
	return l.errorf(start, "regular expression is never closed with /")
}
