package tui

import (
	"errors"
	"strings"
	"testing"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/back-stack/idp/platform/environment"
	"github.com/back-stack/idp/tui/internal/testenv"
	"github.com/back-stack/idp/tui/keys"
	"github.com/back-stack/idp/tui/nav"
	"github.com/back-stack/idp/tui/theme"
)

var (
	keyQ     = tea.KeyPressMsg{Code: 'q', Text: "q"}
	keyCtrlC = tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl}
	keyHelp  = tea.KeyPressMsg{Code: '?', Text: "?"}
	keyEsc   = tea.KeyPressMsg{Code: tea.KeyEscape}
	keyEnter = tea.KeyPressMsg{Code: tea.KeyEnter}
	keyDown  = tea.KeyPressMsg{Code: tea.KeyDown}
)

func newApp(t *testing.T, resolve func() environment.Environment) *App {
	t.Helper()
	a := New(Options{Theme: theme.New(false), Resolve: resolve})
	send(a, a.Init())
	a.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	return a
}

// send runs cmd and feeds what it returns back into a, like the runtime
// would, until nothing is left.
func send(a *App, cmd tea.Cmd) {
	for _, msg := range run(cmd) {
		_, next := a.Update(msg)
		send(a, next)
	}
}

func run(cmd tea.Cmd) []tea.Msg {
	if cmd == nil {
		return nil
	}
	switch msg := cmd().(type) {
	case nil:
		return nil
	case tea.BatchMsg:
		var out []tea.Msg
		for _, c := range msg {
			out = append(out, run(c)...)
		}
		return out
	default:
		return []tea.Msg{msg}
	}
}

func press(a *App, k tea.KeyPressMsg) tea.Cmd {
	_, cmd := a.Update(k)
	return cmd
}

func view(a *App) string { return ansi.Strip(a.View().Content) }

func isQuit(cmd tea.Cmd) bool {
	if cmd == nil {
		return false
	}
	_, ok := cmd().(tea.QuitMsg)
	return ok
}

func TestInitResolvesEnvironment(t *testing.T) {
	a := newApp(t, testenv.Resolved)
	env, ok := a.Env()
	if !ok || env.Kube.Context != "kind-dev" {
		t.Fatalf("env = %+v, %v", env, ok)
	}
	header := strings.SplitN(view(a), "\n", 2)[0]
	if !strings.HasPrefix(header, "idp") || !strings.Contains(header, "context: kind-dev") || !strings.Contains(header, "gitops: /srv/gitops/platform") {
		t.Fatalf("header %q", header)
	}
}

func TestHomeShowsEnvironmentAndFooter(t *testing.T) {
	a := newApp(t, testenv.Resolved)
	v := view(a)
	lines := strings.Split(v, "\n")
	if len(lines) != 40 {
		t.Fatalf("%d lines, want 40", len(lines))
	}
	if !strings.Contains(v, "> Environment") {
		t.Fatalf("home does not list Environment:\n%s", v)
	}
	footer := lines[len(lines)-1]
	for _, want := range []string{"? help", "q quit", "enter open"} {
		if !strings.Contains(footer, want) {
			t.Errorf("footer %q lacks %q", footer, want)
		}
	}
	if strings.Contains(footer, "esc back") {
		t.Errorf("footer offers back on the home screen: %q", footer)
	}
}

func TestOpenAndGoBack(t *testing.T) {
	a := newApp(t, testenv.Resolved)
	if cmd := press(a, keyEsc); cmd != nil || a.Depth() != 1 {
		t.Fatalf("esc on home: depth %d, cmd %v", a.Depth(), cmd)
	}
	send(a, press(a, keyEnter))
	if a.Depth() != 2 || a.Screen().Title() != "Environment" {
		t.Fatalf("after enter: depth %d, top %q", a.Depth(), a.Screen().Title())
	}
	v := view(a)
	for _, want := range []string{"idp › Environment", "Server       https://127.0.0.1:6443", "esc back"} {
		if !strings.Contains(v, want) {
			t.Errorf("environment view lacks %q:\n%s", want, v)
		}
	}
	press(a, keyEsc)
	if a.Depth() != 1 || a.Screen().Title() != "idp" {
		t.Fatalf("after esc: depth %d", a.Depth())
	}
}

func TestQuitKeys(t *testing.T) {
	for _, k := range []tea.KeyPressMsg{keyQ, keyCtrlC} {
		a := newApp(t, testenv.Resolved)
		if !isQuit(press(a, k)) {
			t.Errorf("%s does not quit", k)
		}
	}
	a := newApp(t, testenv.Resolved)
	send(a, press(a, keyEnter))
	if !isQuit(press(a, keyQ)) {
		t.Error("q does not quit from a screen")
	}
}

func TestHelpToggles(t *testing.T) {
	a := newApp(t, testenv.Resolved)
	if strings.Contains(view(a), "g/home") {
		t.Fatal("full help shown before ?")
	}
	press(a, keyHelp)
	v := view(a)
	if !strings.Contains(v, "g/home") || !strings.Contains(v, "quit") {
		t.Fatalf("full help missing:\n%s", v)
	}
	if n := strings.Count(v, "\n") + 1; n != 40 {
		t.Fatalf("%d lines with full help, want 40", n)
	}
	press(a, keyHelp)
	if strings.Contains(view(a), "g/home") {
		t.Fatal("? did not close full help")
	}
}

func TestStaleEnvironmentIsDropped(t *testing.T) {
	calls := 0
	a := newApp(t, func() environment.Environment {
		calls++
		env := testenv.Resolved()
		env.Kube.Context = []string{"", "first", "second", "third"}[min(calls, 3)]
		return env
	})
	_, older := a.Update(nav.RefreshEnvMsg{})
	_, newer := a.Update(nav.RefreshEnvMsg{})
	newMsg, oldMsg := newer(), older() // resolve order does not matter; generations do
	a.Update(newMsg)
	a.Update(oldMsg)
	if env, _ := a.Env(); env.Kube.Context != "second" && env.Kube.Context != "third" {
		t.Fatalf("context %q", env.Kube.Context)
	}
	if env, _ := a.Env(); env.Kube.Context != newMsg.(envResolvedMsg).env.Kube.Context {
		t.Fatalf("stale result replaced the newer one: %q", env.Kube.Context)
	}
}

func TestRefreshFromEnvironmentScreen(t *testing.T) {
	calls := 0
	a := newApp(t, func() environment.Environment { calls++; return testenv.Resolved() })
	send(a, press(a, keyEnter))
	send(a, press(a, tea.KeyPressMsg{Code: 'r', Text: "r"}))
	if calls != 2 {
		t.Fatalf("resolve called %d times, want 2", calls)
	}
}

func TestBrokenEnvironmentHeader(t *testing.T) {
	a := newApp(t, testenv.Broken)
	header := strings.SplitN(view(a), "\n", 2)[0]
	if !strings.Contains(header, "context: staging (unresolved)") || !strings.Contains(header, "gitops: not set") {
		t.Fatalf("header %q", header)
	}
}

func TestErrorLine(t *testing.T) {
	a := newApp(t, testenv.Resolved)
	if cmd := func() tea.Cmd { _, c := a.Update(nav.ErrMsg{Op: "sync", Err: errors.New("boom")}); return c }(); cmd == nil {
		t.Fatal("error without expiry")
	}
	lines := strings.Split(view(a), "\n")
	if len(lines) != 40 || lines[38] != "Error: sync: boom" {
		t.Fatalf("error line: %q (of %d lines)", lines[38], len(lines))
	}
	a.Update(toastExpiredMsg{id: a.toastID - 1})
	if !strings.Contains(view(a), "boom") {
		t.Fatal("an older expiry cleared the current error")
	}
	a.Update(toastExpiredMsg{id: a.toastID})
	if strings.Contains(view(a), "boom") {
		t.Fatal("error not cleared")
	}
}

// capturing is a screen that takes typed text.
type capturing struct{ typed string }

func (c *capturing) Init() tea.Cmd { return nil }
func (c *capturing) Update(msg tea.Msg) (nav.Screen, tea.Cmd) {
	if k, ok := msg.(tea.KeyPressMsg); ok {
		c.typed += k.Text
	}
	return c, nil
}
func (c *capturing) View() string              { return c.typed }
func (c *capturing) SetSize(int, int)          {}
func (c *capturing) Title() string             { return "Form" }
func (c *capturing) CapturesKeys() bool        { return true }
func (c *capturing) ShortHelp() []key.Binding  { return []key.Binding{keys.ForceQuit} }
func (c *capturing) FullHelp() [][]key.Binding { return nil }

func TestCapturingScreenGetsQ(t *testing.T) {
	a := newApp(t, testenv.Resolved)
	form := &capturing{}
	send(a, func() tea.Msg { return nav.PushMsg{Screen: form} })
	for _, k := range []tea.KeyPressMsg{keyQ, keyHelp, keyEsc} {
		if isQuit(press(a, k)) {
			t.Fatalf("%s quit while typing", k)
		}
	}
	if form.typed != "q?" || a.Depth() != 2 {
		t.Fatalf("typed %q, depth %d", form.typed, a.Depth())
	}
	if !isQuit(press(a, keyCtrlC)) {
		t.Fatal("ctrl+c does not quit while typing")
	}
}

func TestFitsSmallWindow(t *testing.T) {
	for _, tc := range []struct {
		name string
		keys []tea.KeyPressMsg
	}{
		{"home", nil},
		{"home full help", []tea.KeyPressMsg{keyHelp}},
		{"environment", []tea.KeyPressMsg{keyEnter}},
		{"environment full help", []tea.KeyPressMsg{keyEnter, keyHelp}},
		{"environment scrolled", []tea.KeyPressMsg{keyEnter, keyDown, keyDown, keyDown}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := newApp(t, testenv.Broken)
			for _, k := range tc.keys {
				send(a, press(a, k))
			}
			a.Update(nav.ErrMsg{Op: "watch", Err: errors.New(strings.Repeat("very long error ", 10))})
			for _, size := range [][2]int{{60, 15}, {40, 8}, {20, 3}} {
				a.Update(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
				assertFits(t, a, size[0], size[1])
			}
		})
	}
}

func assertFits(t *testing.T, a *App, width, height int) {
	t.Helper()
	lines := strings.Split(a.View().Content, "\n")
	if len(lines) > height {
		t.Errorf("%dx%d: %d lines:\n%s", width, height, len(lines), view(a))
	}
	for _, l := range lines {
		if w := ansi.StringWidth(l); w > width {
			t.Errorf("%dx%d: line %q is %d wide", width, height, ansi.Strip(l), w)
		}
	}
	footer := a.footerLines()
	want := ansi.Strip(ansi.Truncate(footer[len(footer)-1], width, "…"))
	if last := ansi.Strip(lines[len(lines)-1]); last != want {
		t.Errorf("%dx%d: last line %q, want the footer's %q", width, height, last, want)
	}
}

// closing records Close, which the shell calls when the screen is popped.
type closing struct {
	capturing
	closed bool
}

func (c *closing) Update(tea.Msg) (nav.Screen, tea.Cmd) { return c, nil }
func (c *closing) CapturesKeys() bool                   { return false }
func (c *closing) Close()                               { c.closed = true }

func TestPopClosesScreen(t *testing.T) {
	a := newApp(t, testenv.Resolved)
	s := &closing{}
	send(a, nav.Push(s))
	if a.Depth() != 2 || s.closed {
		t.Fatalf("depth %d, closed %v", a.Depth(), s.closed)
	}
	a.Update(nav.PopMsg{})
	if a.Depth() != 1 || !s.closed {
		t.Fatalf("after pop: depth %d, closed %v", a.Depth(), s.closed)
	}
}

// typing is a screen that takes every key, as a form does.
type typing struct{ typed string }

func (s *typing) Init() tea.Cmd { return nil }
func (s *typing) Update(msg tea.Msg) (nav.Screen, tea.Cmd) {
	if k, ok := msg.(tea.KeyPressMsg); ok {
		s.typed += k.Text
	}
	return s, nil
}
func (s *typing) View() string              { return "typed: " + s.typed }
func (s *typing) SetSize(int, int)          {}
func (s *typing) Title() string             { return "Form" }
func (s *typing) ShortHelp() []key.Binding  { return []key.Binding{keys.Back} }
func (s *typing) FullHelp() [][]key.Binding { return [][]key.Binding{s.ShortHelp()} }
func (s *typing) CapturesKeys() bool        { return true }

// While a screen takes every key, the footer offers only what still works
// globally (ctrl+c), not q, ? or esc, which the screen receives.
func TestFooterWhileAScreenCapturesKeys(t *testing.T) {
	a := newApp(t, testenv.Resolved)
	s := &typing{}
	send(a, func() tea.Msg { return nav.PushMsg{Screen: s} })
	if cmd := press(a, tea.KeyPressMsg{Code: 'q', Text: "q"}); isQuit(cmd) || s.typed != "q" {
		t.Fatalf("q while typing: quit=%v typed=%q", isQuit(cmd), s.typed)
	}
	lines := strings.Split(view(a), "\n")
	footer := lines[len(lines)-1]
	if !strings.Contains(footer, "ctrl+c quit") || strings.Contains(footer, "q quit") || strings.Contains(footer, "? help") || strings.Count(footer, "esc") != 1 {
		t.Fatalf("footer while typing: %q", footer)
	}
}
