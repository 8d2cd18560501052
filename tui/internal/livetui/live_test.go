// Package livetui drives the whole app (teatest) against the test world's
// real API server with the real Argo CD and Crossplane CRDs.
package livetui

import (
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest/v2"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/client-go/rest"

	"github.com/back-stack/idp/internal/livetest"
	"github.com/back-stack/idp/internal/testworld"
	"github.com/back-stack/idp/platform/environment"
	"github.com/back-stack/idp/platform/kube"
	"github.com/back-stack/idp/tui"
	"github.com/back-stack/idp/tui/theme"
)

func TestMain(m *testing.M) { testworld.Main(m) }

// probe wraps the app and keeps the text of the last frame it drew, so a
// test can wait on the whole screen rather than on the renderer's diffs.
type probe struct {
	app  *tui.App
	mu   *sync.Mutex
	last *string
}

func (p probe) Init() tea.Cmd { return p.app.Init() }

func (p probe) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	m, cmd := p.app.Update(msg)
	p.app = m.(*tui.App)
	return p, cmd
}

func (p probe) View() tea.View {
	v := p.app.View()
	p.mu.Lock()
	*p.last = ansi.Strip(v.Content)
	p.mu.Unlock()
	return v
}

type session struct {
	tm *teatest.TestModel
	p  probe
}

func start(t *testing.T, cfg *rest.Config, user string) *session {
	t.Helper()
	env := environment.Environment{Kube: kube.Target{Context: "testworld", Cluster: "testworld", Server: cfg.Host, User: user}, Rest: cfg}
	p := probe{app: tui.New(tui.Options{Theme: theme.New(false), Resolve: func() environment.Environment { return env }}), mu: &sync.Mutex{}, last: new(string)}
	tm := teatest.NewTestModel(t, p,
		teatest.WithInitialTermSize(120, 40),
		teatest.WithProgramOptions(tea.WithColorProfile(colorprofile.Ascii)),
	)
	return &session{tm: tm, p: p}
}

// waitFor polls the last frame until it holds every text; a deadline, not
// a timing assertion.
func (s *session) waitFor(t *testing.T, texts ...string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		s.p.mu.Lock()
		screen := *s.p.last
		s.p.mu.Unlock()
		ok := true
		for _, x := range texts {
			ok = ok && strings.Contains(screen, x)
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%q not on screen after 30s:\n%s", texts, screen)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (s *session) keys(ks ...tea.KeyPressMsg) {
	for _, k := range ks {
		s.tm.Send(k)
	}
}

var (
	down  = tea.KeyPressMsg{Code: tea.KeyDown}
	enter = tea.KeyPressMsg{Code: tea.KeyEnter}
	esc   = tea.KeyPressMsg{Code: tea.KeyEscape}
)

func (s *session) finalView(t *testing.T) string {
	t.Helper()
	s.tm.Type("q")
	m := s.tm.FinalModel(t, teatest.WithFinalTimeout(10*time.Second))
	return ansi.Strip(m.(probe).app.View().Content)
}

// Applications and the Crossplane tree follow what the controllers write,
// with no key pressed.
func TestAppFollowsTheCluster(t *testing.T) {
	c := testworld.SharedCluster(t)
	livetest.ArgoCD(t, c)
	livetest.Crossplane(t, c)
	ns := c.Namespace(t)
	dyn := livetest.Dynamic(t, c.Config)
	app := "tui-" + ns
	livetest.CreateApp(t, dyn, livetest.Application(ns, app, "shop", nil))
	livetest.WriteAppStatus(t, dyn, ns, app, livetest.AppStatus{Sync: "Synced", Health: "Healthy"})

	s := start(t, c.Config, "dev")
	s.waitFor(t, "Applications")
	s.keys(down, enter)
	s.waitFor(t, "● live")
	s.tm.Type("/" + ns)
	s.keys(enter)
	s.waitFor(t, "filter: "+ns)

	livetest.WriteAppStatus(t, dyn, ns, app, livetest.AppStatus{Sync: "OutOfSync", Health: "Degraded", HealthMessage: "Deployment web: 0 of 2 replicas ready",
		Conditions: []map[string]any{{"type": "SyncError", "message": "one or more objects failed to apply"}}})
	s.waitFor(t, "Degraded", "OutOfSync")
	s.keys(enter)
	s.waitFor(t, "0 of 2 replicas ready")

	// Sync from the detail view, confirmed first.
	s.tm.Type("S")
	s.waitFor(t, "y/n")
	s.tm.Type("y")
	s.waitFor(t, "requested")

	s.keys(esc, esc)
	s.waitFor(t, "Crossplane")
	s.keys(down, enter)
	s.waitFor(t, "trees")
	livetest.Create(t, dyn, livetest.XPostgreSQLs, livetest.Object(livetest.XPostgreSQLs, "XPostgreSQL", ns, "tui-db", map[string]any{"size": "small"}))
	livetest.SetRefs(t, dyn, livetest.XPostgreSQLs, ns, "tui-db", []any{livetest.Ref("dbforpostgresql.azure.m.upbound.io/v1beta1", "FlexibleServer", "", "tui-db-server")}, "spec", "crossplane", "resourceRefs")
	livetest.Create(t, dyn, livetest.FlexibleServers, livetest.Object(livetest.FlexibleServers, "FlexibleServer", ns, "tui-db-server", map[string]any{"forProvider": map[string]any{}}))
	livetest.SetConditions(t, dyn, livetest.FlexibleServers, ns, "tui-db-server", livetest.Cond("Synced", "False", "ReconcileError", "QuotaExceeded in westeurope"), livetest.Cond("Ready", "False", "Creating", ""))
	s.waitFor(t, "QuotaExceeded in westeurope")

	view := s.finalView(t)
	for _, want := range []string{"not ready: FlexibleServer " + ns + "/tui-db-server", "XPostgreSQL " + ns + "/tui-db (composite)", "Synced=False (ReconcileError)"} {
		if !strings.Contains(view, want) {
			t.Errorf("crossplane view lacks %q:\n%s", want, view)
		}
	}
}

// A user whose RBAC forbids one kind of XR sees it marked forbidden on the
// Crossplane screen while the applications still load.
func TestForbiddenXRsWhileApplicationsWork(t *testing.T) {
	c := testworld.SharedCluster(t)
	livetest.ArgoCD(t, c)
	livetest.Crossplane(t, c)
	ns := c.Namespace(t)
	dyn := livetest.Dynamic(t, c.Config)
	app := "rbac-" + ns
	livetest.CreateApp(t, dyn, livetest.Application(ns, app, "shop", nil))
	cfg := livetest.Restricted(t, c, "tui-reader-"+ns, []rbacv1.PolicyRule{
		{APIGroups: []string{"argoproj.io"}, Resources: []string{"applications"}, Verbs: []string{"get", "list", "watch"}},
		{APIGroups: []string{"apiextensions.crossplane.io"}, Resources: []string{"compositeresourcedefinitions"}, Verbs: []string{"get", "list", "watch"}},
	})

	s := start(t, cfg, "reader")
	s.waitFor(t, "Crossplane")
	s.keys(down, down, enter)
	s.waitFor(t, "forbidden: XPostgreSQL.db.example.org")
	s.keys(esc)
	s.keys(tea.KeyPressMsg{Code: tea.KeyUp}, enter)
	s.waitFor(t, "sort: name")
	s.tm.Type("/" + ns)
	s.keys(enter)
	s.waitFor(t, "filter: "+ns)
	view := s.finalView(t)
	if !strings.Contains(view, "1 of ") || !strings.Contains(view, "rbac-") || !strings.Contains(view, "● live") {
		t.Errorf("applications do not work for the restricted user:\n%s", view)
	}
}
