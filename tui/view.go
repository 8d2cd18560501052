package tui

import (
	"strings"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
)

// headerLines is the header line plus the rule under it.
const headerLines = 2

// layout tells the top screen how much room its body has. Called after every
// Update, since size, help mode, the error line and the stack all change it.
func (a *App) layout() {
	if a.width <= 0 || a.height <= 0 {
		return
	}
	a.help.SetWidth(a.width)
	a.top().SetSize(a.width, a.bodyHeight(len(a.footerLines())))
}

func (a *App) bodyHeight(footer int) int {
	toast := 0
	if a.toast != "" {
		toast = 1
	}
	return max(0, a.height-headerLines-len(a.bannerLines())-toast-footer)
}

// bannerLines is the banner, shown on the home screen only.
func (a *App) bannerLines() []string {
	if a.banner == "" || len(a.stack) > 1 {
		return nil
	}
	return []string{a.th.Progressing.Render(a.banner)}
}

func (a *App) View() tea.View {
	v := tea.NewView(a.render())
	v.AltScreen = true
	v.WindowTitle = "idp"
	return v
}

// render draws header, body, error line and footer so that the footer is on
// the last line and no line is wider than the window.
func (a *App) render() string {
	if a.width <= 0 || a.height <= 0 {
		return "" // nothing sensible to draw before the first WindowSizeMsg
	}
	footer := a.footerLines()
	bodyH := a.bodyHeight(len(footer))

	lines := make([]string, 0, a.height)
	lines = append(lines, a.header(), a.th.Muted.Render(strings.Repeat("─", a.width)))
	lines = append(lines, a.bannerLines()...)
	body := strings.Split(a.top().View(), "\n")
	for i := range bodyH {
		l := ""
		if i < len(body) {
			l = body[i]
		}
		lines = append(lines, l)
	}
	if a.toast != "" {
		lines = append(lines, a.th.Error.Render("Error: "+a.toast))
	}
	lines = append(lines, footer...)
	if len(lines) > a.height { // tiny window: the footer wins over the header
		lines = lines[len(lines)-a.height:]
	}
	for i, l := range lines {
		lines[i] = ansi.Truncate(l, a.width, "…")
	}
	return strings.Join(lines, "\n")
}

func (a *App) footerLines() []string {
	return strings.Split(a.help.View(a.keyMap()), "\n")
}

// header is "idp › Screen  context: x  gitops: y".
func (a *App) header() string {
	var b strings.Builder
	b.WriteString(a.th.Title.Render("idp"))
	for _, s := range a.stack[1:] {
		b.WriteString(a.th.Header.Render(" › "))
		b.WriteString(a.th.Title.Render(s.Title()))
	}
	b.WriteString("   ")
	b.WriteString(a.th.Header.Render("context: " + a.contextLabel() + "   gitops: " + a.gitopsLabel()))
	return b.String()
}

func (a *App) contextLabel() string {
	switch {
	case !a.envLoaded:
		return "…"
	case a.env.Kube.Context == "":
		return "none"
	case a.env.KubeErr != nil:
		return a.env.Kube.Context + " (unresolved)"
	}
	return a.env.Kube.Context
}

func (a *App) gitopsLabel() string {
	switch {
	case !a.envLoaded:
		return "…"
	case a.env.GitOps() == "":
		return "not set"
	}
	return a.env.GitOps()
}
