package appdetail

import (
	"context"

	tea "charm.land/bubbletea/v2"

	"github.com/back-stack/idp/tui/nav"
)

type actionKind int

const (
	refreshAction actionKind = iota
	hardRefreshAction
	syncAction
)

var actionVerbs = [...]string{"refresh", "hard refresh", "sync"}

type actionDoneMsg struct {
	gen  int
	kind actionKind
	err  error
}

func (m *Model) target() string { return m.namespace + "/" + m.name }

// runCmd carries out a confirmed action.
func (m *Model) runCmd(k actionKind) tea.Cmd {
	gen, src, env, ns, name := m.gen, m.src, m.env, m.namespace, m.name
	m.note = actionVerbs[k] + " requested…"
	m.render()
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), actionTimeout)
		defer cancel()
		var err error
		if k == syncAction {
			err = src.Sync(ctx, env, ns, name)
		} else {
			err = src.Refresh(ctx, env, ns, name, k == hardRefreshAction)
		}
		return actionDoneMsg{gen: gen, kind: k, err: err}
	}
}

func (m *Model) handleActionDone(msg actionDoneMsg) tea.Cmd {
	if msg.gen != m.gen {
		return nil
	}
	if msg.err != nil {
		m.note = ""
		m.render()
		op := actionVerbs[msg.kind] + " " + m.target()
		return func() tea.Msg { return nav.ErrMsg{Op: op, Err: msg.err} }
	}
	m.note = actionVerbs[msg.kind] + " requested"
	m.render()
	return nil
}
