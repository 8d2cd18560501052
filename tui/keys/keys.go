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

// Live views (Applications, Crossplane).
var (
	HardRefresh = key.NewBinding(key.WithKeys("R"), key.WithHelp("R", "hard refresh"))
	Sync        = key.NewBinding(key.WithKeys("S"), key.WithHelp("S", "sync"))
	Filter      = key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "filter"))
	Sort        = key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "sort"))
	Palette     = key.NewBinding(key.WithKeys(":"), key.WithHelp(":", "commands"))
	// Inside a filter, palette or confirmation.
	Accept   = key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "apply"))
	Dismiss  = key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel"))
	Complete = key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "complete"))
	Yes      = key.NewBinding(key.WithKeys("y", "Y"), key.WithHelp("y", "yes"))
	No       = key.NewBinding(key.WithKeys("n", "N", "esc"), key.WithHelp("n/esc", "no"))
)

// New service (golden paths).
var (
	Create = key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "create"))
	Edit   = key.NewBinding(key.WithKeys("e"), key.WithHelp("e", "edit answers"))
	// FormBack goes to the previous field or page of a form; the answers stay.
	FormBack = key.NewBinding(key.WithKeys("shift+tab"), key.WithHelp("shift+tab", "back"))
	FormNext = key.NewBinding(key.WithKeys("enter", "tab"), key.WithHelp("enter", "next"))
	// Watch opens the live view of the service just created.
	Watch = key.NewBinding(key.WithKeys("w"), key.WithHelp("w", "watch it run"))
	// FormCancel leaves a form without creating anything.
	FormCancel = key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel"))
)
