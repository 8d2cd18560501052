package tui

import (
	"bytes"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/back-stack/idp/tui/internal/testenv"
	"github.com/back-stack/idp/tui/theme"
)

// Whole-app tests: a real tea.Program, driven by keys. Run with -update to
// rewrite the golden files in testdata/.

func startApp(t *testing.T) *teatest.TestModel {
	t.Helper()
	return teatest.NewTestModel(t,
		New(Options{Theme: theme.New(false), Resolve: testenv.Resolved}),
		teatest.WithInitialTermSize(120, 40),
		teatest.WithProgramOptions(tea.WithColorProfile(colorprofile.Ascii)),
	)
}

func waitFor(t *testing.T, tm *teatest.TestModel, text string) {
	t.Helper()
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return bytes.Contains(b, []byte(text)) },
		teatest.WithDuration(10*time.Second), teatest.WithCheckInterval(10*time.Millisecond))
}

func finalView(t *testing.T, tm *teatest.TestModel) string {
	t.Helper()
	m := tm.FinalModel(t, teatest.WithFinalTimeout(10*time.Second))
	return ansi.Strip(m.(*App).View().Content)
}

func TestAppHome(t *testing.T) {
	tm := startApp(t)
	waitFor(t, tm, "Environment")
	// "Namespace" shows only once the environment is resolved, so the final
	// home view has the header filled in.
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEnter})
	waitFor(t, tm, "Namespace")
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEscape})
	tm.Type("q")
	golden.RequireEqual(t, finalView(t, tm))
}

func TestAppEnvironment(t *testing.T) {
	tm := startApp(t)
	waitFor(t, tm, "Environment")
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEnter})
	waitFor(t, tm, "Namespace")
	tm.Type("q")
	golden.RequireEqual(t, finalView(t, tm))
}

func TestAppResizeDown(t *testing.T) {
	tm := startApp(t)
	waitFor(t, tm, "Environment")
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEnter})
	waitFor(t, tm, "Namespace")
	tm.Send(tea.WindowSizeMsg{Width: 60, Height: 15})
	tm.Type("q")
	v := finalView(t, tm)
	lines := strings.Split(v, "\n")
	if len(lines) > 15 {
		t.Fatalf("%d lines at 60x15:\n%s", len(lines), v)
	}
	for _, l := range lines {
		if w := ansi.StringWidth(l); w > 60 {
			t.Errorf("line %q is %d wide", l, w)
		}
	}
	footer := lines[len(lines)-1]
	if !strings.Contains(footer, "? help") || !strings.Contains(footer, "q quit") {
		t.Errorf("footer %q", footer)
	}
}
