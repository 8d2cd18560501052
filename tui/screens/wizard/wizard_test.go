package wizard

import (
	"context"
	"errors"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/back-stack/idp/platform/platformconfig"
	"github.com/back-stack/idp/tui/nav"
	"github.com/back-stack/idp/tui/theme"
)

// Screen tests without a Program: the model with fakes, Update by hand,
// the returned Cmds run by the test.

func full() platformconfig.Config {
	c := platformconfig.Defaults()
	c.Name = "acme"
	c.Azure.SubscriptionID = "00000000-0000-0000-0000-000000000001"
	c.Azure.TenantID = "00000000-0000-0000-0000-000000000002"
	c.Azure.Location = "uksouth"
	c.Azure.ACR.Name = "acmeplatform"
	c.Azure.AKS.NodeCount = 7
	c.GitOps.URL = "https://github.com/acme/gitops.git"
	c.GitOps.Changes = platformconfig.ChangePullRequest
	c.Crossplane.API = platformconfig.CrossplaneV1
	return c
}

// Every field survives answers -> Config, including what the form does not
// ask (the Crossplane API style).
func TestAnswersRoundTrip(t *testing.T) {
	c := full()
	m := New(Options{Theme: theme.New(true), Initial: c})
	if got := m.Config(); !reflect.DeepEqual(got, c) {
		t.Errorf("Config of the initial answers:\n got %+v\nwant %+v", got, c)
	}
	m.a.nodeCount = "twelve"
	if got := m.Config().Azure.AKS.NodeCount; got != 0 {
		t.Errorf("a node count that does not parse became %d", got)
	}

	// An empty Initial is the defaults, with an ACR name suggested.
	m = New(Options{Theme: theme.New(true)})
	got, want := m.Config(), platformconfig.Defaults()
	want.Azure.ACR.Name = platformconfig.SuggestACRName("", want.Azure.ResourceGroup, "")
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Config from nothing:\n got %+v\nwant %+v", got, want)
	}
	if err := platformconfig.ValidateACRName(got.Azure.ACR.Name); err != nil {
		t.Error(err)
	}
}

// The suggested registry name follows the answers it derives from until the
// user types one; a name from Initial is never replaced.
func TestACRSuggestionFollowsAnswers(t *testing.T) {
	m := New(Options{Theme: theme.New(true), Initial: platformconfig.Defaults()})
	m.Init()
	m.a.subscription, m.a.resourceGroup, m.a.name = "s", "rg-acme", "acme"
	m.refreshACR()
	want := platformconfig.SuggestACRName("s", "rg-acme", "acme")
	if m.a.acr != want || m.inputs[fieldACR].GetValue() != want {
		t.Fatalf("acr answer %q, input %q, want %q", m.a.acr, m.inputs[fieldACR].GetValue(), want)
	}
	m.a.acr = "mine1" // typed by the user
	m.a.resourceGroup = "rg-other"
	m.refreshACR()
	if m.a.acr != "mine1" {
		t.Errorf("the user's ACR name was replaced by %q", m.a.acr)
	}

	m = New(Options{Theme: theme.New(true), Initial: full()})
	m.Init()
	m.a.resourceGroup = "rg-other"
	m.refreshACR()
	if m.a.acr != "acmeplatform" {
		t.Errorf("the ACR name from Initial was replaced by %q", m.a.acr)
	}
}

// Prefill fills only what is still empty, and the inputs show it.
func TestPrefillFillsOnlyEmptyAnswers(t *testing.T) {
	initial := platformconfig.Defaults()
	initial.Azure.TenantID = "00000000-0000-0000-0000-00000000000a"
	calls := 0
	m := New(Options{Theme: theme.New(true), Initial: initial, Prefill: func() (string, string) {
		calls++
		return "00000000-0000-0000-0000-000000000001", "00000000-0000-0000-0000-000000000002"
	}})
	for _, msg := range runAll(m.Init()) {
		m.Update(msg)
	}
	if calls != 1 {
		t.Fatalf("Prefill ran %d times", calls)
	}
	if m.a.subscription != "00000000-0000-0000-0000-000000000001" || m.inputs[fieldSubscription].GetValue() != m.a.subscription {
		t.Errorf("subscription %q, input %v", m.a.subscription, m.inputs[fieldSubscription].GetValue())
	}
	if m.a.tenant != initial.Azure.TenantID {
		t.Errorf("Prefill replaced the given tenant with %q", m.a.tenant)
	}
	if m.a.acr != platformconfig.SuggestACRName(m.a.subscription, m.a.resourceGroup, "") {
		t.Errorf("the ACR suggestion did not follow the prefilled subscription: %q", m.a.acr)
	}
	// Reopened, it does not ask az again.
	m.Close()
	runAll(m.Init())
	if calls != 1 {
		t.Errorf("Prefill ran %d times", calls)
	}
}

// runAll runs a Cmd and the batches and sequences in it, except the ones
// that block (huh's cursor blink), and returns the messages.
func runAll(cmd tea.Cmd) []tea.Msg {
	if cmd == nil {
		return nil
	}
	done := make(chan tea.Msg, 1)
	go func() { done <- cmd() }()
	var msg tea.Msg
	select {
	case msg = <-done:
	case <-timeout():
		return nil
	}
	switch msg := msg.(type) {
	case tea.BatchMsg:
		var out []tea.Msg
		for _, c := range msg {
			out = append(out, runAll(c)...)
		}
		return out
	case nil:
		return nil
	}
	return []tea.Msg{msg}
}

// Going back to the form while the plan runs cancels it, and its result,
// from an older generation, is dropped; leaving the screen cancels it too.
func TestStalePlanIsCancelledAndDropped(t *testing.T) {
	planned := make(chan error, 1)
	m := New(Options{Theme: theme.New(true), Initial: full(), Plan: func(ctx context.Context, _ platformconfig.Config) ([]string, error) {
		<-ctx.Done()
		planned <- ctx.Err()
		return nil, ctx.Err()
	}})
	m.Init()
	m.SetSize(80, 30)
	_, cmd := m.Update(formSubmittedMsg{gen: m.gen})
	if m.state != statePlanning || cmd == nil {
		t.Fatalf("state %v after submit", m.state)
	}
	old := m.gen
	m.handleKey(tea.KeyPressMsg{Code: 'e', Text: "e"}) // back to the form while planning
	if m.state != stateFilling || !m.CapturesKeys() {
		t.Fatalf("state %v after e", m.state)
	}
	msg := cmd()
	if err := <-planned; !errors.Is(err, context.Canceled) {
		t.Errorf("the plan's context: %v", err)
	}
	m.Update(msg)
	if pm := msg.(plannedMsg); pm.gen != old || m.state != stateFilling || m.planErr != nil {
		t.Errorf("a stale plan result changed the screen: state %v err %v", m.state, m.planErr)
	}

	// Leaving the screen cancels a plan under way.
	_, cmd = m.Update(formSubmittedMsg{gen: m.gen})
	m.Close()
	cmd()
	if err := <-planned; !errors.Is(err, context.Canceled) {
		t.Errorf("the plan's context after Close: %v", err)
	}
}

// The summary: start only after a good plan; r plans again after a failed
// one; Start returning nil closes the wizard; no Plan or no Start.
func TestSummaryKeys(t *testing.T) {
	var started []platformconfig.Config
	fail := true
	m := New(Options{Theme: theme.New(true), Initial: full(),
		Plan: func(context.Context, platformconfig.Config) ([]string, error) {
			if fail {
				return nil, errors.New("no route to github.com")
			}
			return []string{"step one"}, nil
		},
		Start: func(cfg platformconfig.Config) nav.Screen { started = append(started, cfg); return nil },
	})
	m.Init()
	m.SetSize(80, 60)
	_, cmd := m.Update(formSubmittedMsg{gen: m.gen})
	m.Update(cmd())
	enter := tea.KeyPressMsg{Code: tea.KeyEnter}
	if m.state != stateSummary || m.planErr == nil || m.CapturesKeys() {
		t.Fatalf("state %v err %v", m.state, m.planErr)
	}
	if !strings.Contains(m.View(), "no route to github.com") || !strings.Contains(m.View(), "r to plan again") {
		t.Errorf("view:\n%s", m.View())
	}
	if cmd := m.handleKey(enter); cmd != nil || len(started) != 0 {
		t.Error("enter started after a failed plan")
	}
	fail = false
	cmd = m.handleKey(tea.KeyPressMsg{Code: 'r', Text: "r"})
	if m.state != statePlanning || cmd == nil {
		t.Fatalf("r: state %v", m.state)
	}
	m.Update(cmd())
	if m.planErr != nil || !strings.Contains(m.View(), "step one") {
		t.Fatalf("after r: err %v view\n%s", m.planErr, m.View())
	}
	if got := m.ShortHelp()[0].Help().Key; got != "enter" {
		t.Errorf("the footer starts with %q", got)
	}
	cmd = m.handleKey(enter)
	if _, ok := cmd().(nav.PopMsg); !ok || len(started) != 1 || !reflect.DeepEqual(started[0], full()) {
		t.Errorf("start: %d calls %+v", len(started), started)
	}
	if cmd := m.handleKey(enter); cmd != nil || !strings.Contains(ansi.Strip(m.View()), "was started") {
		t.Errorf("a second enter starts a second run (%v):\n%s", cmd, m.View())
	}

	// Without Plan the answers are the summary; without Start there is
	// nothing to start.
	m = New(Options{Theme: theme.New(true), Initial: full()})
	m.Init()
	m.SetSize(80, 60)
	_, cmd = m.Update(formSubmittedMsg{gen: m.gen})
	m.Update(cmd())
	if m.state != stateSummary || m.planErr != nil || m.handleKey(enter) != nil {
		t.Errorf("no Plan, no Start: state %v err %v", m.state, m.planErr)
	}
	if strings.Contains(m.View(), "enter to start") {
		t.Errorf("offers a start it does not have:\n%s", m.View())
	}
}

// A configuration the form cannot fix on its own (an Initial the form
// does not fully ask) is caught before Plan is asked.
func TestSummaryValidatesTheWholeConfig(t *testing.T) {
	initial := full()
	initial.Crossplane.API = "v3"
	called := false
	m := New(Options{Theme: theme.New(true), Initial: initial, Plan: func(context.Context, platformconfig.Config) ([]string, error) {
		called = true
		return nil, nil
	}})
	m.Init()
	m.SetSize(80, 30)
	_, cmd := m.Update(formSubmittedMsg{gen: m.gen})
	m.Update(cmd())
	if called || m.planErr == nil || !strings.Contains(m.View(), `crossplane.api is "v3"`) {
		t.Errorf("called %v err %v", called, m.planErr)
	}
}

var colour = regexp.MustCompile(`\x1b\[[0-9;]*(3[0-9]|4[0-9]|9[0-7]|10[0-7])[;m]`)

// NO_COLOR: neither the form nor the summary sets a colour.
func TestNoColor(t *testing.T) {
	m := New(Options{Theme: theme.New(true), Initial: full(), Plan: func(context.Context, platformconfig.Config) ([]string, error) {
		return nil, errors.New("boom")
	}})
	m.Init()
	m.SetSize(60, 12)
	m.a.acr = "bad-name"
	m.syncInput(fieldACR, &m.a.acr)
	if v := m.View(); colour.MatchString(v) {
		t.Errorf("the form has colour: %q", v)
	}
	_, cmd := m.Update(formSubmittedMsg{gen: m.gen})
	m.Update(cmd())
	if v := m.View(); colour.MatchString(v) || !strings.Contains(v, "acr.name") {
		t.Errorf("the summary: %q", v)
	}
	// The colour theme does colour, so the check above can fail.
	m = New(Options{Theme: theme.New(false), Initial: full()})
	m.Init()
	m.SetSize(60, 12)
	if !colour.MatchString(m.View()) {
		t.Error("the colour check sees no colour in the colour theme")
	}
}

func timeout() <-chan time.Time { return time.After(200 * time.Millisecond) }
