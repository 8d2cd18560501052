package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/back-stack/idp/internal/livetest"
	"github.com/back-stack/idp/internal/testworld"
)

// The Applications screen follows the cluster by itself: a status the
// controller writes shows up without a key press.
func TestApplicationsFollowTheClusterLive(t *testing.T) {
	c := testworld.SharedCluster(t)
	livetest.ArgoCD(t, c)
	ns := c.Namespace(t)
	dyn := livetest.Dynamic(t, c.Config)
	short := ns[len(ns)-6:] // the namespace's random suffix: unique, and short enough to keep rows and the status line whole
	name := "e2e-" + short
	livetest.CreateApp(t, dyn, livetest.Application(ns, name, "shop", nil))
	livetest.WriteAppStatus(t, dyn, ns, name, livetest.AppStatus{Sync: "Synced", Health: "Healthy"})

	idp := testworld.IdpBinary(t)
	term := testworld.StartTerminal(t, testworld.TerminalOptions{Env: env(t)}, idp, "--kubeconfig", c.Kubeconfig)
	openLive(t, term, "Applications")
	term.WaitFor("● live", wait)
	term.SendKeys("/")
	term.WaitFor("/name, project=", wait)
	term.SendKeys(short, "Enter")
	screen := term.WaitFor("filter: "+short, wait)
	if !strings.Contains(screen, name) || !strings.Contains(screen, "Synced") {
		t.Fatalf("application row missing:\n%s", screen)
	}

	livetest.WriteAppStatus(t, dyn, ns, name, livetest.AppStatus{Sync: "OutOfSync", Health: "Degraded", HealthMessage: "0/2 ready"})
	screen = term.WaitFor("Degraded", wait)
	if !strings.Contains(screen, "OutOfSync") {
		t.Errorf("sync status not updated:\n%s", screen)
	}

	term.SendKeys("Enter")
	term.WaitFor("0/2 ready", wait)
	term.SendKeys("Escape")
	term.WaitFor(" · filter: ", wait)
	term.SendKeys("q")
	if code := term.WaitExit(wait); code != 0 {
		t.Errorf("idp exited with %d", code)
	}
}

// The watch survives an API server restart: the screen says it is
// reconnecting (and that its rows may be stale) while the server is away,
// and is live again, with new changes, once it is back.
func TestApplicationsReconnectAfterAPIServerRestart(t *testing.T) {
	c := testworld.SharedCluster(t)
	livetest.ArgoCD(t, c)
	ns := c.Namespace(t)
	dyn := livetest.Dynamic(t, c.Config)
	short := ns[len(ns)-6:]
	name := "rc-" + short
	livetest.CreateApp(t, dyn, livetest.Application(ns, name, "shop", nil))
	livetest.WriteAppStatus(t, dyn, ns, name, livetest.AppStatus{Sync: "Synced", Health: "Healthy"})

	idp := testworld.IdpBinary(t)
	term := testworld.StartTerminal(t, testworld.TerminalOptions{Env: env(t)}, idp, "--kubeconfig", c.Kubeconfig)
	openLive(t, term, "Applications")
	term.WaitFor("● live", wait)
	term.SendKeys("/")
	term.WaitFor("/name, project=", wait)
	term.SendKeys(short, "Enter")
	term.WaitFor("filter: "+short, wait)

	c.StopAPIServer()
	screen := term.WaitFor("reconnecting", time.Minute)
	if !strings.Contains(screen, "reconnecting, rows may be stale") || !strings.Contains(screen, "Healthy") {
		t.Errorf("while the server is away the rows should stay, marked stale:\n%s", screen)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := c.RestartAPIServer(ctx); err != nil {
		t.Fatal(err)
	}
	term.WaitFor("● live", 2*time.Minute)
	dyn = livetest.Dynamic(t, c.Config)
	livetest.WriteAppStatus(t, dyn, ns, name, livetest.AppStatus{Sync: "OutOfSync", Health: "Degraded"})
	term.WaitFor("Degraded", wait)
	term.SendKeys("q")
	if code := term.WaitExit(wait); code != 0 {
		t.Errorf("idp exited with %d", code)
	}
}

// openLive moves the home screen's cursor to the entry titled title and
// opens it, whatever other entries the home screen lists.
func openLive(t testing.TB, term *testworld.Terminal, title string) {
	t.Helper()
	term.WaitFor(title, wait)
	for range 12 {
		screen := term.Screen()
		if strings.Contains(screen, "> "+title) {
			term.SendKeys("Enter")
			return
		}
		term.SendKeys("Down")
		deadline := time.Now().Add(wait)
		for term.Screen() == screen && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
	}
	t.Fatalf("no home entry %q:\n%s", title, term.Screen())
}
