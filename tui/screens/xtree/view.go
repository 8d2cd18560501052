package xtree

import (
	"fmt"
	"slices"
	"strings"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/back-stack/idp/platform/crossplane"
	"github.com/back-stack/idp/platform/watch"
	"github.com/back-stack/idp/tui/theme"
)

// summary is the line above the trees.
func (m *Model) summary() string {
	failing := 0
	for _, t := range m.trees {
		if t.Failure != nil {
			failing++
		}
	}
	text := fmt.Sprintf("%d trees · %d not ready", len(m.trees), failing)
	return ansi.Truncate(m.th.Header.Render(text)+"  "+m.stateText(), m.width, "…")
}

func (m *Model) stateText() string {
	st := m.sourceStatus()
	switch st.State {
	case watch.Live:
		return m.th.Healthy.Render("● live")
	case watch.Loading:
		return m.th.Progressing.Render("◌ loading")
	}
	s := "⟳ reconnecting"
	if !st.LastLive.IsZero() {
		s += " — shown as of " + st.LastLive.Local().Format("15:04:05") + ", may be stale"
	}
	return m.th.Degraded.Render(s)
}

// render lays out every tree into the pager. It runs when the trees are
// rebuilt or the width changes, never in View.
func (m *Model) render() {
	if m.width <= 0 {
		return
	}
	var out []string
	switch {
	case !m.hasEnv:
		out = []string{m.th.Muted.Render("Resolving the Kubernetes target…")}
	case m.err != nil:
		out = []string{m.th.Error.Render("Cannot watch Crossplane: " + m.err.Error())}
	}
	out = append(out, m.problems()...)
	if len(out) > 0 && len(m.trees) > 0 {
		out = append(out, "")
	}
	for i, t := range m.trees {
		if i > 0 {
			out = append(out, "")
		}
		out = append(out, m.renderer().tree(t)...)
	}
	if len(out) == 0 {
		if m.sourceStatus().State == watch.Loading {
			out = []string{m.th.Muted.Render("Loading…")}
		} else {
			out = []string{m.th.Muted.Render("No claims or composite resources.")}
		}
	}
	m.pager.SetContent(out)
}

// problems lists the kinds that cannot be read: forbidden ones are not
// shown as empty.
func (m *Model) problems() []string {
	var out []string
	srcs := m.state.Sources()
	names := make([]string, 0, len(srcs))
	for n := range srcs {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		st := srcs[n]
		switch st.State {
		case watch.Forbidden, watch.NotInstalled, watch.Failed:
			if n == crossplane.XRDSource && st.State == watch.NotInstalled {
				out = append(out, m.th.Muted.Render("Crossplane is not installed in this cluster (no CompositeResourceDefinition CRD)."))
				continue
			}
			out = append(out, m.th.Degraded.Render(st.State.String()+": "+n))
			out = append(out, m.renderer().wrap("  ", m.th.Muted, errText(st.Err))...)
		}
	}
	return out
}

func (m *Model) renderer() renderer { return renderer{th: m.th, width: m.width} }

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// renderer draws trees at a width; the Crossplane screen and the
// bootstrap's pipeline screen (through TreeLines) share it.
type renderer struct {
	th    theme.Theme
	width int
}

// TreeLines renders one tree as the Crossplane screen does: the deepest
// failure first, then every node with its Synced and Ready conditions.
func TreeLines(th theme.Theme, width int, t crossplane.Tree) []string {
	return renderer{th: th, width: width}.tree(t)
}

// tree renders one tree: the deepest failure first, then every node.
func (r renderer) tree(t crossplane.Tree) []string {
	var out []string
	if t.Failure != nil {
		why := t.Failure.Reason()
		head := "✗ not ready: " + t.Failure.Ref.String()
		if why.Type != "" {
			head += " — " + why.Type + "=" + why.Status
			if why.Reason != "" {
				head += " (" + why.Reason + ")"
			}
		}
		out = append(out, r.th.Degraded.Render(ansi.Truncate(head, r.width, "…")))
		if why.Message != "" {
			out = append(out, r.wrap("  ", r.th.Value, why.Message)...)
		}
	}
	t.Walk(func(n *crossplane.Node, last []bool) {
		prefix := branches(last)
		out = append(out, r.node(n, prefix, n == t.Failure)...)
	})
	return out
}

// branches draws the tree lines for a node at len(last) depth.
func branches(last []bool) string {
	if len(last) == 0 {
		return ""
	}
	var b strings.Builder
	for _, l := range last[:len(last)-1] {
		if l {
			b.WriteString("   ")
		} else {
			b.WriteString("│  ")
		}
	}
	if last[len(last)-1] {
		b.WriteString("└─ ")
	} else {
		b.WriteString("├─ ")
	}
	return b.String()
}

// continuation is the prefix for a node's message lines.
func continuation(prefix string) string {
	p := strings.ReplaceAll(prefix, "├─ ", "│  ")
	return strings.ReplaceAll(p, "└─ ", "   ") + "   "
}

func (r renderer) node(n *crossplane.Node, prefix string, deepest bool) []string {
	name := n.Ref.String()
	if n.Role != crossplane.RoleResource {
		name += " (" + string(n.Role) + ")"
	}
	line := r.th.Muted.Render(prefix)
	switch {
	case deepest:
		line += r.th.Error.Render("▶ " + name)
	case n.Failing:
		line += r.th.Degraded.Render(name)
	default:
		line += r.th.Value.Render(name)
	}
	if n.Missing {
		what := "not found"
		if n.Problem != "" {
			what = "cannot read: " + n.Problem
		}
		line += "  " + r.th.Degraded.Render(what)
		return []string{line}
	}
	line += "  " + r.cond("Synced", n.Synced) + "  " + r.cond("Ready", n.Ready)
	if n.Deleting {
		line += "  " + r.th.Stopped.Render("deleting")
	}
	out := []string{line}
	for _, c := range []crossplane.Condition{n.Synced, n.Ready} {
		if c.Message == "" || (c.Status == "True" && !deepest) {
			continue
		}
		style := r.th.Muted
		if c.Status == "False" {
			style = r.th.Value
		}
		out = append(out, r.wrap(continuation(prefix), style, c.Type+": "+c.Message)...)
	}
	return out
}

func (r renderer) cond(name string, c crossplane.Condition) string {
	switch c.Status {
	case "True":
		return r.th.Healthy.Render(name)
	case "False":
		s := name + "=False"
		if c.Reason != "" {
			s += " (" + c.Reason + ")"
		}
		return r.th.Degraded.Render(s)
	}
	return r.th.Unknown.Render(name + "=?")
}

// wrap breaks text to the width after indent; the whole text is shown.
func (r renderer) wrap(indent string, style lipgloss.Style, text string) []string {
	w := max(10, r.width-ansi.StringWidth(indent))
	var out []string
	for _, l := range strings.Split(ansi.Wrap(text, w, " /-,:"), "\n") {
		out = append(out, r.th.Muted.Render(indent)+style.Render(l))
	}
	return out
}
