// Package appdetail is the screen for one Argo CD application: conditions,
// operation state with per-resource results, the resource tree with sync
// and health, Kyverno's findings for its resources and its recent events,
// all live; refresh and sync from here too.
package appdetail

import (
	"context"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/back-stack/idp/platform/argocd"
	"github.com/back-stack/idp/platform/environment"
	"github.com/back-stack/idp/platform/kyverno"
	"github.com/back-stack/idp/platform/watch"
	"github.com/back-stack/idp/tui/components/pager"
	"github.com/back-stack/idp/tui/components/stream"
	"github.com/back-stack/idp/tui/keys"
	"github.com/back-stack/idp/tui/nav"
	"github.com/back-stack/idp/tui/theme"
)

// Source is what the screen needs from the platform (live.Client).
type Source interface {
	App(ctx context.Context, env environment.Environment, namespace, name string) (<-chan argocd.Event, error)
	AppEvents(ctx context.Context, env environment.Environment, namespace, name string) (<-chan watch.Event[argocd.KubeEvent], error)
	Reports(ctx context.Context, env environment.Environment) (<-chan kyverno.Event, error)
	Refresh(ctx context.Context, env environment.Environment, namespace, name string, hard bool) error
	Sync(ctx context.Context, env environment.Environment, namespace, name string) error
}

const actionTimeout = 30 * time.Second

// Model is the detail screen.
type Model struct {
	th  theme.Theme
	src Source

	namespace, name string
	app             argocd.App
	gone            bool // deleted while on screen
	status          watch.Status

	env    environment.Environment
	hasEnv bool
	gen    int
	cancel context.CancelFunc
	appCh  <-chan argocd.Event
	evCh   <-chan watch.Event[argocd.KubeEvent]
	repCh  <-chan kyverno.Event

	events       map[string]argocd.KubeEvent
	reports      map[string]kyverno.Report
	reportStatus watch.Status

	confirming bool
	pending    actionKind
	note       string

	pager         pager.Model
	now           time.Time
	width, height int
}

// New opens the detail of app; the copy given shows until the watch has it.
func New(th theme.Theme, src Source, app argocd.App) *Model {
	return &Model{
		th: th, src: src, namespace: app.Namespace, name: app.Name, app: app, now: time.Now(),
		events: map[string]argocd.KubeEvent{}, reports: map[string]kyverno.Report{},
	}
}

type startedMsg struct {
	gen   int
	app   <-chan argocd.Event
	evs   <-chan watch.Event[argocd.KubeEvent]
	rep   <-chan kyverno.Event
	errOp string
	err   error
}

type tickMsg struct {
	gen int
	now time.Time
}

func (m *Model) Init() tea.Cmd { return nil }

func (m *Model) Title() string { return m.name }

// App is the application as last seen.
func (m *Model) App() argocd.App { return m.app }

// Close stops the watches.
func (m *Model) Close() {
	m.gen++
	if m.cancel != nil {
		m.cancel()
		m.cancel = nil
	}
}

// CapturesKeys is true while a confirmation is open.
func (m *Model) CapturesKeys() bool { return m.confirming }

func (m *Model) SetSize(width, height int) {
	m.width, m.height = width, height
	m.render()
}

func (m *Model) Update(msg tea.Msg) (nav.Screen, tea.Cmd) {
	switch msg := msg.(type) {
	case nav.EnvMsg:
		return m, m.handleEnv(msg.Env)
	case startedMsg:
		return m, m.handleStarted(msg)
	case stream.BatchMsg[argocd.Event]:
		return m, m.handleApp(msg)
	case stream.BatchMsg[watch.Event[argocd.KubeEvent]]:
		return m, m.handleEvents(msg)
	case stream.BatchMsg[kyverno.Event]:
		return m, m.handleReports(msg)
	case tickMsg:
		return m, m.handleTick(msg)
	case actionDoneMsg:
		return m, m.handleActionDone(msg)
	case tea.KeyPressMsg:
		return m, m.handleKey(msg)
	}
	return m, nil
}

func (m *Model) handleEnv(env environment.Environment) tea.Cmd {
	same := m.hasEnv && m.cancel != nil && sameTarget(m.env, env)
	m.env, m.hasEnv = env, true
	if same {
		return nil
	}
	m.Close()
	ctx, cancel := context.WithCancel(context.Background())
	m.cancel = cancel
	gen, src, ns, name := m.gen, m.src, m.namespace, m.name
	return func() tea.Msg {
		app, err := src.App(ctx, env, ns, name)
		if err != nil {
			return startedMsg{gen: gen, errOp: "watch application", err: err}
		}
		evs, err := src.AppEvents(ctx, env, ns, name)
		if err != nil {
			return startedMsg{gen: gen, errOp: "watch events", err: err}
		}
		rep, err := src.Reports(ctx, env)
		if err != nil {
			return startedMsg{gen: gen, errOp: "watch policy reports", err: err}
		}
		return startedMsg{gen: gen, app: app, evs: evs, rep: rep}
	}
}

func (m *Model) handleStarted(msg startedMsg) tea.Cmd {
	if msg.gen != m.gen {
		return nil
	}
	if msg.err != nil {
		return func() tea.Msg { return nav.ErrMsg{Op: msg.errOp, Err: msg.err} }
	}
	m.appCh, m.evCh, m.repCh = msg.app, msg.evs, msg.rep
	gen := m.gen
	return tea.Batch(stream.Next(m.appCh, gen), stream.Next(m.evCh, gen), stream.Next(m.repCh, gen), m.tickCmd())
}

func (m *Model) tickCmd() tea.Cmd {
	gen := m.gen
	return tea.Tick(time.Second, func(t time.Time) tea.Msg { return tickMsg{gen: gen, now: t} })
}

func (m *Model) handleTick(msg tickMsg) tea.Cmd {
	if msg.gen != m.gen {
		return nil
	}
	m.now = msg.now
	m.render()
	return m.tickCmd()
}

func (m *Model) handleApp(msg stream.BatchMsg[argocd.Event]) tea.Cmd {
	if msg.Gen != m.gen {
		return nil
	}
	for _, ev := range msg.Events {
		switch ev.Type {
		case watch.Upserted:
			m.app, m.gone = ev.Object, false
		case watch.Deleted:
			m.gone = true
		case watch.StatusChanged:
			m.status = ev.Status
		}
	}
	m.render()
	if msg.Closed {
		return nil
	}
	return stream.Next(m.appCh, m.gen)
}

func (m *Model) handleEvents(msg stream.BatchMsg[watch.Event[argocd.KubeEvent]]) tea.Cmd {
	if msg.Gen != m.gen {
		return nil
	}
	for _, ev := range msg.Events {
		switch ev.Type {
		case watch.Upserted:
			m.events[ev.Key] = ev.Object
		case watch.Deleted:
			delete(m.events, ev.Key)
		}
	}
	m.render()
	if msg.Closed {
		return nil
	}
	return stream.Next(m.evCh, m.gen)
}

func (m *Model) handleReports(msg stream.BatchMsg[kyverno.Event]) tea.Cmd {
	if msg.Gen != m.gen {
		return nil
	}
	for _, ev := range msg.Events {
		switch ev.Type {
		case watch.Upserted:
			m.reports[ev.Source+"|"+ev.Key] = ev.Object
		case watch.Deleted:
			delete(m.reports, ev.Source+"|"+ev.Key)
		case watch.StatusChanged:
			// Applications' resources are namespaced: the namespaced
			// reports' status is the one that matters here.
			if strings.HasPrefix(ev.Source, kyverno.PolicyReports.GroupResource().String()) {
				m.reportStatus = ev.Status
			}
		}
	}
	m.render()
	if msg.Closed {
		return nil
	}
	return stream.Next(m.repCh, m.gen)
}

func (m *Model) handleKey(msg tea.KeyPressMsg) tea.Cmd {
	if m.confirming {
		switch {
		case key.Matches(msg, keys.Yes):
			m.confirming = false
			m.render()
			return m.runCmd(m.pending)
		case key.Matches(msg, keys.No):
			m.confirming = false
			m.render()
		}
		return nil
	}
	switch {
	case key.Matches(msg, keys.Refresh):
		m.ask(refreshAction)
	case key.Matches(msg, keys.HardRefresh):
		m.ask(hardRefreshAction)
	case key.Matches(msg, keys.Sync):
		m.ask(syncAction)
	default:
		m.pager.HandleKey(msg)
	}
	return nil
}

func (m *Model) ask(k actionKind) {
	m.pending, m.confirming = k, true
	m.render()
}

func (m *Model) View() string { return m.pager.View() }

func (m *Model) ShortHelp() []key.Binding {
	if m.confirming {
		return []key.Binding{keys.Yes, keys.No}
	}
	return []key.Binding{keys.Up, keys.Down, keys.Sync, keys.Refresh, keys.HardRefresh}
}

func (m *Model) FullHelp() [][]key.Binding {
	return [][]key.Binding{{keys.Up, keys.Down}, {keys.PageUp, keys.PageDown}, {keys.Top, keys.Bottom}, {keys.Sync, keys.Refresh, keys.HardRefresh}}
}

// sameTarget reports whether two environments reach the same cluster as
// the same user, so that re-resolving one does not restart the watches.
func sameTarget(a, b environment.Environment) bool {
	return a.KubeErr == nil && b.KubeErr == nil && a.Kube.Context == b.Kube.Context &&
		a.Kube.Server == b.Kube.Server && a.Kube.User == b.Kube.User && a.Kube.Cluster == b.Kube.Cluster
}
