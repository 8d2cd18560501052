// Package environment is the screen that shows what idp is pointed at.
package environment

import (
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/back-stack/idp/platform/environment"
	"github.com/back-stack/idp/tui/components/pager"
	"github.com/back-stack/idp/tui/keys"
	"github.com/back-stack/idp/tui/nav"
	"github.com/back-stack/idp/tui/theme"
)

// Title is the screen's name, also used for its home entry.
const Title = "Environment"

// Description is the home entry's description.
const Description = "What idp is pointed at: config file, kubeconfig, context, cluster and GitOps repository"

// Model is the Environment screen. The shell resolves the environment and
// delivers it as nav.EnvMsg; "r" asks the shell to resolve it again.
type Model struct {
	th     theme.Theme
	env    environment.Environment
	loaded bool
	pager  pager.Model
	width  int
}

// New returns the screen; it shows "Resolving…" until an EnvMsg arrives.
func New(th theme.Theme) *Model {
	return &Model{th: th}
}

func (m *Model) Init() tea.Cmd { return nil }

func (m *Model) Title() string { return Title }

// Env is the environment on display and whether one has arrived.
func (m *Model) Env() (environment.Environment, bool) { return m.env, m.loaded }

func (m *Model) SetSize(width, height int) {
	rewrap := width != m.width
	m.width = width
	m.pager.SetSize(width, height)
	if rewrap {
		m.render()
	}
}

func (m *Model) Update(msg tea.Msg) (nav.Screen, tea.Cmd) {
	switch msg := msg.(type) {
	case nav.EnvMsg:
		m.handleEnv(msg)
	case tea.KeyPressMsg:
		return m, m.handleKey(msg)
	}
	return m, nil
}

func (m *Model) handleEnv(msg nav.EnvMsg) {
	m.env, m.loaded = msg.Env, true
	m.render()
}

func (m *Model) handleKey(msg tea.KeyPressMsg) tea.Cmd {
	if key.Matches(msg, keys.Refresh) {
		return nav.RefreshEnv
	}
	m.pager.HandleKey(msg)
	return nil
}

func (m *Model) render() {
	if !m.loaded {
		m.pager.SetContent([]string{m.th.Muted.Render("Resolving…")})
		return
	}
	m.pager.SetContent(renderLines(m.th, m.env, m.width))
}

func (m *Model) View() string { return m.pager.View() }

func (m *Model) ShortHelp() []key.Binding {
	if m.pager.Scrollable() {
		return []key.Binding{keys.Up, keys.Down, keys.Refresh}
	}
	return []key.Binding{keys.Refresh}
}

func (m *Model) FullHelp() [][]key.Binding {
	return [][]key.Binding{{keys.Up, keys.Down}, {keys.PageUp, keys.PageDown}, {keys.Top, keys.Bottom}, {keys.Refresh}}
}
