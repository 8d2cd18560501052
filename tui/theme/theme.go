// Package theme maps meaning (synced, degraded, selected, ...) to styles.
// Screens ask for a meaning, never for a colour.
package theme

import (
	"image/color"

	"charm.land/bubbles/v2/help"
	"charm.land/lipgloss/v2"
)

// Theme is the semantic palette.
type Theme struct {
	// Argo CD, Crossplane and AKS states.
	Synced      lipgloss.Style
	OutOfSync   lipgloss.Style
	Healthy     lipgloss.Style
	Degraded    lipgloss.Style
	Progressing lipgloss.Style
	Unknown     lipgloss.Style
	Stopped     lipgloss.Style

	// Chrome.
	Title    lipgloss.Style // app name, screen titles
	Header   lipgloss.Style // header facts next to the title
	Label    lipgloss.Style // left column of key/value views
	Value    lipgloss.Style // right column of key/value views
	Muted    lipgloss.Style // secondary text, descriptions
	Selected lipgloss.Style // the row under the cursor
	Error    lipgloss.Style
	HelpKey  lipgloss.Style
	HelpDesc lipgloss.Style

	// NoColor reports whether the theme was built for NO_COLOR.
	NoColor bool
}

// The 16 ANSI colours, so the user's terminal scheme decides the exact shades
// and both light and dark backgrounds stay readable.
var (
	red     = lipgloss.Color("1")
	green   = lipgloss.Color("2")
	yellow  = lipgloss.Color("3")
	blue    = lipgloss.Color("4")
	magenta = lipgloss.Color("5")
	cyan    = lipgloss.Color("6")
	grey    = lipgloss.Color("8")
)

// New returns the default theme, or a colourless one when noColor is set
// (https://no-color.org). Without colour, emphasis uses bold, underline and
// reverse only, so the selection stays visible.
func New(noColor bool) Theme {
	if noColor {
		return plain()
	}
	s := lipgloss.NewStyle()
	fg := func(c color.Color) lipgloss.Style { return s.Foreground(c) }
	return Theme{
		Synced:      fg(green),
		OutOfSync:   fg(yellow),
		Healthy:     fg(green),
		Degraded:    fg(red).Bold(true),
		Progressing: fg(blue),
		Unknown:     fg(grey),
		Stopped:     fg(magenta),
		Title:       fg(cyan).Bold(true),
		Header:      fg(grey),
		Label:       s.Bold(true),
		Value:       s,
		Muted:       fg(grey),
		Selected:    fg(cyan).Bold(true),
		Error:       fg(red).Bold(true),
		HelpKey:     fg(grey).Bold(true),
		HelpDesc:    fg(grey),
	}
}

func plain() Theme {
	s := lipgloss.NewStyle()
	bold := s.Bold(true)
	return Theme{
		Synced:      s,
		OutOfSync:   bold,
		Healthy:     s,
		Degraded:    bold.Underline(true),
		Progressing: s.Underline(true),
		Unknown:     s,
		Stopped:     s,
		Title:       bold,
		Header:      s,
		Label:       bold,
		Value:       s,
		Muted:       s,
		Selected:    s.Reverse(true),
		Error:       bold,
		HelpKey:     bold,
		HelpDesc:    s,
		NoColor:     true,
	}
}

// Status returns the style for an Argo CD sync/health or power state name
// ("Synced", "OutOfSync", "Healthy", "Degraded", "Progressing", "Stopped", ...).
// Names it does not know get Unknown.
func (t Theme) Status(name string) lipgloss.Style {
	switch name {
	case "Synced":
		return t.Synced
	case "OutOfSync":
		return t.OutOfSync
	case "Healthy", "Running", "Succeeded", "Ready":
		return t.Healthy
	case "Degraded", "Failed", "Error", "Missing":
		return t.Degraded
	case "Progressing", "Starting", "Stopping", "Running operation":
		return t.Progressing
	case "Stopped", "Suspended":
		return t.Stopped
	}
	return t.Unknown
}

// Help returns styles for the bubbles help view.
func (t Theme) Help() help.Styles {
	return help.Styles{
		Ellipsis:       t.HelpDesc,
		ShortKey:       t.HelpKey,
		ShortDesc:      t.HelpDesc,
		ShortSeparator: t.HelpDesc,
		FullKey:        t.HelpKey,
		FullDesc:       t.HelpDesc,
		FullSeparator:  t.HelpDesc,
	}
}
