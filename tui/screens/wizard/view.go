package wizard

import (
	"fmt"
	"strings"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/back-stack/idp/platform/platformconfig"
)

func (m *Model) View() string {
	if m.state == stateFilling && m.form != nil {
		v := m.form.View()
		if errs := m.errorLines(); len(errs) > 0 {
			v += "\n\n" + strings.Join(errs, "\n")
		}
		return v
	}
	return m.pager.View()
}

// errorLines are the focused page's validation errors, wrapped to the
// width so that none is cut.
func (m *Model) errorLines() []string {
	if m.form == nil {
		return nil
	}
	var out []string
	for _, err := range m.form.Errors() {
		out = append(out, m.wrap(err.Error(), m.width, "", m.th.Error)...)
	}
	return out
}

// resizeForm gives the form the body less the room its errors need, as a
// window size, so that huh sizes each page within it and scrolls to the
// focused field when the page is taller.
func (m *Model) resizeForm() {
	if m.form == nil || m.width <= 0 || m.height <= 0 {
		return
	}
	h := m.height
	if n := len(m.errorLines()); n > 0 {
		h -= n + 1
	}
	size := [2]int{m.width, max(h, 3)}
	if size == m.formSize {
		return
	}
	m.formSize = size
	m.form.Update(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
}

// wrap breaks s into lines of at most width cells, each after the first
// indented, each rendered with st.
func (m *Model) wrap(s string, width int, indent string, st lipgloss.Style) []string {
	w := 1 << 16 // no width yet: one line each
	if width > 0 {
		w = max(width-ansi.StringWidth(indent), 10)
	}
	var out []string
	for _, para := range strings.Split(s, "\n") {
		for i, l := range strings.Split(ansi.Wrap(para, w, "/"), "\n") {
			if i > 0 || len(out) > 0 {
				l = indent + l
			}
			out = append(out, st.Render(l))
		}
	}
	return out
}

// renderSummary fills the pager with the answers and the plan.
func (m *Model) renderSummary() {
	if m.state == stateFilling {
		return
	}
	m.pager.SetContent(m.summaryLines())
}

func (m *Model) summaryLines() []string {
	var lines []string
	switch {
	case m.started:
		lines = append(lines, m.wrap("The bootstrap was started with these answers. Press e to change them and plan again, esc to leave.", m.width, "", m.th.Progressing)...)
	case m.state == statePlanning:
		lines = append(lines, m.th.Progressing.Render("Checking the configuration and making the plan…"))
	case m.planErr != nil:
		lines = append(lines, m.th.Error.Render("The plan failed; nothing was changed."))
		lines = append(lines, m.wrap(m.planErr.Error(), m.width, "  ", m.th.Error)...)
		lines = append(lines, m.wrap("Press e to change the answers or r to plan again once the cause is fixed; your answers are kept.", m.width, "", m.th.Muted)...)
	case m.opts.Start == nil:
		lines = append(lines, m.wrap("Review the answers and the plan. Press e to change the answers.", m.width, "", m.th.Title)...)
	default:
		lines = append(lines, m.wrap("Review the answers and the plan. Press enter to start, e to change the answers, esc to leave.", m.width, "", m.th.Title)...)
	}
	c := m.Config()
	name := c.Name
	if name == "" {
		name = "(none)"
	}
	lines = append(lines, "")
	lines = append(lines, m.section("Platform",
		"Name", name,
		"Subscription", c.Azure.SubscriptionID,
		"Tenant", c.Azure.TenantID,
		"Region", c.Azure.Location,
		"Resource group", c.Azure.ResourceGroup,
	)...)
	lines = append(lines, m.section("Cluster",
		"AKS cluster", c.Azure.AKS.Name,
		"Nodes", fmt.Sprintf("%d × %s", c.Azure.AKS.NodeCount, c.Azure.AKS.NodeVMSize),
		"Kubernetes", c.Azure.AKS.KubernetesVersion,
		"Registry", c.Azure.ACR.Name+".azurecr.io",
	)...)
	changes := "a commit on " + c.GitOpsBranch()
	if c.ChangePolicy() == platformconfig.ChangePullRequest {
		changes = "a pull request into " + c.GitOpsBranch()
	}
	lines = append(lines, m.section("GitOps",
		"Repository", c.GitOps.URL,
		"Branch", c.GitOpsBranch(),
		"Changes land as", changes,
	)...)
	cp := c.Components
	lines = append(lines, m.section("Components",
		"Crossplane", cp.Crossplane,
		"provider-azure", cp.ProviderAzure,
		"function-patch-and-transform", cp.FunctionPatchAndTransform,
		"Argo CD", cp.ArgoCD,
		"Kyverno", cp.Kyverno,
		"ingress-nginx", cp.IngressNginx,
		"cert-manager", cp.CertManager,
	)...)
	if len(m.planLines) > 0 {
		lines = append(lines, m.th.Label.Render("Plan"))
		for _, l := range m.planLines {
			lines = append(lines, m.wrap("  "+l, m.width, "    ", m.th.Value)...)
		}
	}
	return lines
}

// section renders a heading and its key/value pairs, values aligned and
// wrapped under themselves.
func (m *Model) section(title string, kv ...string) []string {
	w := 0
	for i := 0; i < len(kv); i += 2 {
		w = max(w, ansi.StringWidth(kv[i]))
	}
	lines := []string{m.th.Label.Render(title)}
	pad := strings.Repeat(" ", w+4)
	for i := 0; i < len(kv); i += 2 {
		label := m.th.Muted.Render(fmt.Sprintf("  %-*s  ", w, kv[i]))
		vw := 0
		if m.width > 0 {
			vw = max(m.width-len(pad), 10)
		}
		vals := m.wrap(kv[i+1], vw, "", m.th.Value)
		for j, v := range vals {
			if j == 0 {
				lines = append(lines, label+v)
			} else {
				lines = append(lines, pad+v)
			}
		}
	}
	return append(lines, "")
}
