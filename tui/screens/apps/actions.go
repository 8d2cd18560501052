package apps

import (
	"context"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/back-stack/idp/platform/argocd"
	"github.com/back-stack/idp/tui/components/palette"
	"github.com/back-stack/idp/tui/keys"
	"github.com/back-stack/idp/tui/nav"
)

// actionTimeout bounds one refresh or sync request.
const actionTimeout = 30 * time.Second

type actionKind int

const (
	refreshAction actionKind = iota
	hardRefreshAction
	syncAction
)

var actionVerbs = [...]string{"refresh", "hard refresh", "sync"}

// action is a confirmed-or-pending request on one application.
type action struct {
	kind            actionKind
	namespace, name string
}

func (a action) String() string { return actionVerbs[a.kind] + " " + a.namespace + "/" + a.name }

// actionDoneMsg is the outcome of an action started in generation gen.
type actionDoneMsg struct {
	gen    int
	action action
	err    error
}

// ask opens the confirmation for kind on the selected application.
func (m *Model) ask(kind actionKind) {
	a := m.Selected()
	if a == nil {
		return
	}
	m.pending = action{kind: kind, namespace: a.Namespace, name: a.Name}
	m.mode = confirming
}

// Pending is the action awaiting confirmation, if any.
func (m *Model) Pending() (string, bool) { return m.pending.String(), m.mode == confirming }

func (m *Model) handleConfirmKey(msg tea.KeyPressMsg) tea.Cmd {
	switch {
	case key.Matches(msg, keys.Yes):
		m.mode = browsing
		return m.runCmd(m.pending)
	case key.Matches(msg, keys.No):
		m.mode = browsing
	}
	return nil
}

// runCmd carries out a confirmed action through the Source.
func (m *Model) runCmd(a action) tea.Cmd {
	gen, src, env := m.gen, m.opts.Source, m.env
	m.note = actionVerbs[a.kind] + " requested for " + a.namespace + "/" + a.name + "…"
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), actionTimeout)
		defer cancel()
		var err error
		switch a.kind {
		case refreshAction, hardRefreshAction:
			err = src.Refresh(ctx, env, a.namespace, a.name, a.kind == hardRefreshAction)
		case syncAction:
			err = src.Sync(ctx, env, a.namespace, a.name)
		}
		return actionDoneMsg{gen: gen, action: a, err: err}
	}
}

func (m *Model) handleActionDone(msg actionDoneMsg) tea.Cmd {
	if msg.gen != m.gen {
		return nil
	}
	if msg.err != nil {
		m.note = ""
		return func() tea.Msg { return nav.ErrMsg{Op: msg.action.String(), Err: msg.err} }
	}
	m.note = actionVerbs[msg.action.kind] + " requested for " + msg.action.namespace + "/" + msg.action.name
	return nil
}

// commands are the palette's entries: actions on the selected application,
// sorting, filtering and the other screens.
func (m *Model) commands() []palette.Command {
	cmds := []palette.Command{
		{Name: "sync", Help: "sync the selected application"},
		{Name: "refresh", Help: "refresh the selected application"},
		{Name: "hard-refresh", Help: "refresh, regenerating manifests"},
		{Name: "filter", Help: "filter the table"},
		{Name: "clear-filter", Help: "show every application"},
	}
	for _, n := range argocd.SortKeyNames() {
		cmds = append(cmds, palette.Command{Name: "sort " + strings.ReplaceAll(n, " ", "-"), Help: "sort by " + n})
	}
	for _, j := range m.opts.Jumps {
		cmds = append(cmds, palette.Command{Name: j.Name, Help: j.Help})
	}
	return cmds
}

func (m *Model) handlePaletteKey(msg tea.KeyPressMsg) tea.Cmd {
	res, c, cmd := m.pal.HandleKey(msg)
	switch res {
	case palette.Cancelled:
		m.mode = browsing
	case palette.Chosen:
		m.mode = browsing
		return m.run(c.Name)
	}
	return cmd
}

// run executes a palette command by name.
func (m *Model) run(name string) tea.Cmd {
	switch name {
	case "sync":
		m.ask(syncAction)
	case "refresh":
		m.ask(refreshAction)
	case "hard-refresh":
		m.ask(hardRefreshAction)
	case "filter":
		m.openFilter()
	case "clear-filter":
		m.SetFilter("")
	}
	if k, ok := strings.CutPrefix(name, "sort "); ok {
		if sk, ok := argocd.ParseSortKey(k); ok {
			m.SetSort(sk)
		}
	}
	for _, j := range m.opts.Jumps {
		if j.Name == name && j.Open != nil {
			return nav.Push(j.Open())
		}
	}
	return nil
}
