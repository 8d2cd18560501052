// Package e2e drives the real idp binary in a real terminal (tmux), the way a
// person uses it.
package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/back-stack/idp/internal/testworld"
)

func TestMain(m *testing.M) { testworld.Main(m) }

const wait = 20 * time.Second

// env gives idp a home of its own, so a developer's real config and
// kubeconfig never leak into the test.
func env(t *testing.T, extra ...string) []string {
	home := t.TempDir()
	return append([]string{
		"HOME=" + home,
		"XDG_CONFIG_HOME=" + filepath.Join(home, ".config"),
		"XDG_CACHE_HOME=" + filepath.Join(home, ".cache"),
		"KUBECONFIG=",
	}, extra...)
}

func TestHomeScreenThenQuit(t *testing.T) {
	idp := testworld.IdpBinary(t)
	term := testworld.StartTerminal(t, testworld.TerminalOptions{Env: env(t)}, idp)
	screen := term.WaitFor("Environment", wait)
	for _, want := range []string{"idp", "? help", "q quit"} {
		if !strings.Contains(screen, want) {
			t.Errorf("home screen lacks %q:\n%s", want, screen)
		}
	}
	term.SendKeys("q")
	if code := term.WaitExit(wait); code != 0 {
		t.Errorf("idp exited with %d after q", code)
	}
}

// The Environment screen shows what idp points at: here the real test
// cluster from a kubeconfig given on the command line.
func TestEnvironmentShowsTheClusterAndGoesBack(t *testing.T) {
	c := testworld.SharedCluster(t)
	idp := testworld.IdpBinary(t)
	term := testworld.StartTerminal(t, testworld.TerminalOptions{Env: env(t)}, idp, "--kubeconfig", c.Kubeconfig, "--gitops", "https://git.example.com/platform/gitops.git")
	term.WaitFor("Environment", wait)
	openEntry(t, term, "Environment")
	screen := term.WaitFor(c.URL, wait)
	for _, want := range []string{"testworld", "gitops.git"} {
		if !strings.Contains(screen, want) {
			t.Errorf("environment screen lacks %q:\n%s", want, screen)
		}
	}
	term.SendKeys("?")
	term.WaitFor("page up", wait) // only the full help names it
	term.SendKeys("Escape")
	// The home entry's description, not the Environment screen's text: esc
	// went back. Waiting here also keeps the next key from reaching the
	// program right after esc, where it would read as alt+key.
	term.WaitFor("config file, kubeconfig", wait)

	// Small terminals: the header stays on the first row, the footer on
	// the last, and nothing scrolls away (polled: a redraw takes a moment).
	term.Resize(60, 15)
	deadline := time.Now().Add(wait)
	for {
		screen = term.Screen()
		lines := strings.Split(strings.TrimRight(screen, "\n"), "\n")
		if len(lines) <= 15 && strings.Contains(lines[0], "idp") && strings.Contains(lines[len(lines)-1], "q quit") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("at 60x15 the header or footer is lost:\n%s", screen)
		}
		time.Sleep(50 * time.Millisecond)
	}
	term.SendKeys("C-c")
	if code := term.WaitExit(wait); code != 0 {
		t.Errorf("idp exited with %d after ctrl+c", code)
	}
}

// openEntry moves the home screen's cursor to the entry titled title and
// opens it; the order of entries grows with features. Each key press waits
// for the cursor to move, so no press overtakes the screen.
func openEntry(t *testing.T, term *testworld.Terminal, title string) {
	t.Helper()
	cursor := func() string {
		for _, l := range strings.Split(term.Screen(), "\n") {
			if strings.HasPrefix(l, "> ") {
				return l
			}
		}
		return ""
	}
	key, turned := "j", false
	for range 20 {
		at := cursor()
		if strings.HasPrefix(at, "> "+title) {
			term.SendKeys("Enter")
			return
		}
		term.SendKeys(key)
		// A press is drawn well within 3s; a cursor that stays is at the end.
		deadline := time.Now().Add(3 * time.Second)
		for cursor() == at {
			if time.Now().After(deadline) {
				if turned { // at the top and at the bottom: it is not there
					t.Fatalf("no home entry %q (the cursor stays on %q):\n%s", title, at, term.Screen())
				}
				key, turned = "k", true // the last entry: go up instead
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	t.Fatalf("no home entry %q:\n%s", title, term.Screen())
}

// A malformed config file is a clear error naming the file and the line,
// and idp does not start its TUI.
func TestMalformedConfigIsAClearError(t *testing.T) {
	idp := testworld.IdpBinary(t)
	cfg := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(cfg, []byte("kubeconfig: /x\ncolour: blue\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	term := testworld.StartTerminal(t, testworld.TerminalOptions{Env: env(t)}, idp, "--config", cfg)
	screen := term.WaitFor("line 2", wait)
	if !strings.Contains(screen, cfg) {
		t.Errorf("error does not name the file %s:\n%s", cfg, screen)
	}
	if code := term.WaitExit(wait); code == 0 {
		t.Errorf("idp exited 0 with a malformed config:\n%s", screen)
	}
}

// A config whose error is on its first line names line 1 too, on stderr
// of a plain command.
func TestMalformedConfigFirstLine(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(cfg, []byte("\tgitops: x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := runIdp(t, env(t), "--config", cfg, "templates")
	if code == 0 || !strings.Contains(errOut, cfg) || !strings.Contains(errOut, "line 1: ") {
		t.Errorf("exit %d, stderr %q; want the file and line 1", code, errOut)
	}
}
