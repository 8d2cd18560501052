package testworld

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Terminal is a program running in its own tmux server, at a fixed size, as a
// person would see it. Each Terminal uses a private socket, so tests never
// touch a developer's tmux sessions.
type Terminal struct {
	t       testing.TB
	socket  string
	session string
	status  string // file the program's exit status is written to
}

// TerminalOptions shape a Terminal.
type TerminalOptions struct {
	Width, Height int      // default 120x40
	Env           []string // KEY=VALUE added to the program's environment
	Dir           string   // working folder
}

// StartTerminal runs command in a new detached tmux session; the tmux server
// is killed when the test ends.
func StartTerminal(t testing.TB, opts TerminalOptions, command ...string) *Terminal {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Fatalf("testworld: tmux not found (scripts/test installs it): %v", err)
	}
	if opts.Width == 0 {
		opts.Width, opts.Height = 120, 40
	}
	conf := filepath.Join(t.TempDir(), "tmux.conf")
	// No status line, so the program owns every row.
	confText := fmt.Sprintf("set -g status off\nset -g default-size %dx%d\nset -g default-terminal screen-256color\n", opts.Width, opts.Height)
	if err := os.WriteFile(conf, []byte(confText), 0o644); err != nil {
		t.Fatal(err)
	}
	term := &Terminal{t: t, socket: "idp-test-" + randomHex(6), session: "idp", status: filepath.Join(t.TempDir(), "status")}
	args := []string{"-f", conf, "new-session", "-d", "-s", term.session,
		"-x", strconv.Itoa(opts.Width), "-y", strconv.Itoa(opts.Height)}
	if opts.Dir != "" {
		args = append(args, "-c", opts.Dir)
	}
	for _, kv := range opts.Env {
		args = append(args, "-e", kv)
	}
	// tmux can lose the last output of a program that exits within
	// milliseconds when its pane closes, so a shell waits in the pane after
	// the program ends, keeping its output on screen, and records its status.
	wrapper := append([]string{"sh", "-c", `"$@"; echo $? > "$STATUS_FILE"; while :; do sleep 3600; done`, "sh"}, command...)
	args = append(args, "-e", "STATUS_FILE="+term.status, shellJoin(wrapper))
	if out, err := term.tmux(args...); err != nil {
		t.Fatalf("testworld: tmux new-session: %v\n%s", err, out)
	}
	t.Cleanup(term.Close)
	return term
}

func (term *Terminal) tmux(args ...string) (string, error) {
	cmd := exec.Command("tmux", append([]string{"-L", term.socket}, args...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// SendKeys types keys as tmux's send-keys names them ("q", "Enter", "Down", "C-c").
func (term *Terminal) SendKeys(keys ...string) {
	term.t.Helper()
	if out, err := term.tmux(append([]string{"send-keys", "-t", term.session}, keys...)...); err != nil {
		term.t.Fatalf("testworld: send-keys %v: %v\n%s", keys, err, out)
	}
}

// Screen is the visible text of the pane.
func (term *Terminal) Screen() string {
	out, err := term.tmux("capture-pane", "-p", "-t", term.session)
	if err != nil {
		return fmt.Sprintf("(capture-pane failed: %v: %s)", err, out)
	}
	return out
}

// WaitFor polls the screen until it contains text, and fails the test with
// the screen's content if the deadline passes first.
func (term *Terminal) WaitFor(text string, timeout time.Duration) string {
	term.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		screen := term.Screen()
		if strings.Contains(screen, text) {
			return screen
		}
		if time.Now().After(deadline) {
			term.t.Fatalf("testworld: %q not on screen after %s; the screen:\n%s", text, timeout, screen)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// WaitExit waits for the program to end and returns its exit status.
func (term *Terminal) WaitExit(timeout time.Duration) int {
	term.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if data, err := os.ReadFile(term.status); err == nil && strings.HasSuffix(string(data), "\n") {
			code, err := strconv.Atoi(strings.TrimSpace(string(data)))
			if err != nil {
				term.t.Fatalf("testworld: exit status file holds %q", data)
			}
			return code
		}
		if time.Now().After(deadline) {
			term.t.Fatalf("testworld: program still running after %s; the screen:\n%s", timeout, term.Screen())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Resize changes the terminal's size, as a user dragging the window does.
func (term *Terminal) Resize(width, height int) {
	term.t.Helper()
	if out, err := term.tmux("resize-window", "-t", term.session, "-x", strconv.Itoa(width), "-y", strconv.Itoa(height)); err != nil {
		term.t.Fatalf("testworld: resize-window: %v\n%s", err, out)
	}
}

// Close kills the tmux server and whatever still runs in it.
func (term *Terminal) Close() {
	if term.t.Failed() {
		term.t.Logf("testworld: the terminal at the end:\n%s", term.Screen())
	}
	term.tmux("kill-server")
}

func shellJoin(args []string) string {
	quoted := make([]string, len(args))
	for i, a := range args {
		quoted[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(quoted, " ")
}

var (
	idpOnce sync.Once
	idpPath string
	idpErr  error
)

// IdpBinary builds cmd/idp once per test process and returns its path.
func IdpBinary(t testing.TB) string {
	t.Helper()
	idpOnce.Do(func() {
		dir, err := os.MkdirTemp("", "idp-bin-")
		if err != nil {
			idpErr = err
			return
		}
		sharedMu.Lock()
		cleanups = append(cleanups, func() { os.RemoveAll(dir) })
		sharedMu.Unlock()
		idpPath = filepath.Join(dir, "idp")
		cmd := exec.Command("go", "build", "-o", idpPath, "./cmd/idp")
		cmd.Dir = RepoRoot()
		if out, err := cmd.CombinedOutput(); err != nil {
			idpErr = fmt.Errorf("building idp: %w\n%s", err, out)
		}
	})
	if idpErr != nil {
		t.Fatal(idpErr)
	}
	return idpPath
}
