package apps

import (
	"fmt"
	"strings"
	"time"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/back-stack/idp/platform/argocd"
	"github.com/back-stack/idp/platform/watch"
	"github.com/back-stack/idp/tui/theme"
)

// column is one table column; cell returns the text and its style.
type column struct {
	title string
	min   int // narrowest useful width
	max   int // widest it grows to; 0 for no limit
	cell  func(th theme.Theme, a *argocd.App, now time.Time) (string, lipgloss.Style)
}

var (
	colMarker = column{title: " ", min: 1, max: 1, cell: func(th theme.Theme, a *argocd.App, _ time.Time) (string, lipgloss.Style) {
		errs, warns := a.Problems()
		switch {
		case errs > 0:
			return "✗", th.Degraded
		case warns > 0:
			return "!", th.OutOfSync
		case a.PendingOperation:
			return "…", th.Progressing
		}
		return " ", th.Value
	}}
	colName = column{title: "NAME", min: 12, cell: func(th theme.Theme, a *argocd.App, _ time.Time) (string, lipgloss.Style) {
		return a.Name, th.Value
	}}
	colNamespace = column{title: "NAMESPACE", min: 9, max: 24, cell: func(th theme.Theme, a *argocd.App, _ time.Time) (string, lipgloss.Style) {
		return a.Namespace, th.Muted
	}}
	colProject = column{title: "PROJECT", min: 7, max: 16, cell: func(th theme.Theme, a *argocd.App, _ time.Time) (string, lipgloss.Style) {
		return a.Project, th.Value
	}}
	colSync = column{title: "SYNC", min: 9, max: 9, cell: func(th theme.Theme, a *argocd.App, _ time.Time) (string, lipgloss.Style) {
		return a.Sync, th.Status(a.Sync)
	}}
	colHealth = column{title: "HEALTH", min: 11, max: 11, cell: func(th theme.Theme, a *argocd.App, _ time.Time) (string, lipgloss.Style) {
		return a.Health, th.Status(a.Health)
	}}
	colRevision = column{title: "REVISION", min: 8, max: 8, cell: func(th theme.Theme, a *argocd.App, _ time.Time) (string, lipgloss.Style) {
		return a.ShortRevision(), th.Muted
	}}
	colLastOp = column{title: "LAST OPERATION", min: 14, max: 18, cell: func(th theme.Theme, a *argocd.App, now time.Time) (string, lipgloss.Style) {
		if a.Operation == nil {
			if a.PendingOperation {
				return "requested", th.Progressing
			}
			return "—", th.Muted
		}
		phase := a.Operation.Phase
		if t := a.LastOperationTime(); !t.IsZero() {
			return phase + " " + Age(now.Sub(t)), th.Status(phase)
		}
		return phase, th.Status(phase)
	}}
)

// dropOrder is which columns go first when the terminal is narrow.
var dropOrder = []string{"NAMESPACE", "PROJECT", "REVISION", "LAST OPERATION", "HEALTH"}

// layout picks the columns that fit width and their widths (a space
// separates columns).
func layout(width int, rows []*argocd.App) ([]column, []int) {
	cols := []column{colMarker, colName, colNamespace, colProject, colSync, colHealth, colRevision, colLastOp}
	fits := func() bool {
		total := -1
		for _, c := range cols {
			total += c.min + 1
		}
		return total <= width
	}
	for _, drop := range dropOrder {
		if fits() {
			break
		}
		for i, c := range cols {
			if c.title == drop {
				cols = append(cols[:i], cols[i+1:]...)
				break
			}
		}
	}
	widths := make([]int, len(cols))
	used := -1
	for i, c := range cols {
		widths[i] = c.min
		used += c.min + 1
	}
	// Grow bounded columns to their content (up to max), then give the
	// rest to NAME.
	for i, c := range cols {
		if c.max == 0 || c.max == c.min {
			continue
		}
		want := min(c.max, max(c.min, widest(c, rows)))
		if grow := min(want-widths[i], width-used); grow > 0 {
			widths[i] += grow
			used += grow
		}
	}
	for i, c := range cols {
		if c.title == "NAME" && width > used {
			widths[i] += width - used
		}
	}
	return cols, widths
}

// widest is the widest cell of c among the first rows (enough to size a
// column without a pass over ten thousand rows).
func widest(c column, rows []*argocd.App) int {
	w := len(c.title)
	for _, a := range rows[:min(len(rows), 200)] {
		s, _ := c.cell(theme.Theme{}, a, time.Time{})
		w = max(w, ansi.StringWidth(s))
	}
	return w
}

// fit cuts or pads s to exactly w cells.
func fit(s string, w int) string {
	if ansi.StringWidth(s) > w {
		s = ansi.Truncate(s, w, "…")
	}
	return s + strings.Repeat(" ", max(0, w-ansi.StringWidth(s)))
}

// Age is a short human duration: 42s, 5m, 3h, 2d.
func Age(d time.Duration) string {
	switch {
	case d < 0:
		return "0s"
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}

// footerLines is how many lines the filter, palette or confirmation take.
func (m *Model) footerLines() int {
	switch m.mode {
	case filtering, confirming:
		return 1
	case commanding:
		return min(8, max(1, m.height/3))
	}
	if m.note != "" {
		return 1
	}
	return 0
}

// tableHeight is the number of application rows that fit.
func (m *Model) tableHeight() int { return m.height - 2 - m.footerLines() }

func (m *Model) View() string {
	if m.width <= 0 || m.height <= 0 {
		return ""
	}
	lines := []string{m.statusLine()}
	lines = append(lines, m.body()...)
	for len(lines) < m.height-m.footerLines() {
		lines = append(lines, "")
	}
	lines = lines[:max(0, m.height-m.footerLines())]
	lines = append(lines, m.footer()...)
	for i, l := range lines {
		lines[i] = ansi.Truncate(l, m.width, "…")
	}
	return strings.Join(lines, "\n")
}

func (m *Model) body() []string {
	switch {
	case !m.hasEnv:
		return []string{m.th.Muted.Render("Resolving the Kubernetes target…")}
	case m.err != nil:
		return []string{m.th.Error.Render("Cannot watch applications: " + m.err.Error())}
	case m.status.State == watch.Forbidden && len(m.apps) == 0:
		return []string{m.th.Error.Render("Forbidden: your RBAC does not allow listing Argo CD applications."), m.th.Muted.Render(errText(m.status.Err))}
	case m.status.State == watch.NotInstalled:
		return []string{m.th.Muted.Render("Argo CD is not installed in this cluster (no Application CRD).")}
	case m.status.State == watch.Loading && len(m.apps) == 0:
		return []string{m.th.Muted.Render("Loading applications…")}
	case len(m.apps) == 0:
		return []string{m.th.Muted.Render("No applications.")}
	case len(m.rows) == 0:
		return []string{m.th.Muted.Render("No application matches the filter.")}
	}
	return m.table()
}

func (m *Model) table() []string {
	cols, widths := layout(m.width, m.rows)
	header := make([]string, len(cols))
	for i, c := range cols {
		header[i] = fit(c.title, widths[i])
	}
	lines := []string{m.th.Label.Render(strings.Join(header, " "))}
	current := m.status.State.Current()
	end := min(len(m.rows), m.offset+max(0, m.tableHeight()))
	cells := make([]string, len(cols))
	for r := m.offset; r < end; r++ {
		a := m.rows[r]
		selected := r == m.cursor
		for i, c := range cols {
			text, style := c.cell(m.th, a, m.now)
			text = fit(text, widths[i])
			switch {
			case selected:
				cells[i] = text // styled as a whole below
			case !current:
				cells[i] = m.th.Muted.Render(text)
			default:
				cells[i] = style.Render(text)
			}
		}
		line := strings.Join(cells, " ")
		if selected {
			line = m.th.Selected.Render(line)
		}
		lines = append(lines, line)
	}
	return lines
}

// statusLine counts the rows and says how current they are.
func (m *Model) statusLine() string {
	left := plural(len(m.apps), "application")
	if !m.filter.Empty() {
		left = fmt.Sprintf("%d of %s · filter: %s", len(m.rows), plural(len(m.apps), "application"), m.filterText)
	}
	left += " · sort: " + m.sort.String()
	return m.th.Header.Render(left) + "  " + m.stateText()
}

func (m *Model) stateText() string {
	if m.err != nil {
		return m.th.Degraded.Render("✗ not connected")
	}
	st := m.status
	switch st.State {
	case watch.Live:
		if len(m.scope) > 0 {
			return m.th.Healthy.Render("● live") + m.th.Muted.Render(" in "+strings.Join(m.scope, ", ")+" only: listing every namespace is forbidden")
		}
		return m.th.Healthy.Render("● live")
	case watch.Loading:
		return m.th.Progressing.Render("◌ loading")
	case watch.Reconnecting:
		since := ""
		if !st.LastLive.IsZero() {
			since = " as of " + st.LastLive.Local().Format("15:04:05")
		}
		return m.th.Degraded.Render("⟳ reconnecting, rows may be stale") + m.th.Muted.Render(since+": "+errText(st.Err))
	}
	return m.th.Degraded.Render("✗ "+st.State.String()) + m.th.Muted.Render(" ("+errText(st.Err)+")")
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func (m *Model) footer() []string {
	switch m.mode {
	case filtering:
		return []string{m.input.View()}
	case confirming:
		return []string{m.th.Label.Render(capitalise(m.pending.String())+"?") + " " + m.th.Muted.Render("y/n")}
	case commanding:
		return strings.Split(m.pal.View(m.width, m.footerLines()), "\n")
	}
	if m.note != "" {
		return []string{m.th.Muted.Render(m.note)}
	}
	return nil
}

func capitalise(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
