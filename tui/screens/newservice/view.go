package newservice

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/x/ansi"
)

func (m *Model) View() string {
	switch m.state {
	case stateLoading:
		return m.th.Muted.Render("Loading templates…")
	case statePicking:
		return m.pickView()
	case stateFilling:
		if m.form != nil {
			return m.form.View()
		}
	case statePreparing:
		return m.th.Progressing.Render("Rendering " + m.tpl.Name + " and checking the forge and the GitOps repository…")
	case stateApplying:
		return m.th.Progressing.Render("Creating the repository and writing the GitOps change…")
	}
	return m.pager.View()
}

func (m *Model) pickView() string {
	list := m.usable()
	if len(list) == 0 && (m.catalog == nil || len(m.catalog.Broken) == 0) {
		if m.err != nil {
			return m.th.Error.Render("No templates: " + m.err.Error())
		}
		return m.th.Muted.Render("No templates.")
	}
	width := max(m.width, 20)
	var lines []string
	lines = append(lines, m.th.Label.Render("Choose a golden path"), "")
	for i, t := range list {
		name := t.Name
		if t.Title != "" {
			name += " — " + t.Title
		}
		if len(m.catalog.Others(t)) > 0 {
			name += " (" + t.Source + ")"
		}
		line, desc := "  "+name, "    "+oneLine(t.Description)
		if i == m.cursor {
			line = m.th.Selected.Render("› " + name)
		}
		lines = append(lines, ansi.Truncate(line, width, "…"), m.th.Muted.Render(ansi.Truncate(desc, width, "…")))
	}
	var broken []string
	for _, t := range m.catalog.Templates {
		if t.Refusal != "" {
			broken = append(broken, "  "+t.Name, "    "+t.Refusal)
		}
	}
	for _, b := range m.catalog.Broken {
		name := b.Name
		if name == "" {
			name = b.Source
		}
		broken = append(broken, "  "+name, "    "+oneLine(b.Error()))
	}
	if len(broken) > 0 {
		lines = append(lines, "", m.th.Label.Render("Cannot be used"))
		for i, l := range broken {
			style := m.th.Muted
			if i%2 == 1 {
				style = m.th.Error
			}
			for _, w := range wrapLines(l, width) {
				lines = append(lines, style.Render(w))
			}
		}
	}
	return strings.Join(lines, "\n")
}

// wrapLines wraps a reason to the width, indented like its first line.
func wrapLines(s string, width int) []string {
	indent := len(s) - len(strings.TrimLeft(s, " "))
	wrapped := ansi.Wordwrap(strings.TrimLeft(s, " "), max(width-indent, 10), "")
	var out []string
	for _, l := range strings.Split(wrapped, "\n") {
		out = append(out, strings.Repeat(" ", indent)+l)
	}
	return out
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// renderPager fills the pager with the preview or the result.
func (m *Model) renderPager() {
	switch {
	case m.state == stateDone && m.result != nil:
		m.pager.SetContent(m.resultLines())
	case m.proposal != nil:
		m.pager.SetContent(m.previewLines())
	}
}

func (m *Model) kv(label, value string) string {
	return m.th.Label.Render(fmt.Sprintf("%-11s", label)) + " " + m.th.Value.Render(value)
}

func (m *Model) previewLines() []string {
	p := m.proposal
	var lines []string
	lines = append(lines,
		m.kv("Template", p.Request.Template),
		m.kv("Service", p.Service),
	)
	if p.Plan.Repo != nil {
		vis := "private"
		if !p.Plan.Repo.Private {
			vis = "public"
		}
		lines = append(lines, m.kv("Repository", fmt.Sprintf("%s (new, %s, branch %s)", p.Repo.CloneURL, vis, p.Plan.Repo.DefaultBranch)))
		for _, f := range p.Plan.Files {
			lines = append(lines, m.th.Muted.Render("            "+f.Path))
		}
	}
	how := "commit on " + p.Branch
	if p.ChangePolicy == "pull-request" {
		how = "pull request from " + p.Branch
	}
	lines = append(lines, m.kv("GitOps", how))
	for _, f := range p.GitOpsFiles {
		lines = append(lines, m.th.Muted.Render("            "+f.Path))
	}
	for _, n := range p.Plan.Notes {
		lines = append(lines, m.th.OutOfSync.Render("Note: "+n))
	}
	lines = append(lines, "", m.th.Label.Render("GitOps change"))
	for _, l := range strings.Split(strings.TrimRight(p.Diff, "\n"), "\n") {
		switch {
		case strings.HasPrefix(l, "+++"), strings.HasPrefix(l, "---"), strings.HasPrefix(l, "diff "):
			lines = append(lines, m.th.Label.Render(l))
		case strings.HasPrefix(l, "+"):
			lines = append(lines, m.th.Healthy.Render(l))
		case strings.HasPrefix(l, "-"):
			lines = append(lines, m.th.Degraded.Render(l))
		default:
			lines = append(lines, m.th.Muted.Render(l))
		}
	}
	lines = append(lines, "", m.th.Title.Render("Press enter to create it, e to change the answers, esc to leave."))
	return lines
}

func (m *Model) resultLines() []string {
	r := m.result
	lines := []string{
		m.th.Healthy.Render("Created " + r.Service),
		"",
		m.kv("Repository", r.Repository.URL),
	}
	if r.Repository.WebURL != "" {
		lines = append(lines, m.kv("", r.Repository.WebURL))
	}
	lines = append(lines, m.kv("", fmt.Sprintf("%s at %s", r.Repository.Branch, short(r.Repository.Commit))))
	lines = append(lines, m.kv("GitOps", fmt.Sprintf("%s at %s", r.GitOps.Branch, short(r.GitOps.Commit))))
	for _, p := range r.GitOps.Paths {
		lines = append(lines, m.th.Muted.Render("            "+p))
	}
	if r.GitOps.PullRequestURL != "" {
		lines = append(lines, m.kv("Pull request", r.GitOps.PullRequestURL))
	}
	for _, n := range r.Notes {
		lines = append(lines, m.th.OutOfSync.Render("Note: "+n))
	}
	if m.canWatch() {
		return append(lines, "", m.th.Muted.Render("Press w to watch Argo CD deploy it, enter to go back."))
	}
	return append(lines, "", m.th.Muted.Render("Press enter to go back."))
}

func short(commit string) string {
	if len(commit) > 12 {
		return commit[:12]
	}
	return commit
}
