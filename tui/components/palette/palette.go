// Package palette is a command palette: type part of a command's name, tab
// completes it, enter runs it. Screens supply the commands and run the
// chosen one themselves.
package palette

import (
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/back-stack/idp/tui/components/prompt"
	"github.com/back-stack/idp/tui/keys"
	"github.com/back-stack/idp/tui/theme"
)

// Command is one entry: a name to type and what it does.
type Command struct {
	Name string
	Help string
}

// Model is an open palette.
type Model struct {
	th   theme.Theme
	in   textinput.Model
	cmds []Command
}

// New opens a palette over cmds.
func New(th theme.Theme, cmds []Command, width int) Model {
	return Model{th: th, in: prompt.New(th, ":", "command (tab completes)", width), cmds: cmds}
}

// Result is what a key did to the palette.
type Result int

const (
	// Open: still typing.
	Open Result = iota
	// Cancelled: closed without a command.
	Cancelled
	// Chosen: closed with the command in Chosen.
	Chosen
)

// Matches are the commands whose name contains what was typed, those that
// start with it first.
func (m Model) Matches() []Command {
	q := strings.ToLower(strings.TrimSpace(m.in.Value()))
	var prefix, inner []Command
	for _, c := range m.cmds {
		name := strings.ToLower(c.Name)
		switch {
		case strings.HasPrefix(name, q):
			prefix = append(prefix, c)
		case strings.Contains(name, q):
			inner = append(inner, c)
		}
	}
	return append(prefix, inner...)
}

// Value is the text typed so far.
func (m Model) Value() string { return m.in.Value() }

// HandleKey applies a key. On Chosen, the command is returned.
func (m *Model) HandleKey(msg tea.KeyPressMsg) (Result, Command, tea.Cmd) {
	switch {
	case key.Matches(msg, keys.Dismiss):
		return Cancelled, Command{}, nil
	case key.Matches(msg, keys.Complete):
		m.complete()
		return Open, Command{}, nil
	case key.Matches(msg, keys.Accept):
		matches := m.Matches()
		for _, c := range matches {
			if strings.EqualFold(c.Name, strings.TrimSpace(m.in.Value())) {
				return Chosen, c, nil
			}
		}
		if len(matches) > 0 {
			return Chosen, matches[0], nil
		}
		return Open, Command{}, nil
	}
	var cmd tea.Cmd
	m.in, cmd = m.in.Update(msg)
	return Open, Command{}, cmd
}

// complete extends the input to the longest prefix the matches share, or
// to the only match.
func (m *Model) complete() {
	matches := m.Matches()
	if len(matches) == 0 {
		return
	}
	common := matches[0].Name
	for _, c := range matches[1:] {
		for !strings.HasPrefix(strings.ToLower(c.Name), strings.ToLower(common)) {
			common = common[:len(common)-1]
		}
	}
	if len(common) > len(strings.TrimSpace(m.in.Value())) {
		m.in.SetValue(common)
		m.in.CursorEnd()
	}
}

// View renders the input and up to height-1 matches, each cut to width.
func (m Model) View(width, height int) string {
	lines := []string{m.in.View()}
	for i, c := range m.Matches() {
		if len(lines) >= height {
			break
		}
		name := m.th.Label.Render(c.Name)
		if i == 0 {
			name = m.th.Selected.Render(c.Name)
		}
		lines = append(lines, "  "+name+"  "+m.th.Muted.Render(c.Help))
	}
	for i, l := range lines {
		lines[i] = ansi.Truncate(l, width, "…")
	}
	return strings.Join(lines, "\n")
}
