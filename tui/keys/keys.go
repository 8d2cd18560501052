// Package keys holds every key binding idp uses, with its help text, so the
// footer and the full help always describe what the keys really do.
package keys

import "charm.land/bubbles/v2/key"

// Global keys, handled by the app shell.
var (
	Help = key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help"))
	Back = key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back"))
	Quit = key.NewBinding(key.WithKeys("q", "ctrl+c"), key.WithHelp("q", "quit"))
	// ForceQuit works even when a screen captures typing (a form).
	ForceQuit = key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp("ctrl+c", "quit"))
)

// Navigation keys, shared by lists and scrolling views.
var (
	Up       = key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up"))
	Down     = key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down"))
	PageUp   = key.NewBinding(key.WithKeys("pgup", "ctrl+b"), key.WithHelp("pgup", "page up"))
	PageDown = key.NewBinding(key.WithKeys("pgdown", "ctrl+f", "space"), key.WithHelp("pgdn", "page down"))
	Top      = key.NewBinding(key.WithKeys("home", "g"), key.WithHelp("g/home", "top"))
	Bottom   = key.NewBinding(key.WithKeys("end", "G"), key.WithHelp("G/end", "bottom"))
	Open     = key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "open"))
)

// Actions.
var (
	Refresh = key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "refresh"))
)
