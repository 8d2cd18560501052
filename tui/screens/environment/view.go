package environment

import (
	"strings"

	"github.com/charmbracelet/x/ansi"

	"github.com/back-stack/idp/platform/environment"
	"github.com/back-stack/idp/tui/theme"
)

const (
	labelWidth = 13 // "Config file" and friends, plus two spaces
	dash       = "—"
)

// row is one label with its value lines; an empty value shows a muted dash.
type row struct {
	label  string
	values []string
	muted  bool
}

// renderLines lays out env in rows, wrapping values to width.
func renderLines(th theme.Theme, env environment.Environment, width int) []string {
	lines := []string{th.Muted.Render("What idp is pointed at. Read from files; the cluster is not contacted."), ""}
	for _, r := range rows(env) {
		lines = append(lines, renderRow(th, r, width)...)
	}
	if env.KubeErr != nil {
		lines = append(lines, "", th.Error.Render("Kubernetes target not resolved"))
		for _, l := range wrap(env.KubeErr.Error(), width) {
			lines = append(lines, th.Error.Render(l))
		}
	}
	return lines
}

func rows(env environment.Environment) []row {
	cfg, k := env.Config, env.Kube
	configFile := row{label: "Config file", values: []string{cfg.Path}}
	switch {
	case cfg.Path == "":
		configFile = row{label: "Config file", values: []string{"none (no user config directory)"}, muted: true}
	case cfg.Found:
		configFile.values[0] += " (found)"
	default:
		configFile.values[0] += " (not found; defaults in use)"
	}
	gitops := row{label: "GitOps repo", values: []string{cfg.GitOps}}
	if cfg.GitOps == "" {
		where := "the idp config file"
		if cfg.Path != "" {
			where = cfg.Path
		}
		gitops = row{label: "GitOps repo", values: []string{"not set — use --gitops or gitops: in " + where}, muted: true}
	}
	kubeconfigs := row{label: "Kubeconfig", values: k.KubeconfigPaths}
	if len(k.KubeconfigPaths) == 0 {
		kubeconfigs = row{label: "Kubeconfig", values: []string{"none found"}, muted: true}
	}
	return []row{
		configFile,
		kubeconfigs,
		{label: "Context", values: []string{k.Context}},
		{label: "Cluster", values: []string{k.Cluster}},
		{label: "Server", values: []string{k.Server}},
		{label: "Namespace", values: []string{k.Namespace}},
		{label: "User", values: []string{k.User}},
		gitops,
	}
}

func renderRow(th theme.Theme, r row, width int) []string {
	valueWidth := width - labelWidth
	if width <= 0 {
		valueWidth = 0
	}
	var out []string
	for i, v := range r.values {
		style := th.Muted
		if v == "" {
			v = dash
		} else if !r.muted {
			style = th.Value
		}
		for j, l := range wrap(v, valueWidth) {
			label := ""
			if i == 0 && j == 0 {
				label = r.label
			}
			out = append(out, th.Label.Render(pad(label))+style.Render(l))
		}
	}
	return out
}

// pad left-aligns s in the label column without a style (styles come from the theme).
func pad(s string) string {
	return s + strings.Repeat(" ", max(0, labelWidth-ansi.StringWidth(s)))
}

// wrap breaks s at spaces into lines of at most width cells. Words wider
// than that (long paths and URLs) are cut after a slash where possible.
func wrap(s string, width int) []string {
	if width <= 0 {
		return []string{s}
	}
	var lines []string
	line := ""
	for _, word := range strings.Fields(s) {
		for ansi.StringWidth(word) > width {
			if line != "" {
				lines, line = append(lines, line), ""
			}
			head := cutWord(word, width)
			lines, word = append(lines, head), word[len(head):]
		}
		switch {
		case line == "":
			line = word
		case ansi.StringWidth(line)+1+ansi.StringWidth(word) <= width:
			line += " " + word
		default:
			lines, line = append(lines, line), word
		}
	}
	return append(lines, line)
}

// cutWord returns the longest prefix of word that fits width, ending after
// its last slash if it has one.
func cutWord(word string, width int) string {
	head := ansi.Truncate(word, width, "")
	if i := strings.LastIndex(head, "/"); i > 0 {
		return head[:i+1]
	}
	return head
}
