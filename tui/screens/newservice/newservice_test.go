package newservice

import (
	"context"
	"errors"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/back-stack/idp/assets"
	"github.com/back-stack/idp/platform/scaffold"
	"github.com/back-stack/idp/platform/templates"
	"github.com/back-stack/idp/tui/nav"
	"github.com/back-stack/idp/tui/theme"
)

func goService(t *testing.T) *templates.Template {
	t.Helper()
	var c templates.Catalog
	if err := c.LoadFS(assets.Templates(), ".", templates.BuiltinSource); err != nil {
		t.Fatal(err)
	}
	tpl, err := c.Get("go-service")
	if err != nil {
		t.Fatal(err)
	}
	return tpl
}

func TestAnswers(t *testing.T) {
	a := newAnswers(goService(t))
	v := a.values()
	if v["port"] != int64(8080) || v["owner"] != "team-a" || v["database"] != false || v["syncPolicy"] != "automated" {
		t.Errorf("defaults %v", v)
	}
	if _, ok := v["name"]; ok {
		t.Error("an empty name counts as an answer")
	}
	for _, tc := range []struct{ field, text, want string }{
		{"name", "", "is required"},
		{"name", "Pay", "must match the pattern"},
		{"name", "pay-", "must match the pattern"},
		{"name", "payments-api", ""},
		{"port", "80", "at least 1024"},
		{"port", "http", "not a whole number"},
		{"replicas", "", ""},
	} {
		err := a.validate(tc.field, tc.text)
		if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("validate(%s, %q) = %v; want %q", tc.field, tc.text, err, tc.want)
		}
	}
	a.byKey["database"].flag = true
	a.byKey["dbSize"].text = "large"
	if v := a.values(); v["dbSize"] != "large" || v["database"] != true {
		t.Errorf("with a database %v", v)
	}
	page := goService(t).Pages[2]
	if !branchShown(page, []string{"dbSize", "dbVersion"}, a.values()) {
		t.Error("the database fields are hidden with database=true")
	}
	a.byKey["database"].flag = false
	if branchShown(page, []string{"dbSize", "dbVersion"}, a.values()) {
		t.Error("the database fields show with database=false")
	}
}

type cannedService struct{ err error }

func (s cannedService) Catalog(context.Context) (*templates.Catalog, error) {
	if s.err != nil {
		return nil, s.err
	}
	var c templates.Catalog
	return &c, c.LoadFS(assets.Templates(), ".", templates.BuiltinSource)
}
func (s cannedService) Prepare(context.Context, scaffold.Request) (*scaffold.Proposal, error) {
	return nil, s.err
}
func (s cannedService) Apply(context.Context, *scaffold.Proposal) (*scaffold.Result, error) {
	return nil, s.err
}

// Results of an older generation are dropped before they touch the state.
func TestStaleResultsAreDropped(t *testing.T) {
	m := New(context.Background(), theme.New(true), cannedService{})
	msg := m.Init()()
	m.Update(msg)
	if m.state != statePicking || len(m.catalog.Templates) != 3 {
		t.Fatalf("state %v", m.state)
	}
	m.tpl = m.catalog.Templates[0]
	m.answers = newAnswers(m.tpl)
	m.openForm()
	old := m.gen
	m.openForm() // the user edited again: a newer form
	m.Update(formSubmittedMsg{gen: old})
	if m.state != stateFilling {
		t.Errorf("a stale submit moved the state to %v", m.state)
	}
	m.Update(preparedMsg{gen: old, p: &scaffold.Proposal{}})
	if m.proposal != nil {
		t.Error("a stale proposal was shown")
	}
	if !m.CapturesKeys() {
		t.Error("the form does not capture keys")
	}
	m.Close()
	if m.ctx.Err() == nil {
		t.Error("Close did not cancel the screen's context")
	}
}

func TestCatalogErrorIsShown(t *testing.T) {
	m := New(context.Background(), theme.New(true), cannedService{err: errors.New("templates /x: no template.yaml")})
	_, cmd := m.Update(m.Init()())
	if e, ok := cmd().(nav.ErrMsg); !ok || !strings.Contains(e.Error(), "no template.yaml") {
		t.Errorf("error message %v", cmd())
	}
	if !strings.Contains(m.View(), "No templates: templates /x") {
		t.Errorf("view %q", m.View())
	}
}

type watchScreen struct {
	nav.Screen
	service string
}

// After a service is created, w opens the live view of it; a dry run has
// nothing to watch.
func TestWatchTheCreatedService(t *testing.T) {
	var opened []string
	m := New(context.Background(), theme.New(true), cannedService{}).WithWatch(func(service string) nav.Screen {
		opened = append(opened, service)
		return watchScreen{service: service}
	})
	m.state, m.result = stateDone, &scaffold.Result{Service: "payments-api"}
	if got := m.ShortHelp()[0].Help().Key; got != "w" {
		t.Fatalf("footer starts with %q, want w", got)
	}
	cmd := m.handleKey(tea.KeyPressMsg{Code: 'w', Text: "w"})
	if cmd == nil {
		t.Fatal("w did nothing")
	}
	push, ok := cmd().(nav.PushMsg)
	if !ok || push.Screen.(watchScreen).service != "payments-api" || len(opened) != 1 {
		t.Fatalf("w gave %#v, opened %v", push, opened)
	}

	m.result = &scaffold.Result{Service: "payments-api", DryRun: true}
	if cmd := m.handleKey(tea.KeyPressMsg{Code: 'w', Text: "w"}); cmd != nil || len(opened) != 1 {
		t.Error("a dry run offered something to watch")
	}
}
