// Package pager scrolls a block of pre-rendered lines inside a fixed box.
package pager

import (
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/back-stack/idp/tui/keys"
)

// Model is a vertical scroller. Lines wider than the box are cut with "…".
type Model struct {
	lines         []string
	offset        int
	width, height int
}

// SetContent replaces the lines, keeping the scroll position where possible.
func (m *Model) SetContent(lines []string) {
	m.lines = lines
	m.clamp()
}

// SetSize sets the box.
func (m *Model) SetSize(width, height int) {
	m.width, m.height = width, height
	m.clamp()
}

// Offset is the index of the first visible line.
func (m Model) Offset() int { return m.offset }

// Scrollable reports whether there is more content than fits.
func (m Model) Scrollable() bool { return len(m.lines) > m.height }

// HandleKey scrolls for the navigation keys and reports whether it used msg.
func (m *Model) HandleKey(msg tea.KeyPressMsg) bool {
	switch {
	case key.Matches(msg, keys.Up):
		m.offset--
	case key.Matches(msg, keys.Down):
		m.offset++
	case key.Matches(msg, keys.PageUp):
		m.offset -= max(1, m.height-1)
	case key.Matches(msg, keys.PageDown):
		m.offset += max(1, m.height-1)
	case key.Matches(msg, keys.Top):
		m.offset = 0
	case key.Matches(msg, keys.Bottom):
		m.offset = len(m.lines)
	default:
		return false
	}
	m.clamp()
	return true
}

func (m *Model) clamp() {
	m.offset = min(m.offset, len(m.lines)-m.height)
	m.offset = max(m.offset, 0)
}

// View renders the visible lines, at most height of them.
func (m Model) View() string {
	if m.height <= 0 {
		return ""
	}
	end := min(m.offset+m.height, len(m.lines))
	visible := make([]string, 0, end-m.offset)
	for _, l := range m.lines[m.offset:end] {
		if m.width > 0 {
			l = ansi.Truncate(l, m.width, "…")
		}
		visible = append(visible, l)
	}
	return strings.Join(visible, "\n")
}
