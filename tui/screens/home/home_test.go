package home

import (
	"strings"
	"testing"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/back-stack/idp/tui/nav"
	"github.com/back-stack/idp/tui/theme"
)

type fakeScreen struct{ title string }

func (s fakeScreen) Init() tea.Cmd                        { return nil }
func (s fakeScreen) Update(tea.Msg) (nav.Screen, tea.Cmd) { return s, nil }
func (s fakeScreen) View() string                         { return s.title }
func (s fakeScreen) SetSize(int, int)                     {}
func (s fakeScreen) Title() string                        { return s.title }
func (s fakeScreen) ShortHelp() []key.Binding             { return nil }
func (s fakeScreen) FullHelp() [][]key.Binding            { return nil }

func entry(title string) Entry {
	return Entry{Title: title, Description: title + " description", Open: func() nav.Screen { return fakeScreen{title} }}
}

func press(m *Model, k tea.KeyPressMsg) tea.Cmd {
	_, cmd := m.Update(k)
	return cmd
}

var (
	down  = tea.KeyPressMsg{Code: tea.KeyDown}
	up    = tea.KeyPressMsg{Code: tea.KeyUp}
	j     = tea.KeyPressMsg{Code: 'j', Text: "j"}
	k     = tea.KeyPressMsg{Code: 'k', Text: "k"}
	enter = tea.KeyPressMsg{Code: tea.KeyEnter}
)

func TestMoveAndClamp(t *testing.T) {
	m := New(theme.New(true), []Entry{entry("A"), entry("B"), entry("C")})
	m.SetSize(80, 20)
	steps := []struct {
		key  tea.KeyPressMsg
		want string
	}{
		{up, "A"}, {down, "B"}, {j, "C"}, {j, "C"}, {k, "B"}, {up, "A"},
		{tea.KeyPressMsg{Code: 'G', Text: "G"}, "C"}, {tea.KeyPressMsg{Code: 'g', Text: "g"}, "A"},
	}
	for i, s := range steps {
		press(m, s.key)
		if e, _ := m.Selected(); e.Title != s.want {
			t.Fatalf("step %d (%s): selected %q, want %q", i, s.key, e.Title, s.want)
		}
	}
}

func TestEnterOpensSelected(t *testing.T) {
	m := New(theme.New(true), []Entry{entry("A"), entry("B")})
	press(m, down)
	cmd := press(m, enter)
	if cmd == nil {
		t.Fatal("enter returned no command")
	}
	msg, ok := cmd().(nav.PushMsg)
	if !ok || msg.Screen.Title() != "B" {
		t.Fatalf("enter produced %#v", cmd())
	}
	if press(m, tea.KeyPressMsg{Code: 'x', Text: "x"}) != nil {
		t.Fatal("unbound key produced a command")
	}
}

func TestViewListsEntriesWithCursor(t *testing.T) {
	m := New(theme.New(true), []Entry{entry("Environment"), entry("B")})
	m.SetSize(80, 20)
	view := ansi.Strip(m.View())
	want := "> Environment\n  Environment description\n\n  B\n  B description"
	if view != want {
		t.Fatalf("view:\n%s\nwant:\n%s", view, want)
	}
	if m.Title() != "idp" {
		t.Fatalf("title %q", m.Title())
	}
}

func TestViewScrollsToCursorWhenShort(t *testing.T) {
	m := New(theme.New(true), []Entry{entry("A"), entry("B"), entry("C")})
	m.SetSize(12, 2) // room for one entry
	if v := ansi.Strip(m.View()); v != "> A\n  A descrip…" {
		t.Fatalf("view %q", v)
	}
	press(m, down)
	press(m, down)
	view := ansi.Strip(m.View())
	if !strings.HasPrefix(view, "> C") || strings.Count(view, "\n") > 1 {
		t.Fatalf("view after scrolling %q", view)
	}
}

func TestNoEntries(t *testing.T) {
	m := New(theme.New(true), nil)
	press(m, down)
	if press(m, enter) != nil || m.View() == "" {
		t.Fatal("empty home should do nothing and say so")
	}
}
