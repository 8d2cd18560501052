package newservice_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/back-stack/idp/assets"
	"github.com/back-stack/idp/platform/forge"
	"github.com/back-stack/idp/platform/scaffold"
	"github.com/back-stack/idp/platform/templates"
	"github.com/back-stack/idp/tui"
	"github.com/back-stack/idp/tui/internal/testenv"
	"github.com/back-stack/idp/tui/nav"
	"github.com/back-stack/idp/tui/screens/newservice"
	"github.com/back-stack/idp/tui/theme"
)

// fakeService stands in for platform/scaffold: the real built-in catalog
// and template runs, with the Git side recorded instead of done.
type fakeService struct {
	mu       sync.Mutex
	prepared []scaffold.Request
	applied  []*scaffold.Proposal
}

func (f *fakeService) Catalog(context.Context) (*templates.Catalog, error) {
	var c templates.Catalog
	return &c, c.LoadFS(assets.Templates(), ".", templates.BuiltinSource)
}

func (f *fakeService) Prepare(ctx context.Context, req scaffold.Request) (*scaffold.Proposal, error) {
	f.mu.Lock()
	f.prepared = append(f.prepared, req)
	f.mu.Unlock()
	if req.Values["name"] == "taken" {
		return nil, errors.New("service taken already exists in the GitOps repository")
	}
	cat, _ := f.Catalog(ctx)
	tpl, err := cat.Get(req.Template)
	if err != nil {
		return nil, err
	}
	plan, err := tpl.Execute(req.Values, templates.Env{Repo: func(_, n string) (string, string) { return "https://git.example.com/" + n + ".git", "" }})
	if err != nil {
		return nil, err
	}
	app, _ := scaffold.ApplicationManifest(plan.Application, tpl.Name, scaffold.Options{})
	return &scaffold.Proposal{
		Request: req, Service: plan.Application.Name, Plan: plan,
		Repo:         forge.Repo{CloneURL: plan.Repo.CloneURL},
		GitOpsFiles:  []templates.File{{Path: scaffold.ApplicationPath(plan.Application.Name), Content: app}},
		ChangePolicy: "direct", Branch: "main", Message: "New service",
		Diff: "+++ b/" + scaffold.ApplicationPath(plan.Application.Name) + "\n+" + strings.ReplaceAll(strings.TrimSpace(string(app)), "\n", "\n+"),
	}, nil
}

func (f *fakeService) Apply(_ context.Context, p *scaffold.Proposal) (*scaffold.Result, error) {
	f.mu.Lock()
	f.applied = append(f.applied, p)
	f.mu.Unlock()
	return &scaffold.Result{Service: p.Service, Repository: scaffold.RepositoryResult{URL: p.Repo.CloneURL, Branch: "main", Commit: "0123456789abcdef"},
		GitOps: scaffold.GitOpsResult{Branch: "main", Commit: "fedcba9876543210", Paths: []string{scaffold.ApplicationPath(p.Service)}}}, nil
}

func waitFor(t *testing.T, tm *teatest.TestModel, text string) {
	t.Helper()
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return bytes.Contains(ansiStrip(b), []byte(text)) },
		teatest.WithDuration(10*time.Second), teatest.WithCheckInterval(10*time.Millisecond))
}

func ansiStrip(b []byte) []byte { return []byte(ansi.Strip(string(b))) }

func keys(tm *teatest.TestModel, ks ...tea.KeyPressMsg) {
	for _, k := range ks {
		tm.Send(k)
	}
}

var (
	enter    = tea.KeyPressMsg{Code: tea.KeyEnter}
	shiftTab = tea.KeyPressMsg{Code: tea.KeyTab, Mod: tea.ModShift}
)

func typeText(tm *teatest.TestModel, s string) {
	for _, r := range s {
		tm.Send(tea.KeyPressMsg{Code: r, Text: string(r)})
	}
}

// The whole flow in the app: pick go-service, fill the first page, go
// forward and back (the answers stay), ask for a database, see the
// preview, create; then a taken name comes back to the form with the
// error shown.
func TestNewServiceFlow(t *testing.T) {
	svc := &fakeService{}
	th := theme.New(false)
	tm := teatest.NewTestModel(t, tui.New(tui.Options{Theme: th, Resolve: testenv.Resolved}),
		teatest.WithInitialTermSize(120, 40),
		teatest.WithProgramOptions(tea.WithColorProfile(colorprofile.Ascii)),
	)
	screen := newservice.New(context.Background(), th, svc)
	tm.Send(nav.PushMsg{Screen: screen})
	waitFor(t, tm, "Choose a golden path")
	keys(tm, enter) // go-service, the first
	waitFor(t, tm, "Name *")
	typeText(tm, "payments-api")
	keys(tm, enter, enter, enter, enter) // description, owner, port: defaults
	waitFor(t, tm, "Replicas")
	keys(tm, shiftTab) // back to the first page: the name is still there
	waitFor(t, tm, "payments-api")
	keys(tm, enter)
	waitFor(t, tm, "Replicas")
	keys(tm, enter, enter, enter, enter, enter) // namespace, replicas, image, project, sync policy
	waitFor(t, tm, "PostgreSQL database")
	typeText(tm, "y") // yes, and on to the database's own fields
	waitFor(t, tm, "PostgreSQL version")
	keys(tm, tea.KeyPressMsg{Code: tea.KeyDown}, enter, enter) // medium, version 16
	waitFor(t, tm, "GitOps change")
	keys(tm, enter)
	waitFor(t, tm, "Created payments-api")
	keys(tm, enter) // back home
	waitFor(t, tm, "Environment")

	// A name the platform already has: the error line says so and the form
	// is back with the answers.
	tm.Send(nav.PushMsg{Screen: newservice.New(context.Background(), th, svc)})
	waitFor(t, tm, "Choose a golden path")
	keys(tm, enter)
	waitFor(t, tm, "Name *")
	typeText(tm, "taken")
	for range 12 { // through every page; no database this time
		keys(tm, enter)
	}
	waitFor(t, tm, "already exists")
	tm.Send(tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl})
	tm.WaitFinished(t, teatest.WithFinalTimeout(10*time.Second))

	svc.mu.Lock()
	defer svc.mu.Unlock()
	if len(svc.prepared) != 2 || len(svc.applied) != 1 {
		t.Fatalf("prepared %d, applied %d", len(svc.prepared), len(svc.applied))
	}
	v := svc.prepared[0].Values
	if v["name"] != "payments-api" || v["database"] != true || v["dbSize"] != "medium" || v["dbVersion"] != "16" || v["port"] != int64(8080) || v["owner"] != "team-a" {
		t.Errorf("answers %v", v)
	}
	if p := svc.applied[0]; p.Plan.Database == nil || p.Plan.Database.Size != "medium" {
		t.Errorf("applied %+v", p.Plan.Database)
	}
	if svc.prepared[1].Values["database"] != false {
		t.Errorf("second run %v", svc.prepared[1].Values)
	}
}
