// Package home is the first screen: the list of what idp can do.
package home

import (
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/back-stack/idp/tui/keys"
	"github.com/back-stack/idp/tui/nav"
	"github.com/back-stack/idp/tui/theme"
)

// Entry is one thing idp can do. Features register an Entry (see tui's
// entries list); the home screen lists only what exists.
type Entry struct {
	Title       string
	Description string
	// Open builds the feature's screen. It must not do I/O: the screen loads
	// its data from Init.
	Open func() nav.Screen
}

// linesPerEntry is title + description + blank separator.
const linesPerEntry = 3

// Model is the home screen.
type Model struct {
	th            theme.Theme
	entries       []Entry
	cursor        int
	offset        int // first visible entry
	width, height int
}

// New returns the home screen listing entries in order.
func New(th theme.Theme, entries []Entry) *Model {
	return &Model{th: th, entries: entries}
}

func (m *Model) Init() tea.Cmd { return nil }

func (m *Model) Title() string { return "idp" }

// Selected is the entry under the cursor, if any.
func (m *Model) Selected() (Entry, bool) {
	if m.cursor < 0 || m.cursor >= len(m.entries) {
		return Entry{}, false
	}
	return m.entries[m.cursor], true
}

func (m *Model) SetSize(width, height int) {
	m.width, m.height = width, height
	m.scrollToCursor()
}

func (m *Model) Update(msg tea.Msg) (nav.Screen, tea.Cmd) {
	if msg, ok := msg.(tea.KeyPressMsg); ok {
		return m, m.handleKey(msg)
	}
	return m, nil
}

func (m *Model) handleKey(msg tea.KeyPressMsg) tea.Cmd {
	switch {
	case key.Matches(msg, keys.Up):
		m.move(-1)
	case key.Matches(msg, keys.Down):
		m.move(1)
	case key.Matches(msg, keys.Top):
		m.move(-len(m.entries))
	case key.Matches(msg, keys.Bottom):
		m.move(len(m.entries))
	case key.Matches(msg, keys.Open):
		if e, ok := m.Selected(); ok && e.Open != nil {
			return nav.Push(e.Open())
		}
	}
	return nil
}

func (m *Model) move(delta int) {
	m.cursor = min(max(m.cursor+delta, 0), max(len(m.entries)-1, 0))
	m.scrollToCursor()
}

// visibleEntries is how many entries fit; at least one so the cursor shows.
func (m *Model) visibleEntries() int {
	return max(1, (m.height+1)/linesPerEntry)
}

func (m *Model) scrollToCursor() {
	n := m.visibleEntries()
	if m.cursor < m.offset {
		m.offset = m.cursor
	}
	if m.cursor >= m.offset+n {
		m.offset = m.cursor - n + 1
	}
	m.offset = max(0, min(m.offset, len(m.entries)-n))
}

func (m *Model) View() string {
	if len(m.entries) == 0 {
		return m.th.Muted.Render("Nothing to do yet.")
	}
	var lines []string
	end := min(m.offset+m.visibleEntries(), len(m.entries))
	for i := m.offset; i < end; i++ {
		if i > m.offset {
			lines = append(lines, "")
		}
		lines = append(lines, m.renderEntry(i)...)
	}
	if m.height > 0 && len(lines) > m.height {
		lines = lines[:m.height]
	}
	for i, l := range lines {
		if m.width > 0 {
			lines[i] = ansi.Truncate(l, m.width, "…")
		}
	}
	return strings.Join(lines, "\n")
}

func (m *Model) renderEntry(i int) []string {
	e := m.entries[i]
	cursor, title := "  ", m.th.Label.Render(e.Title)
	if i == m.cursor {
		cursor, title = "> ", m.th.Selected.Render(e.Title)
	}
	return []string{cursor + title, "  " + m.th.Muted.Render(e.Description)}
}

func (m *Model) ShortHelp() []key.Binding {
	return []key.Binding{keys.Up, keys.Down, keys.Open}
}

func (m *Model) FullHelp() [][]key.Binding {
	return [][]key.Binding{{keys.Up, keys.Down}, {keys.Top, keys.Bottom}, {keys.Open}}
}
