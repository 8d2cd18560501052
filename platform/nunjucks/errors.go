package nunjucks

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Error is a syntax or evaluation error with its place in the template.
type Error struct {
	Line, Column int // 1-based; Column counts characters
	Msg          string
}

func (e *Error) Error() string {
	return fmt.Sprintf("line %d, column %d: %s", e.Line, e.Column, e.Msg)
}

func newError(src string, pos int, msg string) *Error {
	pos = min(max(pos, 0), len(src))
	before := src[:pos]
	line := strings.Count(before, "\n") + 1
	col := utf8.RuneCountInString(before[strings.LastIndexByte(before, '\n')+1:]) + 1
	return &Error{Line: line, Column: col, Msg: msg}
}
