package appdetail

import (
	"context"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/back-stack/idp/platform/argocd"
	"github.com/back-stack/idp/platform/environment"
	"github.com/back-stack/idp/platform/kyverno"
	"github.com/back-stack/idp/platform/watch"
	"github.com/back-stack/idp/tui/components/stream"
	"github.com/back-stack/idp/tui/internal/testenv"
	"github.com/back-stack/idp/tui/nav"
	"github.com/back-stack/idp/tui/theme"
)

type fake struct {
	app     chan argocd.Event
	events  chan watch.Event[argocd.KubeEvent]
	reports chan kyverno.Event
	synced  []string
}

func (f *fake) App(context.Context, environment.Environment, string, string) (<-chan argocd.Event, error) {
	return f.app, nil
}
func (f *fake) AppEvents(context.Context, environment.Environment, string, string) (<-chan watch.Event[argocd.KubeEvent], error) {
	return f.events, nil
}
func (f *fake) Reports(context.Context, environment.Environment) (<-chan kyverno.Event, error) {
	return f.reports, nil
}
func (f *fake) Refresh(context.Context, environment.Environment, string, string, bool) error {
	return nil
}
func (f *fake) Sync(_ context.Context, _ environment.Environment, ns, name string) error {
	f.synced = append(f.synced, ns+"/"+name)
	return nil
}

func TestDetailShowsEverySection(t *testing.T) {
	f := &fake{app: make(chan argocd.Event, 8), events: make(chan watch.Event[argocd.KubeEvent], 8), reports: make(chan kyverno.Event, 8)}
	base := argocd.App{Namespace: "argocd", Name: "web", Project: "shop", Sync: "Unknown", Health: "Unknown"}
	m := New(theme.New(true), f, base)
	m.SetSize(100, 60)
	_, cmd := m.Update(nav.EnvMsg{Env: testenv.Resolved()})
	m.Update(cmd())

	now := time.Now()
	app := base
	app.Sync, app.Health, app.HealthMessage = "OutOfSync", "Degraded", "Deployment web: 0 of 2 ready"
	app.Conditions = []argocd.Condition{{Type: "SyncError", Message: "one or more objects failed to apply"}}
	app.Operation = &argocd.Operation{Phase: "Failed", Message: "one or more objects failed to apply", StartedAt: now.Add(-time.Minute), Initiator: "dev",
		Results: []argocd.ResourceResult{{Kind: "Deployment", Namespace: "web", Name: "web", Status: "SyncFailed", Message: "image: Required value"}}}
	app.Resources = []argocd.Resource{
		{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: "web", Name: "web", Sync: "OutOfSync", Health: "Degraded"},
		{Version: "v1", Kind: "Service", Namespace: "web", Name: "web", Sync: "Synced", Health: "Healthy"},
	}
	f.app <- argocd.Event{Type: watch.Upserted, Key: "argocd/web", Object: app}
	f.app <- argocd.Event{Type: watch.StatusChanged, Status: watch.Status{State: watch.Live}}
	m.Update(stream.Read(f.app, m.gen, time.Millisecond))
	f.events <- watch.Event[argocd.KubeEvent]{Type: watch.Upserted, Key: "argocd/e1", Object: argocd.KubeEvent{Type: "Normal", Reason: "OperationStarted", Message: "dev initiated sync", Last: now}}
	m.Update(stream.Read(f.events, m.gen, time.Millisecond))
	f.reports <- kyverno.Event{Type: watch.StatusChanged, Source: "policyreports.wgpolicyk8s.io", Status: watch.Status{State: watch.Live}}
	f.reports <- kyverno.Event{Type: watch.Upserted, Source: "policyreports.wgpolicyk8s.io", Key: "web/r", Object: kyverno.Report{
		Scope:   &kyverno.Ref{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "web", Name: "web"},
		Results: []kyverno.Result{{Policy: "require-labels", Rule: "team", Result: "fail", Message: "label team is required"}},
	}}
	m.Update(stream.Read(f.reports, m.gen, time.Millisecond))

	v := ansi.Strip(m.View())
	for _, want := range []string{
		"OutOfSync", "Deployment web: 0 of 2 ready", "● live",
		"Conditions", "✗ SyncError", "one or more objects failed to apply",
		"Operation", "Failed", "Initiator", "dev", "SyncFailed", "image: Required value",
		"Resources (2)", "├─ Deployment web", "└─ Service web",
		"Policy (Kyverno)", "0 pass · 1 fail", "fail require-labels/team", "label team is required",
		"Events", "OperationStarted", "dev initiated sync",
	} {
		if !strings.Contains(v, want) {
			t.Errorf("detail lacks %q:\n%s", want, v)
		}
	}

	m.Update(tea.KeyPressMsg{Code: 'S', Text: "S"})
	if !m.CapturesKeys() || !strings.Contains(ansi.Strip(m.View()), "Sync argocd/web? y/n") {
		t.Fatalf("no confirmation:\n%s", ansi.Strip(m.View()))
	}
	_, cmd = m.Update(tea.KeyPressMsg{Code: 'y', Text: "y"})
	m.Update(cmd())
	if len(f.synced) != 1 || f.synced[0] != "argocd/web" {
		t.Fatalf("synced %v", f.synced)
	}

	f.app <- argocd.Event{Type: watch.Deleted, Key: "argocd/web", Object: app}
	m.Update(stream.Read(f.app, m.gen, time.Millisecond))
	if !strings.Contains(ansi.Strip(m.View()), "has been deleted") {
		t.Errorf("deletion not shown")
	}
	m.Close()
	old := m.gen - 1
	if _, cmd := m.Update(stream.BatchMsg[argocd.Event]{Gen: old}); cmd != nil {
		t.Error("a batch after Close re-armed the watch")
	}
}
