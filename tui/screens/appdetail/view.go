package appdetail

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/back-stack/idp/platform/argocd"
	"github.com/back-stack/idp/platform/kyverno"
	"github.com/back-stack/idp/platform/watch"
	"github.com/back-stack/idp/tui/screens/apps"
)

const labelWidth = 13

// maxEvents is how many of the most recent events are listed.
const maxEvents = 15

// render lays the application out into the pager; it runs on every change
// (a detail is small), never in View.
func (m *Model) render() {
	if m.width <= 0 {
		return
	}
	var b lines
	b.w = m.width
	m.header(&b)
	m.conditions(&b)
	m.operation(&b)
	m.resources(&b)
	m.policy(&b)
	m.eventList(&b)
	if m.confirming {
		b.blank()
		b.add(m.th.Label.Render(capitalise(actionVerbs[m.pending])+" "+m.target()+"?") + " " + m.th.Muted.Render("y/n"))
	} else if m.note != "" {
		b.blank()
		b.add(m.th.Muted.Render(m.note))
	}
	m.pager.SetSize(m.width, m.height)
	m.pager.SetContent(b.out)
}

// lines collects rendered lines for a given width.
type lines struct {
	out []string
	w   int
}

func (b *lines) add(l ...string) { b.out = append(b.out, l...) }
func (b *lines) blank()          { b.out = append(b.out, "") }

// wrapped adds text wrapped to the width after indent, in style; the full
// text is always shown, never cut.
func (b *lines) wrapped(indent string, style lipgloss.Style, text string) {
	w := max(10, b.w-ansi.StringWidth(indent))
	for _, l := range strings.Split(ansi.Wrap(text, w, " /-,"), "\n") {
		b.add(indent + style.Render(l))
	}
}

func (m *Model) kv(b *lines, label string, value string) {
	pad := strings.Repeat(" ", max(1, labelWidth-len(label)))
	b.add(m.th.Label.Render(label) + pad + value)
}

func (m *Model) section(b *lines, title string) {
	b.blank()
	b.add(m.th.Title.Render(title))
}

func (m *Model) header(b *lines) {
	a := m.app
	b.add(m.th.Title.Render(a.Name) + m.th.Muted.Render("  namespace "+a.Namespace+" · project "+a.Project))
	if m.gone {
		b.add(m.th.Error.Render("This application has been deleted."))
	}
	rev := a.ShortRevision()
	if rev == "" {
		rev = "—"
	}
	m.kv(b, "Sync", m.th.Status(a.Sync).Render(a.Sync)+m.th.Muted.Render("  revision "+rev+" (target "+orDash(a.TargetRevision)+")"))
	health := m.th.Status(a.Health).Render(a.Health)
	m.kv(b, "Health", health)
	if a.HealthMessage != "" {
		b.wrapped(strings.Repeat(" ", labelWidth), m.th.Muted, a.HealthMessage)
	}
	m.kv(b, "Source", m.th.Value.Render(orDash(a.RepoURL)+"  "+orDash(a.Path)))
	m.kv(b, "Destination", m.th.Value.Render(orDash(a.DestServer)+"  namespace "+orDash(a.DestNamespace)))
	auto := "manual"
	if a.AutoSync {
		auto = "automated"
	}
	m.kv(b, "Sync policy", m.th.Value.Render(auto))
	m.kv(b, "Watch", m.stateText())
}

func (m *Model) stateText() string {
	st := m.status
	switch st.State {
	case watch.Live:
		return m.th.Healthy.Render("● live")
	case watch.Loading:
		return m.th.Progressing.Render("◌ loading")
	case watch.Reconnecting:
		s := "⟳ reconnecting"
		if !st.LastLive.IsZero() {
			s += " — shown as of " + st.LastLive.Local().Format("15:04:05") + ", may be stale"
		}
		return m.th.Degraded.Render(s)
	}
	return m.th.Degraded.Render("✗ " + st.String())
}

func (m *Model) conditions(b *lines) {
	if len(m.app.Conditions) == 0 {
		return
	}
	m.section(b, "Conditions")
	for _, c := range m.app.Conditions {
		mark, style := "!", m.th.OutOfSync
		if c.IsError() {
			mark, style = "✗", m.th.Degraded
		}
		when := ""
		if !c.LastTransitionTime.IsZero() {
			when = m.th.Muted.Render("  " + apps.Age(m.now.Sub(c.LastTransitionTime)) + " ago")
		}
		b.add("  " + style.Render(mark+" "+c.Type) + when)
		b.wrapped("    ", m.th.Value, c.Message)
	}
}

func (m *Model) operation(b *lines) {
	a := m.app
	if a.Operation == nil && !a.PendingOperation {
		return
	}
	m.section(b, "Operation")
	if a.Operation == nil {
		b.add("  " + m.th.Progressing.Render("requested; waiting for the controller"))
		return
	}
	op := a.Operation
	m.kv(b, "  Phase", m.th.Status(op.Phase).Render(op.Phase))
	if op.Message != "" {
		b.wrapped(strings.Repeat(" ", labelWidth), m.th.Value, op.Message)
	}
	if !op.StartedAt.IsZero() {
		m.kv(b, "  Started", m.th.Value.Render(m.when(op.StartedAt)))
	}
	if !op.FinishedAt.IsZero() {
		m.kv(b, "  Finished", m.th.Value.Render(m.when(op.FinishedAt)))
	}
	who := orDash(op.Initiator)
	if op.Automated {
		who += " (automated)"
	}
	m.kv(b, "  Initiator", m.th.Value.Render(who))
	if op.Revision != "" {
		m.kv(b, "  Revision", m.th.Value.Render(op.Revision))
	}
	for _, r := range op.Results {
		style := m.th.Healthy
		if r.Status != "Synced" && r.Status != "" {
			style = m.th.Degraded
		}
		b.add("    " + style.Render(fmt.Sprintf("%-10s", orDash(r.Status))) + " " + m.th.Value.Render(resName(r.Kind, r.Namespace, r.Name)))
		if r.Message != "" {
			b.wrapped("      ", m.th.Muted, r.Message)
		}
	}
}

func (m *Model) when(t time.Time) string {
	return t.Local().Format("2006-01-02 15:04:05") + " (" + apps.Age(m.now.Sub(t)) + " ago)"
}

// resources draws status.resources as a tree: namespace, then kind and name.
func (m *Model) resources(b *lines) {
	if len(m.app.Resources) == 0 {
		return
	}
	m.section(b, fmt.Sprintf("Resources (%d)", len(m.app.Resources)))
	res := slices.Clone(m.app.Resources)
	slices.SortFunc(res, func(x, y argocd.Resource) int {
		return cmp.Or(cmp.Compare(x.Namespace, y.Namespace), cmp.Compare(x.Kind, y.Kind), cmp.Compare(x.Name, y.Name))
	})
	nameW := 0
	for _, r := range res {
		nameW = max(nameW, ansi.StringWidth(r.Kind+" "+r.Name))
	}
	nameW = min(nameW, max(20, m.width-34))
	for i, r := range res {
		if i == 0 || r.Namespace != res[i-1].Namespace {
			ns := r.Namespace
			if ns == "" {
				ns = "(cluster)"
			}
			b.add("  " + m.th.Label.Render(ns))
		}
		branch := "├─ "
		if i == len(res)-1 || res[i+1].Namespace != r.Namespace {
			branch = "└─ "
		}
		name := r.Kind + " " + r.Name
		if ansi.StringWidth(name) > nameW {
			name = ansi.Truncate(name, nameW, "…")
		}
		name += strings.Repeat(" ", nameW-ansi.StringWidth(name))
		line := "  " + m.th.Muted.Render(branch) + m.th.Value.Render(name) + "  " +
			m.th.Status(r.Sync).Render(fmt.Sprintf("%-9s", orDash(r.Sync))) + " " + m.th.Status(r.Health).Render(orDash(r.Health))
		if r.RequiresPruning {
			line += m.th.OutOfSync.Render("  requires pruning")
		}
		b.add(line)
		if r.HealthMessage != "" {
			b.wrapped("       ", m.th.Muted, r.HealthMessage)
		}
	}
}

func (m *Model) policy(b *lines) {
	m.section(b, "Policy (Kyverno)")
	switch m.reportStatus.State {
	case watch.Forbidden:
		b.add("  " + m.th.Degraded.Render("forbidden: ") + m.th.Muted.Render(m.reportStatus.Err.Error()))
		return
	case watch.NotInstalled:
		b.add("  " + m.th.Muted.Render("no policy reports in this cluster (Kyverno is not installed)"))
		return
	case watch.Loading:
		b.add("  " + m.th.Muted.Render("loading…"))
		return
	}
	keys := map[kyverno.Key]bool{}
	for _, r := range m.app.Resources {
		keys[kyverno.Key{Group: r.Group, Kind: r.Kind, Namespace: r.Namespace, Name: r.Name}] = true
	}
	reports := make([]kyverno.Report, 0, len(m.reports))
	for _, r := range m.reports {
		reports = append(reports, r)
	}
	s := kyverno.Summarize(reports, keys)
	if s.Total() == 0 {
		b.add("  " + m.th.Muted.Render("no results for this application's resources"))
		return
	}
	b.add("  " + m.th.Healthy.Render(fmt.Sprintf("%d pass", s.Pass)) + m.th.Muted.Render(" · ") +
		m.th.Degraded.Render(fmt.Sprintf("%d fail", s.Fail)) + m.th.Muted.Render(" · ") +
		m.th.OutOfSync.Render(fmt.Sprintf("%d warn", s.Warn)) + m.th.Muted.Render(fmt.Sprintf(" · %d error · %d skip", s.Error, s.Skip)))
	for _, f := range s.Findings {
		style := m.th.OutOfSync
		if f.Result.Result != kyverno.Warn {
			style = m.th.Degraded
		}
		rule := f.Policy
		if f.Rule != "" {
			rule += "/" + f.Rule
		}
		b.add("  " + style.Render(f.Result.Result+" "+rule) + m.th.Muted.Render("  "+f.Resource.String()))
		if f.Message != "" {
			b.wrapped("      ", m.th.Value, f.Message)
		}
	}
}

func (m *Model) eventList(b *lines) {
	evs := make([]argocd.KubeEvent, 0, len(m.events))
	for _, e := range m.events {
		evs = append(evs, e)
	}
	m.section(b, "Events")
	if len(evs) == 0 {
		b.add("  " + m.th.Muted.Render("none recorded"))
		return
	}
	slices.SortFunc(evs, func(x, y argocd.KubeEvent) int { return y.Last.Compare(x.Last) })
	for _, e := range evs[:min(len(evs), maxEvents)] {
		style := m.th.Value
		if e.Type == "Warning" {
			style = m.th.OutOfSync
		}
		count := ""
		if e.Count > 1 {
			count = fmt.Sprintf(" ×%d", e.Count)
		}
		b.add("  " + m.th.Muted.Render(fmt.Sprintf("%-4s", apps.Age(m.now.Sub(e.Last)))) + " " + style.Render(e.Reason+count))
		b.wrapped("       ", m.th.Value, e.Message)
	}
}

func resName(kind, ns, name string) string {
	if ns == "" {
		return kind + " " + name
	}
	return kind + " " + ns + "/" + name
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

func capitalise(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
