// Package tui is idp's terminal UI: the app shell and its screens. It is the
// only package tree that imports Bubble Tea, Lip Gloss, Bubbles or Huh.
package tui

import (
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/back-stack/idp/platform/aks"
	"github.com/back-stack/idp/platform/environment"
	"github.com/back-stack/idp/tui/keys"
	"github.com/back-stack/idp/tui/nav"
	"github.com/back-stack/idp/tui/screens/home"
	"github.com/back-stack/idp/tui/screens/newservice"
	"github.com/back-stack/idp/tui/theme"
)

// toastTTL is how long an error stays on the error line.
const toastTTL = 8 * time.Second

// Options are the app's dependencies.
type Options struct {
	Theme theme.Theme
	// Resolve reads what idp is pointed at. It runs inside a tea.Cmd, never
	// in Update or View.
	Resolve func() environment.Environment
	// Power is the AKS power session; nil leaves "Cluster power" out.
	Power *aks.Session
	// NewService creates services from golden paths; nil leaves "New
	// service" out.
	NewService newservice.Service
	// Bootstrap runs the platform's bootstrap; nil leaves "Bootstrap" out.
	Bootstrap Bootstrapper
	// Open, when set, is the title of a home entry to open at start (idp
	// bootstrap opens its wizard).
	Open string
	// Banner, when set, is shown under the header on the home screen (the
	// demo says what it is and where its playground lives).
	Banner string
}

// App is the root model: a stack of screens with the home screen at the
// bottom, the header, the error line and the footer help.
type App struct {
	th      theme.Theme
	resolve func() environment.Environment
	stack   []nav.Screen
	help    help.Model
	banner  string

	env       environment.Environment
	envLoaded bool
	envGen    int // bumps on every resolve; older results are dropped

	toast   string
	toastID int

	width, height int
}

// envResolvedMsg is the result of resolveEnvCmd for generation gen.
type envResolvedMsg struct {
	gen int
	env environment.Environment
}

// toastExpiredMsg clears the error line if it still shows toast id.
type toastExpiredMsg struct{ id int }

// New builds the app with the home screen on the stack.
func New(opts Options) *App {
	h := help.New()
	h.Styles = opts.Theme.Help()
	a := &App{th: opts.Theme, resolve: opts.Resolve, help: h, banner: opts.Banner}
	list := entries(opts)
	a.stack = []nav.Screen{home.New(opts.Theme, list)}
	for _, e := range list {
		if opts.Open != "" && e.Title == opts.Open {
			a.stack = append(a.stack, e.Open())
		}
	}
	return a
}

func (a *App) Init() tea.Cmd {
	cmds := []tea.Cmd{a.resolveEnvCmd()}
	for _, s := range a.stack {
		cmds = append(cmds, s.Init())
	}
	return tea.Batch(cmds...)
}

func (a *App) top() nav.Screen { return a.stack[len(a.stack)-1] }

// Screen is the screen on top of the stack.
func (a *App) Screen() nav.Screen { return a.top() }

// Depth is the number of screens on the stack; 1 means home.
func (a *App) Depth() int { return len(a.stack) }

// Env is the last resolved environment and whether one has arrived.
func (a *App) Env() (environment.Environment, bool) { return a.env, a.envLoaded }

func (a *App) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	var cmd tea.Cmd
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		a.width, a.height = msg.Width, msg.Height
	case tea.KeyPressMsg:
		cmd = a.handleKey(msg)
	case nav.PushMsg:
		cmd = a.handlePush(msg.Screen)
	case nav.PopMsg:
		a.pop()
	case nav.RefreshEnvMsg:
		cmd = a.resolveEnvCmd()
	case envResolvedMsg:
		cmd = a.handleEnvResolved(msg)
	case nav.ErrMsg:
		cmd = a.handleErr(msg)
	case toastExpiredMsg:
		if msg.id == a.toastID {
			a.toast = ""
		}
	default:
		cmd = a.forward(msg)
	}
	a.layout()
	return a, cmd
}

func (a *App) handleKey(msg tea.KeyPressMsg) tea.Cmd {
	if c, ok := a.top().(nav.KeyCapturer); ok && c.CapturesKeys() && !key.Matches(msg, keys.ForceQuit) {
		return a.forward(msg)
	}
	switch {
	case key.Matches(msg, keys.Quit):
		return tea.Quit
	case key.Matches(msg, keys.Help):
		a.help.ShowAll = !a.help.ShowAll
		return nil
	case key.Matches(msg, keys.Back):
		a.pop()
		return nil
	}
	return a.forward(msg)
}

// forward sends msg to the screen on top.
func (a *App) forward(msg tea.Msg) tea.Cmd {
	s, cmd := a.top().Update(msg)
	a.stack[len(a.stack)-1] = s
	return cmd
}

func (a *App) handlePush(s nav.Screen) tea.Cmd {
	if s == nil {
		return nil
	}
	a.stack = append(a.stack, s)
	a.layout()
	cmds := []tea.Cmd{s.Init()}
	if a.envLoaded {
		cmds = append(cmds, a.forward(nav.EnvMsg{Env: a.env}))
	}
	return tea.Batch(cmds...)
}

// pop closes the top screen; home is never popped.
func (a *App) pop() {
	if len(a.stack) <= 1 {
		return
	}
	if c, ok := a.top().(interface{ Close() }); ok {
		c.Close()
	}
	a.stack[len(a.stack)-1] = nil
	a.stack = a.stack[:len(a.stack)-1]
}

func (a *App) resolveEnvCmd() tea.Cmd {
	if a.resolve == nil {
		return nil
	}
	a.envGen++
	gen, resolve := a.envGen, a.resolve
	return func() tea.Msg { return envResolvedMsg{gen: gen, env: resolve()} }
}

func (a *App) handleEnvResolved(msg envResolvedMsg) tea.Cmd {
	if msg.gen != a.envGen {
		return nil
	}
	a.env, a.envLoaded = msg.env, true
	cmds := make([]tea.Cmd, 0, len(a.stack))
	for i, s := range a.stack {
		var cmd tea.Cmd
		a.stack[i], cmd = s.Update(nav.EnvMsg{Env: msg.env})
		cmds = append(cmds, cmd)
	}
	return tea.Batch(cmds...)
}

func (a *App) handleErr(msg nav.ErrMsg) tea.Cmd {
	if msg.Err == nil {
		return nil
	}
	a.toastID++
	a.toast = msg.Error()
	id := a.toastID
	return tea.Tick(toastTTL, func(time.Time) tea.Msg { return toastExpiredMsg{id: id} })
}

// keyMap is the footer's help: the screen's keys and the global ones that
// work here (back only below the home screen).
type keyMap struct {
	screen  help.KeyMap
	canBack bool
	// capturing: the screen takes every key but ctrl+c (a form, a running
	// bootstrap), so esc, ? and q are its to describe.
	capturing bool
}

func (k keyMap) global() []key.Binding {
	switch {
	case k.capturing:
		return []key.Binding{keys.ForceQuit}
	case k.canBack:
		return []key.Binding{keys.Back, keys.Help, keys.Quit}
	}
	return []key.Binding{keys.Help, keys.Quit}
}

func (k keyMap) ShortHelp() []key.Binding {
	return append(append([]key.Binding{}, k.screen.ShortHelp()...), k.global()...)
}

// FullHelp puts the global column first so that quit and help survive when
// a narrow window cuts columns off the right.
func (k keyMap) FullHelp() [][]key.Binding {
	return append([][]key.Binding{k.global()}, k.screen.FullHelp()...)
}

func (a *App) keyMap() keyMap {
	c, ok := a.top().(nav.KeyCapturer)
	return keyMap{screen: a.top(), canBack: len(a.stack) > 1, capturing: ok && c.CapturesKeys()}
}
