package pager

import (
	"fmt"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
)

func lines(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("line %d", i)
	}
	return out
}

func TestScrollAndClamp(t *testing.T) {
	var m Model
	m.SetSize(20, 3)
	m.SetContent(lines(10))
	if !m.Scrollable() || m.View() != "line 0\nline 1\nline 2" {
		t.Fatalf("initial view %q", m.View())
	}
	m.HandleKey(tea.KeyPressMsg{Code: 'j', Text: "j"})
	if m.Offset() != 1 {
		t.Fatalf("offset after j = %d", m.Offset())
	}
	m.HandleKey(tea.KeyPressMsg{Code: tea.KeyEnd})
	if m.Offset() != 7 || !strings.HasSuffix(m.View(), "line 9") {
		t.Fatalf("end: offset %d view %q", m.Offset(), m.View())
	}
	m.HandleKey(tea.KeyPressMsg{Code: tea.KeyDown})
	if m.Offset() != 7 {
		t.Fatalf("scrolled past the end: %d", m.Offset())
	}
	m.HandleKey(tea.KeyPressMsg{Code: tea.KeyPgUp})
	if m.Offset() != 5 {
		t.Fatalf("pgup: offset %d", m.Offset())
	}
	m.SetSize(20, 20) // growing the box scrolls back to show everything
	if m.Offset() != 0 || m.Scrollable() {
		t.Fatalf("after grow: offset %d", m.Offset())
	}
	if m.HandleKey(tea.KeyPressMsg{Code: 'x', Text: "x"}) {
		t.Fatal("x should not be handled")
	}
}

func TestTruncatesWideLines(t *testing.T) {
	var m Model
	m.SetSize(5, 2)
	m.SetContent([]string{"abcdefghij"})
	if got := m.View(); got != "abcd…" {
		t.Fatalf("view %q", got)
	}
}
