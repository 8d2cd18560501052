package palette

import (
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/back-stack/idp/tui/theme"
)

func typed(m *Model, s string) {
	for _, r := range s {
		m.HandleKey(tea.KeyPressMsg{Code: r, Text: string(r)})
	}
}

func TestCompleteAndChoose(t *testing.T) {
	m := New(theme.New(true), []Command{{Name: "sort name"}, {Name: "sort health"}, {Name: "sync"}, {Name: "hard-refresh"}}, 80)
	typed(&m, "so")
	m.HandleKey(tea.KeyPressMsg{Code: tea.KeyTab})
	if m.Value() != "sort " {
		t.Fatalf("tab completed to %q, want the common prefix", m.Value())
	}
	typed(&m, "h")
	m.HandleKey(tea.KeyPressMsg{Code: tea.KeyTab})
	if m.Value() != "sort health" {
		t.Fatalf("tab completed to %q", m.Value())
	}
	res, c, _ := m.HandleKey(tea.KeyPressMsg{Code: tea.KeyEnter})
	if res != Chosen || c.Name != "sort health" {
		t.Fatalf("enter: %v %q", res, c.Name)
	}

	m = New(theme.New(true), []Command{{Name: "sync"}, {Name: "hard-refresh"}}, 80)
	typed(&m, "refresh")
	if got := m.Matches(); len(got) != 1 || got[0].Name != "hard-refresh" {
		t.Fatalf("substring matches: %v", got)
	}
	if res, _, _ := m.HandleKey(tea.KeyPressMsg{Code: tea.KeyEscape}); res != Cancelled {
		t.Fatal("esc did not cancel")
	}
	typed(&m, "zzz")
	if res, _, _ := m.HandleKey(tea.KeyPressMsg{Code: tea.KeyEnter}); res != Open {
		t.Fatal("enter with no match closed the palette")
	}
}
