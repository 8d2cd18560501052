package environment

import (
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/back-stack/idp/tui/internal/testenv"
	"github.com/back-stack/idp/tui/nav"
	"github.com/back-stack/idp/tui/theme"
)

func loaded(t *testing.T, w, h int, env nav.EnvMsg) *Model {
	t.Helper()
	m := New(theme.New(true))
	m.SetSize(w, h)
	if _, cmd := m.Update(env); cmd != nil {
		t.Fatal("EnvMsg returned a command")
	}
	return m
}

func TestResolvingUntilEnvArrives(t *testing.T) {
	m := New(theme.New(true))
	m.SetSize(80, 10)
	if got := ansi.Strip(m.View()); got != "Resolving…" {
		t.Fatalf("view %q", got)
	}
	if _, ok := m.Env(); ok {
		t.Fatal("env reported loaded")
	}
}

func TestShowsResolvedTarget(t *testing.T) {
	m := loaded(t, 100, 30, nav.EnvMsg{Env: testenv.Resolved()})
	view := ansi.Strip(m.View())
	for _, want := range []string{
		"Config file  /home/dev/.config/idp/config.yaml (found)",
		"Kubeconfig   /home/dev/.kube/config",
		"Context      kind-dev",
		"Cluster      kind-dev",
		"Server       https://127.0.0.1:6443",
		"Namespace    default",
		"GitOps repo  /srv/gitops/platform",
	} {
		if !strings.Contains(view, want) {
			t.Errorf("view does not contain %q:\n%s", want, view)
		}
	}
	if strings.Contains(view, "not resolved") {
		t.Errorf("resolved env shows an error:\n%s", view)
	}
}

func TestShowsProblemAndNextStep(t *testing.T) {
	m := loaded(t, 100, 30, nav.EnvMsg{Env: testenv.Broken()})
	view := ansi.Strip(m.View())
	for _, want := range []string{
		"(not found; defaults in use)",
		"Context      staging",
		"Server       —",
		"GitOps repo  not set — use --gitops or gitops: in /home/dev/.config/idp/config.yaml",
		"Kubernetes target not resolved",
		`context "staging" not found`,
		"--context (or context: in the idp config)",
	} {
		if !strings.Contains(view, want) {
			t.Errorf("view does not contain %q:\n%s", want, view)
		}
	}
}

func TestRefreshAsksTheShell(t *testing.T) {
	m := loaded(t, 80, 20, nav.EnvMsg{Env: testenv.Resolved()})
	_, cmd := m.Update(tea.KeyPressMsg{Code: 'r', Text: "r"})
	if cmd == nil {
		t.Fatal("r returned no command")
	}
	if _, ok := cmd().(nav.RefreshEnvMsg); !ok {
		t.Fatalf("r produced %#v", cmd())
	}
}

func TestNarrowWrapsAndScrolls(t *testing.T) {
	m := loaded(t, 40, 5, nav.EnvMsg{Env: testenv.Broken()})
	first := m.View()
	for _, l := range strings.Split(first, "\n") {
		if w := ansi.StringWidth(l); w > 40 {
			t.Fatalf("line %q is %d wide", ansi.Strip(l), w)
		}
	}
	if n := strings.Count(first, "\n") + 1; n != 5 {
		t.Fatalf("%d lines, want 5", n)
	}
	if len(m.ShortHelp()) < 3 {
		t.Fatal("scrollable view does not offer scroll keys")
	}
	for range 50 {
		m.Update(tea.KeyPressMsg{Code: tea.KeyDown})
	}
	last := ansi.Strip(m.View())
	if last == ansi.Strip(first) || !strings.Contains(last, "idp config)") {
		t.Fatalf("scrolled to the end, view:\n%s", last)
	}
}

func TestWrap(t *testing.T) {
	tests := []struct {
		in    string
		width int
		want  []string
	}{
		{"fix --context now", 11, []string{"fix", "--context", "now"}},
		{"a b c", 3, []string{"a b", "c"}},
		{"see /home/dev/.config/idp/config.yaml", 16, []string{"see", "/home/dev/", ".config/idp/", "config.yaml"}},
		{"abcdefgh", 3, []string{"abc", "def", "gh"}},
		{"anything", 0, []string{"anything"}},
		{"", 10, []string{""}},
	}
	for _, tt := range tests {
		got := wrap(tt.in, tt.width)
		if strings.Join(got, "|") != strings.Join(tt.want, "|") {
			t.Errorf("wrap(%q, %d) = %q, want %q", tt.in, tt.width, got, tt.want)
		}
	}
}
