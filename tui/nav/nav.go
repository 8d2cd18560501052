// Package nav is the contract between the app shell (package tui) and its
// screens: the Screen interface and the messages they exchange.
package nav

import (
	"charm.land/bubbles/v2/help"
	tea "charm.land/bubbletea/v2"

	"github.com/back-stack/idp/platform/environment"
)

// Screen is one page of the app. The shell owns quit, help, back and the
// window size; a screen gets everything else.
type Screen interface {
	Init() tea.Cmd
	Update(msg tea.Msg) (Screen, tea.Cmd)
	// View renders the body: at most the size last given to SetSize.
	View() string
	SetSize(width, height int)
	// Title names the screen in the header.
	Title() string
	// KeyMap describes the screen's own keys; the shell adds the global ones.
	help.KeyMap
}

// KeyCapturer is implemented by screens that take typed text (forms, filters).
// While CapturesKeys is true the shell passes every key but ctrl+c to the
// screen, so "q" and "?" can be typed.
type KeyCapturer interface {
	CapturesKeys() bool
}

// PushMsg asks the shell to open a screen on top of the current one.
type PushMsg struct{ Screen Screen }

// Push returns a Cmd that opens s.
func Push(s Screen) tea.Cmd {
	return func() tea.Msg { return PushMsg{Screen: s} }
}

// PopMsg asks the shell to close the current screen.
type PopMsg struct{}

// ErrMsg reports a failed operation; the shell shows it on the error line.
type ErrMsg struct {
	Op  string
	Err error
}

func (e ErrMsg) Error() string {
	if e.Op == "" {
		return e.Err.Error()
	}
	return e.Op + ": " + e.Err.Error()
}

// EnvMsg carries the resolved environment. The shell sends it to every screen
// on the stack when it changes, and to a screen when it is pushed.
type EnvMsg struct{ Env environment.Environment }

// RefreshEnvMsg asks the shell to resolve the environment again.
type RefreshEnvMsg struct{}

// RefreshEnv is a Cmd that sends RefreshEnvMsg.
func RefreshEnv() tea.Msg { return RefreshEnvMsg{} }
