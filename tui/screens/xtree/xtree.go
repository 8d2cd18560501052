// Package xtree is the Crossplane screen: every claim and composite
// resource as a tree down to its managed resources, live, with Synced and
// Ready and the full condition messages; the deepest failure of each tree
// is named first and highlighted.
package xtree

import (
	"context"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/back-stack/idp/platform/crossplane"
	"github.com/back-stack/idp/platform/environment"
	"github.com/back-stack/idp/platform/watch"
	"github.com/back-stack/idp/tui/components/pager"
	"github.com/back-stack/idp/tui/components/stream"
	"github.com/back-stack/idp/tui/keys"
	"github.com/back-stack/idp/tui/nav"
	"github.com/back-stack/idp/tui/theme"
)

// Title is the screen's name, also used for its home entry.
const Title = "Crossplane"

// Description is the home entry's description.
const Description = "Claims and composite resources as trees down to managed resources, live; why something is not ready"

// rebuildEvery bounds how often the trees are rebuilt while events pour in
// (building walks every object).
const rebuildEvery = 100 * time.Millisecond

// Source is what the screen needs from the platform (live.Client).
type Source interface {
	Crossplane(ctx context.Context, env environment.Environment) (<-chan crossplane.Event, error)
}

// Model is the Crossplane screen.
type Model struct {
	th  theme.Theme
	src Source

	envKey string
	hasEnv bool
	gen    int
	cancel context.CancelFunc
	ch     <-chan crossplane.Event
	err    error

	state     *crossplane.State
	trees     []crossplane.Tree
	dirty     bool // state changed since trees were built
	scheduled bool // a rebuild tick is pending

	pager         pager.Model
	width, height int
}

// New returns the screen; it starts watching when the environment arrives.
func New(th theme.Theme, src Source) *Model {
	return &Model{th: th, src: src, state: crossplane.NewState()}
}

type startedMsg struct {
	gen int
	ch  <-chan crossplane.Event
	err error
}

type rebuildMsg struct{ gen int }

func (m *Model) Init() tea.Cmd { return nil }

func (m *Model) Title() string { return Title }

// Trees are the trees on display.
func (m *Model) Trees() []crossplane.Tree { return m.trees }

// Close stops the watch.
func (m *Model) Close() {
	m.gen++
	if m.cancel != nil {
		m.cancel()
		m.cancel = nil
	}
}

func (m *Model) SetSize(width, height int) {
	resized := width != m.width
	m.width, m.height = width, height
	m.pager.SetSize(width, max(0, height-1))
	if resized {
		m.render()
	}
}

func (m *Model) Update(msg tea.Msg) (nav.Screen, tea.Cmd) {
	switch msg := msg.(type) {
	case nav.EnvMsg:
		return m, m.handleEnv(msg.Env)
	case startedMsg:
		return m, m.handleStarted(msg)
	case stream.BatchMsg[crossplane.Event]:
		return m, m.handleBatch(msg)
	case rebuildMsg:
		return m, m.handleRebuild(msg)
	case tea.KeyPressMsg:
		m.pager.HandleKey(msg)
	}
	return m, nil
}

func envKey(env environment.Environment) string {
	if env.KubeErr != nil {
		return "error:" + env.KubeErr.Error()
	}
	k := env.Kube
	return k.Context + "\x00" + k.Cluster + "\x00" + k.Server + "\x00" + k.User
}

func (m *Model) handleEnv(env environment.Environment) tea.Cmd {
	k := envKey(env)
	m.hasEnv = true
	if k == m.envKey && (m.ch != nil || m.err != nil) {
		return nil
	}
	m.envKey = k
	m.Close()
	m.state, m.trees, m.err, m.ch, m.scheduled = crossplane.NewState(), nil, nil, nil, false
	ctx, cancel := context.WithCancel(context.Background())
	m.cancel = cancel
	gen, src := m.gen, m.src
	m.render()
	return func() tea.Msg {
		ch, err := src.Crossplane(ctx, env)
		return startedMsg{gen: gen, ch: ch, err: err}
	}
}

func (m *Model) handleStarted(msg startedMsg) tea.Cmd {
	if msg.gen != m.gen {
		return nil
	}
	m.err, m.ch = msg.err, msg.ch
	m.render()
	return stream.Next(m.ch, m.gen)
}

func (m *Model) handleBatch(msg stream.BatchMsg[crossplane.Event]) tea.Cmd {
	if msg.Gen != m.gen {
		return nil
	}
	for _, ev := range msg.Events {
		m.state.Apply(ev)
	}
	m.dirty = true
	var cmds []tea.Cmd
	if !m.scheduled {
		m.scheduled = true
		gen := m.gen
		cmds = append(cmds, tea.Tick(rebuildEvery, func(time.Time) tea.Msg { return rebuildMsg{gen: gen} }))
	}
	if !msg.Closed {
		cmds = append(cmds, stream.Next(m.ch, m.gen))
	}
	return tea.Batch(cmds...)
}

func (m *Model) handleRebuild(msg rebuildMsg) tea.Cmd {
	if msg.gen != m.gen {
		return nil
	}
	m.scheduled = false
	if m.dirty {
		m.trees = m.state.Trees()
		m.dirty = false
		m.render()
	}
	return nil
}

func (m *Model) View() string {
	if m.width <= 0 || m.height <= 0 {
		return ""
	}
	return m.summary() + "\n" + m.pager.View()
}

// sourceStatus is the status shown for the watch as a whole: the worst
// connection state among the sources, ignoring kinds that are merely
// forbidden or absent (those are listed on their own).
func (m *Model) sourceStatus() watch.Status {
	best := watch.Status{State: watch.Live}
	loading := false
	for _, st := range m.state.Sources() {
		switch st.State {
		case watch.Reconnecting:
			return st
		case watch.Loading:
			loading = true
		}
	}
	if loading || len(m.state.Sources()) == 0 {
		best.State = watch.Loading
	}
	return best
}

func (m *Model) ShortHelp() []key.Binding {
	if m.pager.Scrollable() {
		return []key.Binding{keys.Up, keys.Down, keys.PageDown}
	}
	return nil
}

func (m *Model) FullHelp() [][]key.Binding {
	return [][]key.Binding{{keys.Up, keys.Down}, {keys.PageUp, keys.PageDown}, {keys.Top, keys.Bottom}}
}
