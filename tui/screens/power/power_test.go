package power

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/back-stack/idp/platform/aks"
	"github.com/back-stack/idp/platform/aks/akstest"
	"github.com/back-stack/idp/tui/nav"
	"github.com/back-stack/idp/tui/theme"
)

var _ nav.Screen = (*Model)(nil)

var ref = aks.Ref{SubscriptionID: "sub-1", ResourceGroup: "platform", Name: "platform-aks"}

type memAuditor struct {
	mu   sync.Mutex
	recs []aks.Result
}

func (m *memAuditor) Record(_ context.Context, res aks.Result) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.recs = append(m.recs, res)
	return "0123456789abcdef", nil
}

// session is the real aks.Session on the SDK's fake server.
func session(t *testing.T, cl *akstest.Cluster, audit aks.Auditor) *aks.Session {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	return aks.NewSession(ctx, func(context.Context) (*aks.Client, aks.Auditor, error) {
		c, err := aks.NewClient(ref, akstest.Credential(), cl.ClientOptions())
		if err != nil {
			return nil, nil, err
		}
		c.PollEvery = 20 * time.Millisecond
		return c, audit, nil
	})
}

// driver runs a screen's commands concurrently, as Bubble Tea does, and feeds
// their messages back into Update on the test goroutine.
type driver struct {
	t    *testing.T
	m    *Model
	msgs chan tea.Msg
}

func newDriver(t *testing.T, m *Model) *driver {
	d := &driver{t: t, m: m, msgs: make(chan tea.Msg, 100)}
	m.SetSize(100, 30)
	d.run(m.Init())
	return d
}

func (d *driver) run(cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	go func() {
		msg := cmd()
		if batch, ok := msg.(tea.BatchMsg); ok {
			for _, c := range batch {
				d.run(c)
			}
			return
		}
		if msg != nil {
			d.msgs <- msg
		}
	}()
}

func (d *driver) press(k string) {
	code := rune(k[0])
	if k == "esc" {
		code = tea.KeyEscape
	}
	_, cmd := d.m.Update(tea.KeyPressMsg{Code: code, Text: strings.TrimPrefix(k, "esc")})
	d.run(cmd)
}

func (d *driver) view() string { return ansi.Strip(d.m.View()) }

// waitFor processes messages until the view holds text.
func (d *driver) waitFor(text string) string {
	d.t.Helper()
	deadline := time.After(15 * time.Second)
	for {
		if v := d.view(); strings.Contains(v, text) {
			return v
		}
		select {
		case msg := <-d.msgs:
			_, cmd := d.m.Update(msg)
			d.run(cmd)
		case <-deadline:
			d.t.Fatalf("%q never shown; the view:\n%s", text, d.view())
		}
	}
}

func TestShowsTheCluster(t *testing.T) {
	s := session(t, &akstest.Cluster{Power: aks.Running, Provisioning: "Succeeded"}, &memAuditor{})
	d := newDriver(t, New(context.Background(), theme.New(true), s))
	v := d.waitFor("Standard_D4s_v5")
	for _, want := range []string{"platform-aks", "Running", "Succeeded", "1.33.2", "system"} {
		if !strings.Contains(v, want) {
			t.Errorf("view lacks %q:\n%s", want, v)
		}
	}
	if got := d.m.ShortHelp()[0].Help(); got.Desc != "stop" {
		t.Errorf("p is %q on a running cluster, want stop", got.Desc)
	}
}

func TestStopConfirmProgressAndRecord(t *testing.T) {
	audit := &memAuditor{}
	cl := &akstest.Cluster{Power: aks.Running, Provisioning: "Succeeded", Steps: 4}
	s := session(t, cl, audit)
	d := newDriver(t, New(context.Background(), theme.New(true), s))
	d.waitFor("Running")

	d.press("p")
	v := d.waitFor("Stop AKS cluster platform-aks?")
	if !strings.Contains(v, "control plane") || !strings.Contains(v, "Crossplane") || !d.m.CapturesKeys() {
		t.Fatalf("confirmation does not say what stops, or esc would leave the screen:\n%s", v)
	}
	d.press("esc")
	if strings.Contains(d.view(), "Stop AKS cluster") {
		t.Fatal("esc did not cancel the confirmation")
	}
	if s.Current() != nil {
		t.Fatal("cancelled confirmation started an action")
	}

	d.press("p")
	d.press("y")
	d.waitFor("Stop of platform-aks running")
	d.waitFor("Stop of platform-aks succeeded")
	v = d.waitFor("Stopped")
	if !strings.Contains(v, "commit 01234567") {
		t.Errorf("the audit commit is not shown:\n%s", v)
	}
	if got := d.m.ShortHelp()[0].Help(); got.Desc != "start" {
		t.Errorf("p is %q on a stopped cluster, want start", got.Desc)
	}
	if len(audit.recs) != 1 || audit.recs[0].Action != aks.Stop {
		t.Errorf("audit %+v", audit.recs)
	}
}

// Leaving the screen does not cancel the action; a new screen on the same
// session shows it still running, then finished.
func TestComingBackFindsTheOperation(t *testing.T) {
	cl := &akstest.Cluster{Power: aks.Stopped, Provisioning: "Succeeded", Steps: 6}
	s := session(t, cl, &memAuditor{})
	first := New(context.Background(), theme.New(true), s)
	d := newDriver(t, first)
	d.waitFor("Stopped")
	d.press("p")
	d.press("y")
	d.waitFor("Start of platform-aks running")
	first.Close()

	d2 := newDriver(t, New(context.Background(), theme.New(true), s))
	d2.waitFor("Start of platform-aks")
	d2.waitFor("Start of platform-aks succeeded")
}

func TestErrorSaysTheNextAction(t *testing.T) {
	s := session(t, &akstest.Cluster{GetErr: 403}, &memAuditor{})
	d := newDriver(t, New(context.Background(), theme.New(true), s))
	v := d.waitFor("no permission")
	if !strings.Contains(v, "r retries") {
		t.Errorf("no retry hint:\n%s", v)
	}
	if len(d.m.ShortHelp()) != 1 {
		t.Errorf("p offered without a cluster: %v", d.m.ShortHelp())
	}
}
