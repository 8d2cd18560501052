// Package apps is the Applications screen: every Argo CD Application the
// user can read, live, with filter, sort, a command palette, and refresh
// and sync actions.
package apps

import (
	"context"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"github.com/back-stack/idp/platform/argocd"
	"github.com/back-stack/idp/platform/environment"
	"github.com/back-stack/idp/platform/watch"
	"github.com/back-stack/idp/tui/components/palette"
	"github.com/back-stack/idp/tui/components/prompt"
	"github.com/back-stack/idp/tui/components/stream"
	"github.com/back-stack/idp/tui/keys"
	"github.com/back-stack/idp/tui/nav"
	"github.com/back-stack/idp/tui/theme"
)

// Title is the screen's name, also used for its home entry.
const Title = "Applications"

// Description is the home entry's description.
const Description = "Argo CD applications, live: sync, health, last operation; refresh and sync them"

// Source is what the screen needs from the platform; live.Client in the
// binary, a fake in tests. Its methods are called from commands only.
type Source interface {
	Apps(ctx context.Context, env environment.Environment) (<-chan argocd.Event, error)
	Refresh(ctx context.Context, env environment.Environment, namespace, name string, hard bool) error
	Sync(ctx context.Context, env environment.Environment, namespace, name string) error
}

// Jump is another screen the command palette can open.
type Jump struct {
	Name, Help string
	Open       func() nav.Screen
}

// Options are the screen's dependencies.
type Options struct {
	Theme  theme.Theme
	Source Source
	// Detail builds the screen for one application; nil disables enter.
	Detail func(app argocd.App) nav.Screen
	Jumps  []Jump
}

type mode int

const (
	browsing mode = iota
	filtering
	commanding
	confirming
)

// Model is the Applications screen.
type Model struct {
	opts Options
	th   theme.Theme

	env    environment.Environment
	envKey string
	hasEnv bool

	gen    int // bumps when the watch is replaced; older results are dropped
	cancel context.CancelFunc
	ch     <-chan argocd.Event
	err    error // why there is no watch

	apps        map[string]*argocd.App
	stale       bool // apps changed since rows were computed
	reselecting bool // a reselectMsg is on its way
	rows        []*argocd.App
	sources     map[string]watch.Status
	status      watch.Status // all sources summed up (argocd.Overall)
	scope       []string     // namespaces shown when listing all is forbidden
	everLive    bool

	filterText string
	filter     argocd.Filter
	sort       argocd.SortKey
	cursor     int
	cursorKey  string
	offset     int

	mode    mode
	input   textinput.Model
	pal     palette.Model
	pending action
	note    string // the last action's outcome

	now           time.Time
	width, height int
}

// New returns the screen; it starts watching when the environment arrives.
func New(opts Options) *Model {
	return &Model{opts: opts, th: opts.Theme, apps: map[string]*argocd.App{}, sources: map[string]watch.Status{}, now: time.Now()}
}

// startedMsg is the result of startCmd for generation gen.
type startedMsg struct {
	gen int
	ch  <-chan argocd.Event
	err error
}

// tickMsg advances the clock the ages are computed from.
type tickMsg struct {
	gen int
	now time.Time
}

const tickEvery = time.Second

func (m *Model) Init() tea.Cmd { return nil }

func (m *Model) Title() string { return Title }

// Close stops the watch; the shell calls it when the screen is popped.
func (m *Model) Close() {
	m.gen++
	if m.cancel != nil {
		m.cancel()
		m.cancel = nil
	}
}

// CapturesKeys is true while typing a filter or a command, or answering a
// confirmation, so that q and ? are input there.
func (m *Model) CapturesKeys() bool { return m.mode != browsing }

func (m *Model) SetSize(width, height int) { m.width, m.height = width, height; m.scroll() }

func (m *Model) Update(msg tea.Msg) (nav.Screen, tea.Cmd) {
	switch msg := msg.(type) {
	case nav.EnvMsg:
		return m, m.handleEnv(msg.Env)
	case startedMsg:
		return m, m.handleStarted(msg)
	case stream.BatchMsg[argocd.Event]:
		return m, m.handleBatch(msg)
	case tickMsg:
		return m, m.handleTick(msg)
	case reselectMsg:
		m.handleReselect(msg)
	case actionDoneMsg:
		return m, m.handleActionDone(msg)
	case tea.KeyPressMsg:
		return m, m.handleKey(msg)
	}
	return m, nil
}

func envKey(env environment.Environment) string {
	k := env.Kube
	if env.KubeErr != nil {
		return "error:" + env.KubeErr.Error()
	}
	return k.Context + "\x00" + k.Cluster + "\x00" + k.Server + "\x00" + k.User
}

// handleEnv (re)starts the watch when the target changed.
func (m *Model) handleEnv(env environment.Environment) tea.Cmd {
	k := envKey(env)
	m.env, m.hasEnv = env, true
	if k == m.envKey && (m.ch != nil || m.err != nil) {
		return nil
	}
	m.envKey = k
	m.Close()
	m.apps, m.rows, m.stale, m.everLive, m.reselecting = map[string]*argocd.App{}, nil, false, false, false
	m.sources, m.scope = map[string]watch.Status{}, nil
	m.status, m.err, m.ch = watch.Status{State: watch.Loading}, nil, nil
	ctx, cancel := context.WithCancel(context.Background())
	m.cancel = cancel
	gen, src := m.gen, m.opts.Source
	return func() tea.Msg {
		ch, err := src.Apps(ctx, env)
		return startedMsg{gen: gen, ch: ch, err: err}
	}
}

func (m *Model) handleStarted(msg startedMsg) tea.Cmd {
	if msg.gen != m.gen {
		return nil
	}
	if msg.err != nil {
		m.err = msg.err
		return nil
	}
	m.ch = msg.ch
	return tea.Batch(stream.Next(m.ch, m.gen), m.tickCmd())
}

func (m *Model) tickCmd() tea.Cmd {
	gen := m.gen
	return tea.Tick(tickEvery, func(t time.Time) tea.Msg { return tickMsg{gen: gen, now: t} })
}

func (m *Model) handleTick(msg tickMsg) tea.Cmd {
	if msg.gen != m.gen {
		return nil
	}
	m.now = msg.now
	return m.tickCmd()
}

func (m *Model) handleBatch(msg stream.BatchMsg[argocd.Event]) tea.Cmd {
	if msg.Gen != m.gen {
		return nil
	}
	for i := range msg.Events {
		m.apply(&msg.Events[i])
	}
	var cmds []tea.Cmd
	switch {
	case !m.stale:
	case len(m.rows) == 0 || m.status.State == watch.Live:
		m.reselect()
	case !m.reselecting:
		// A list is streaming in: sorting every few milliseconds would
		// cost more than the list itself, so the rows catch up in steps.
		m.reselecting = true
		gen := m.gen
		cmds = append(cmds, tea.Tick(reselectEvery, func(time.Time) tea.Msg { return reselectMsg{gen: gen} }))
	}
	if !msg.Closed {
		cmds = append(cmds, stream.Next(m.ch, m.gen))
	}
	return tea.Batch(cmds...)
}

// reselectEvery is how often the rows catch up while a list loads.
const reselectEvery = 100 * time.Millisecond

// reselectMsg asks for the rows to be recomputed for generation gen.
type reselectMsg struct{ gen int }

func (m *Model) handleReselect(msg reselectMsg) {
	if msg.gen != m.gen {
		return
	}
	m.reselecting = false
	if m.stale {
		m.reselect()
	}
}

func (m *Model) apply(ev *argocd.Event) {
	switch ev.Type {
	case watch.Upserted:
		a := ev.Object
		m.apps[ev.Key] = &a
		m.stale = true
	case watch.Deleted:
		delete(m.apps, ev.Key)
		m.stale = true
	case watch.StatusChanged:
		m.sources[ev.Source] = ev.Status
		m.status, m.scope = argocd.Overall(m.sources)
		if m.status.State == watch.Live {
			m.everLive = true
		}
	}
}

// reselect filters and sorts the rows, keeping the cursor on the same
// application when it is still shown.
func (m *Model) reselect() {
	all := make([]*argocd.App, 0, len(m.apps))
	for _, a := range m.apps {
		all = append(all, a)
	}
	m.rows = argocd.Select(all, m.filter, m.sort)
	m.stale = false
	if m.cursorKey != "" {
		for i, a := range m.rows {
			if a.Key() == m.cursorKey {
				m.cursor = i
				m.scroll()
				return
			}
		}
	}
	m.cursor = min(m.cursor, max(len(m.rows)-1, 0))
	m.remember()
	m.scroll()
}

func (m *Model) remember() {
	m.cursorKey = ""
	if a := m.Selected(); a != nil {
		m.cursorKey = a.Key()
	}
}

// Selected is the application under the cursor, or nil.
func (m *Model) Selected() *argocd.App {
	if m.cursor < 0 || m.cursor >= len(m.rows) {
		return nil
	}
	return m.rows[m.cursor]
}

// Rows are the applications shown, in order.
func (m *Model) Rows() []*argocd.App { return m.rows }

// Status is the watch's status.
func (m *Model) Status() watch.Status { return m.status }

// Gen is the watch generation.
func (m *Model) Gen() int { return m.gen }

func (m *Model) handleKey(msg tea.KeyPressMsg) tea.Cmd {
	switch m.mode {
	case filtering:
		return m.handleFilterKey(msg)
	case commanding:
		return m.handlePaletteKey(msg)
	case confirming:
		return m.handleConfirmKey(msg)
	}
	switch {
	case key.Matches(msg, keys.Up):
		m.move(-1)
	case key.Matches(msg, keys.Down):
		m.move(1)
	case key.Matches(msg, keys.PageUp):
		m.move(-max(1, m.tableHeight()-1))
	case key.Matches(msg, keys.PageDown):
		m.move(max(1, m.tableHeight()-1))
	case key.Matches(msg, keys.Top):
		m.move(-len(m.rows))
	case key.Matches(msg, keys.Bottom):
		m.move(len(m.rows))
	case key.Matches(msg, keys.Open):
		if a := m.Selected(); a != nil && m.opts.Detail != nil {
			return nav.Push(m.opts.Detail(*a))
		}
	case key.Matches(msg, keys.Filter):
		m.openFilter()
	case key.Matches(msg, keys.Sort):
		m.SetSort(m.sort.Next())
	case key.Matches(msg, keys.Palette):
		m.mode = commanding
		m.pal = palette.New(m.th, m.commands(), m.width)
	case key.Matches(msg, keys.Refresh):
		m.ask(refreshAction)
	case key.Matches(msg, keys.HardRefresh):
		m.ask(hardRefreshAction)
	case key.Matches(msg, keys.Sync):
		m.ask(syncAction)
	}
	return nil
}

func (m *Model) move(delta int) {
	m.cursor = min(max(m.cursor+delta, 0), max(len(m.rows)-1, 0))
	m.remember()
	m.scroll()
}

// scroll keeps the cursor inside the visible rows.
func (m *Model) scroll() {
	h := max(1, m.tableHeight())
	if m.cursor < m.offset {
		m.offset = m.cursor
	}
	if m.cursor >= m.offset+h {
		m.offset = m.cursor - h + 1
	}
	m.offset = max(0, min(m.offset, len(m.rows)-h))
}

// SetSort orders the rows by k.
func (m *Model) SetSort(k argocd.SortKey) {
	m.sort = k
	m.reselect()
}

// SetFilter filters the rows by text (see argocd.ParseFilter).
func (m *Model) SetFilter(text string) {
	m.filterText = text
	m.filter = argocd.ParseFilter(text)
	m.reselect()
}

func (m *Model) openFilter() {
	m.mode = filtering
	m.input = prompt.New(m.th, "/", "name, project=…, sync=…, health=…, label=value", m.width)
	m.input.SetValue(m.filterText)
	m.input.CursorEnd()
}

func (m *Model) handleFilterKey(msg tea.KeyPressMsg) tea.Cmd {
	switch {
	case key.Matches(msg, keys.Accept):
		m.mode = browsing
		return nil
	case key.Matches(msg, keys.Dismiss):
		m.mode = browsing
		m.SetFilter("")
		return nil
	}
	var cmd tea.Cmd
	m.input, cmd = m.input.Update(msg)
	if v := m.input.Value(); v != m.filterText {
		m.SetFilter(v)
	}
	return cmd
}

func (m *Model) ShortHelp() []key.Binding {
	switch m.mode {
	case filtering:
		return []key.Binding{keys.Accept, keys.Dismiss}
	case commanding:
		return []key.Binding{keys.Complete, keys.Accept, keys.Dismiss}
	case confirming:
		return []key.Binding{keys.Yes, keys.No}
	}
	return []key.Binding{keys.Open, keys.Filter, keys.Sort, keys.Sync, keys.Refresh, keys.Palette}
}

func (m *Model) FullHelp() [][]key.Binding {
	if m.mode != browsing {
		return [][]key.Binding{m.ShortHelp()}
	}
	return [][]key.Binding{
		{keys.Up, keys.Down, keys.PageUp, keys.PageDown},
		{keys.Top, keys.Bottom, keys.Open},
		{keys.Filter, keys.Sort, keys.Palette},
		{keys.Sync, keys.Refresh, keys.HardRefresh},
	}
}
