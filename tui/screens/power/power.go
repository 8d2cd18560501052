// Package power is the "Cluster power" screen: the AKS cluster's power
// state and node pools, and stop/start with a confirmation, live progress
// and the audit commit.
package power

import (
	"context"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"

	"github.com/back-stack/idp/platform/aks"
	"github.com/back-stack/idp/tui/components/pager"
	"github.com/back-stack/idp/tui/keys"
	"github.com/back-stack/idp/tui/theme"
)

// Title is the screen's name, also used for its home entry.
const Title = "Cluster power"

// Description is the home entry's description.
const Description = "Stop or start the platform's AKS cluster to save cost; every action is recorded in Git"

// Power is what the screen needs of AKS: *aks.Session in the binary, a fake
// in tests.
type Power interface {
	Status(ctx context.Context) (aks.Cluster, error)
	Begin(action aks.Action) (*aks.Op, error)
	Current() *aks.Op
}

// Screen keys.
var (
	powerKey = key.NewBinding(key.WithKeys("p"), key.WithHelp("p", "stop/start"))
	yesKey   = key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "confirm"))
	noKey    = key.NewBinding(key.WithKeys("n", "esc"), key.WithHelp("n/esc", "cancel"))
)

// statusTimeout bounds one read of the cluster.
const statusTimeout = 30 * time.Second

// Model is the screen.
type Model struct {
	th     theme.Theme
	power  Power
	ctx    context.Context
	cancel context.CancelFunc
	gen    int // bumps on every status load and op watch; stale results are dropped

	cluster *aks.Cluster
	loadErr error
	loading bool

	op      *aks.Op
	opState aks.OpState
	now     time.Time

	confirming aks.Action // non-empty while the confirmation is shown

	spin  spinner.Model
	pager pager.Model
	width int
}

// New returns the screen. ctx bounds its reads; closing the screen cancels
// them but not an action under way (that belongs to the session).
func New(ctx context.Context, th theme.Theme, p Power) *Model {
	ctx, cancel := context.WithCancel(ctx)
	return &Model{th: th, power: p, ctx: ctx, cancel: cancel, spin: spinner.New(spinner.WithSpinner(spinner.Dot))}
}

func (m *Model) Init() tea.Cmd {
	cmds := []tea.Cmd{m.loadCmd()}
	if op := m.power.Current(); op != nil {
		cmds = append(cmds, m.watch(op))
	}
	return tea.Batch(cmds...)
}

// Close cancels the screen's reads when it is left.
func (m *Model) Close() { m.cancel() }

func (m *Model) Title() string { return Title }

// CapturesKeys is true while the confirmation is shown, so esc answers it
// instead of leaving the screen.
func (m *Model) CapturesKeys() bool { return m.confirming != "" }

func (m *Model) SetSize(width, height int) {
	m.width = width
	m.pager.SetSize(width, height)
	m.render()
}

func (m *Model) View() string { return m.pager.View() }

func (m *Model) ShortHelp() []key.Binding {
	if m.confirming != "" {
		return []key.Binding{yesKey, noKey}
	}
	if a, ok := m.nextAction(); ok {
		b := powerKey
		b.SetHelp("p", string(a))
		return []key.Binding{b, keys.Refresh}
	}
	return []key.Binding{keys.Refresh}
}

func (m *Model) FullHelp() [][]key.Binding {
	return [][]key.Binding{m.ShortHelp(), {keys.Up, keys.Down}}
}

// nextAction is what p does now: stop a running cluster, start a stopped
// one; nothing while an action runs or the state is unknown.
func (m *Model) nextAction() (aks.Action, bool) {
	if m.cluster == nil || m.running() {
		return "", false
	}
	switch m.cluster.PowerState {
	case aks.Running:
		return aks.Stop, true
	case aks.Stopped:
		return aks.Start, true
	}
	return "", false
}

func (m *Model) running() bool { return m.op != nil && !m.opState.Done }
