package power

import (
	"context"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"

	"github.com/back-stack/idp/platform/aks"
	"github.com/back-stack/idp/tui/keys"
	"github.com/back-stack/idp/tui/nav"
)

// statusLoadedMsg is a read of the cluster for generation gen.
type statusLoadedMsg struct {
	gen     int
	cluster aks.Cluster
	err     error
}

// opChangedMsg is a new state of the watched op.
type opChangedMsg struct {
	gen   int
	op    *aks.Op
	state aks.OpState
}

// tickMsg advances the elapsed time while an action runs.
type tickMsg struct {
	gen int
	now time.Time
}

func (m *Model) Update(msg tea.Msg) (nav.Screen, tea.Cmd) {
	var cmd tea.Cmd
	switch msg := msg.(type) {
	case tea.KeyPressMsg:
		cmd = m.handleKey(msg)
	case statusLoadedMsg:
		m.handleStatus(msg)
	case opChangedMsg:
		cmd = m.handleOp(msg)
	case tickMsg:
		cmd = m.handleTick(msg)
	case spinner.TickMsg:
		if m.running() {
			m.spin, cmd = m.spin.Update(msg)
		}
	}
	m.render()
	return m, cmd
}

func (m *Model) handleKey(msg tea.KeyPressMsg) tea.Cmd {
	if m.confirming != "" {
		return m.handleConfirm(msg)
	}
	switch {
	case key.Matches(msg, powerKey):
		if a, ok := m.nextAction(); ok {
			m.confirming = a
		}
	case key.Matches(msg, keys.Refresh):
		return m.loadCmd()
	default:
		m.pager.HandleKey(msg)
	}
	return nil
}

func (m *Model) handleConfirm(msg tea.KeyPressMsg) tea.Cmd {
	switch {
	case key.Matches(msg, yesKey):
		action := m.confirming
		m.confirming = ""
		op, err := m.power.Begin(action)
		if err != nil {
			return func() tea.Msg { return nav.ErrMsg{Op: string(action), Err: err} }
		}
		return tea.Batch(m.watch(op), m.spin.Tick)
	case key.Matches(msg, noKey):
		m.confirming = ""
	}
	return nil
}

func (m *Model) handleStatus(msg statusLoadedMsg) {
	if msg.gen != m.gen {
		return
	}
	m.loading = false
	if msg.err != nil {
		m.loadErr = msg.err
		return
	}
	m.loadErr, m.cluster = nil, &msg.cluster
}

func (m *Model) handleOp(msg opChangedMsg) tea.Cmd {
	if msg.gen != m.gen || msg.op != m.op {
		return nil
	}
	m.opState = msg.state
	if msg.state.Progress.PowerState != "" && m.cluster != nil {
		m.cluster.PowerState, m.cluster.ProvisioningState = msg.state.Progress.PowerState, msg.state.Progress.ProvisioningState
	}
	if msg.state.Done {
		return m.loadCmd() // the final state, read fresh
	}
	return waitOp(m.ctx, m.gen, msg.op, msg.state.Seq)
}

func (m *Model) handleTick(msg tickMsg) tea.Cmd {
	if msg.gen != m.gen || !m.running() {
		return nil
	}
	m.now = msg.now
	return tick(m.gen)
}

// loadCmd reads the cluster. It bumps the generation, so the watch of an op
// is re-armed with it.
func (m *Model) loadCmd() tea.Cmd {
	m.gen++
	m.loading = true
	gen, p, ctx := m.gen, m.power, m.ctx
	cmds := []tea.Cmd{func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, statusTimeout)
		defer cancel()
		cl, err := p.Status(ctx)
		return statusLoadedMsg{gen: gen, cluster: cl, err: err}
	}}
	if m.running() {
		cmds = append(cmds, waitOp(ctx, gen, m.op, m.opState.Seq), tick(gen))
	}
	return tea.Batch(cmds...)
}

// watch starts following op.
func (m *Model) watch(op *aks.Op) tea.Cmd {
	m.op, m.opState = op, op.State()
	m.now = time.Now()
	if m.opState.Done {
		return nil
	}
	return tea.Batch(waitOp(m.ctx, m.gen, op, m.opState.Seq), tick(m.gen), m.spin.Tick)
}

// waitOp blocks until op has a state newer than seq, or the screen closes.
func waitOp(ctx context.Context, gen int, op *aks.Op, seq int) tea.Cmd {
	return func() tea.Msg {
		st, ok := op.Next(ctx, seq)
		if !ok {
			return nil
		}
		return opChangedMsg{gen: gen, op: op, state: st}
	}
}

func tick(gen int) tea.Cmd {
	return tea.Tick(time.Second, func(t time.Time) tea.Msg { return tickMsg{gen: gen, now: t} })
}
