// Package prompt is a one-line text input styled by the theme, for filters
// and the command palette.
package prompt

import (
	"charm.land/bubbles/v2/textinput"

	"github.com/back-stack/idp/tui/theme"
)

// New returns a focused input with prompt p and the theme's styles; the
// cursor does not blink, so the view only changes when the text does.
func New(th theme.Theme, p, placeholder string, width int) textinput.Model {
	in := textinput.New()
	in.Prompt = p
	in.Placeholder = placeholder
	state := textinput.StyleState{Text: th.Value, Placeholder: th.Muted, Suggestion: th.Muted, Prompt: th.Label}
	in.SetStyles(textinput.Styles{Focused: state, Blurred: state, Cursor: textinput.CursorStyle{Blink: false}})
	in.SetWidth(max(1, width-len(p)-1))
	in.Focus()
	return in
}
