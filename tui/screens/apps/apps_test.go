package apps

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/back-stack/idp/platform/argocd"
	"github.com/back-stack/idp/platform/environment"
	"github.com/back-stack/idp/platform/watch"
	"github.com/back-stack/idp/tui/components/stream"
	"github.com/back-stack/idp/tui/internal/testenv"
	"github.com/back-stack/idp/tui/nav"
	"github.com/back-stack/idp/tui/theme"
)

// fakeSource hands out channels the test feeds, and records actions.
type fakeSource struct {
	chans   []chan argocd.Event
	ctxs    []context.Context
	actions []string
	failing error
}

func (f *fakeSource) Apps(ctx context.Context, _ environment.Environment) (<-chan argocd.Event, error) {
	ch := make(chan argocd.Event, 100)
	f.chans = append(f.chans, ch)
	f.ctxs = append(f.ctxs, ctx)
	return ch, nil
}

func (f *fakeSource) Refresh(_ context.Context, _ environment.Environment, ns, name string, hard bool) error {
	f.actions = append(f.actions, fmt.Sprintf("refresh %s/%s hard=%v", ns, name, hard))
	return f.failing
}

func (f *fakeSource) Sync(_ context.Context, _ environment.Environment, ns, name string) error {
	f.actions = append(f.actions, "sync "+ns+"/"+name)
	return f.failing
}

func press(s string) tea.KeyPressMsg {
	switch s {
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	case "down":
		return tea.KeyPressMsg{Code: tea.KeyDown}
	case "tab":
		return tea.KeyPressMsg{Code: tea.KeyTab}
	}
	r := []rune(s)[0]
	return tea.KeyPressMsg{Code: r, Text: s}
}

func typeText(t *testing.T, m *Model, s string) {
	t.Helper()
	for _, r := range s {
		m.Update(press(string(r)))
	}
}

// started builds the screen, delivers the environment and runs the start
// command, returning the channel the screen reads.
func started(t *testing.T, src *fakeSource) (*Model, chan argocd.Event) {
	t.Helper()
	m := New(Options{Theme: theme.New(true), Source: src, Detail: func(a argocd.App) nav.Screen { return nil }})
	m.SetSize(120, 20)
	_, cmd := m.Update(nav.EnvMsg{Env: testenv.Resolved()})
	if cmd == nil {
		t.Fatal("EnvMsg started nothing")
	}
	m.Update(cmd())
	return m, src.chans[len(src.chans)-1]
}

func app(ns, name, project, sync, health string) argocd.App {
	return argocd.App{Namespace: ns, Name: name, Project: project, Sync: sync, Health: health, Labels: map[string]string{"team": project}}
}

func upsert(a argocd.App) argocd.Event {
	return argocd.Event{Type: watch.Upserted, Key: a.Key(), Object: a}
}

func status(s watch.State) argocd.Event {
	return argocd.Event{Type: watch.StatusChanged, Source: argocd.Spec("").String(), Status: watch.Status{State: s, Err: errors.New("boom"), LastLive: time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)}}
}

// deliver sends events on ch and feeds the resulting batch to m.
func deliver(t *testing.T, m *Model, ch chan argocd.Event, evs ...argocd.Event) {
	t.Helper()
	for _, ev := range evs {
		ch <- ev
	}
	m.Update(stream.Read(ch, m.Gen(), time.Millisecond))
}

func names(m *Model) string {
	var out []string
	for _, a := range m.Rows() {
		out = append(out, a.Name)
	}
	return strings.Join(out, ",")
}

func TestTableFollowsEvents(t *testing.T) {
	src := &fakeSource{}
	m, ch := started(t, src)
	if v := ansi.Strip(m.View()); !strings.Contains(v, "Loading applications") {
		t.Fatalf("before events:\n%s", v)
	}
	deliver(t, m, ch, upsert(app("a", "web", "shop", "Synced", "Healthy")), upsert(app("a", "api", "shop", "OutOfSync", "Degraded")), status(watch.Live))
	if got := names(m); got != "api,web" {
		t.Fatalf("rows %s", got)
	}
	v := ansi.Strip(m.View())
	for _, want := range []string{"2 applications", "● live", "NAME", "HEALTH", "OutOfSync", "Degraded"} {
		if !strings.Contains(v, want) {
			t.Errorf("view lacks %q:\n%s", want, v)
		}
	}
	changed := app("a", "web", "shop", "Synced", "Progressing")
	deliver(t, m, ch, upsert(changed), argocd.Event{Type: watch.Deleted, Key: "a/api", Object: app("a", "api", "", "", "")})
	if got := names(m); got != "web" || m.Rows()[0].Health != "Progressing" {
		t.Fatalf("after update and delete: %s %+v", got, m.Rows())
	}
}

// A batch from a replaced watch (older generation) is dropped.
func TestStaleGenerationDropped(t *testing.T) {
	src := &fakeSource{}
	m, ch := started(t, src)
	old := m.Gen()
	ch <- upsert(app("a", "old", "p", "Synced", "Healthy"))
	batch := stream.Read(ch, old, time.Millisecond)

	env := testenv.Resolved()
	env.Kube.Context = "other"
	_, cmd := m.Update(nav.EnvMsg{Env: env})
	m.Update(cmd())
	if src.ctxs[0].Err() == nil {
		t.Error("the old watch's context was not cancelled")
	}
	if _, cmd := m.Update(batch); cmd != nil || len(m.Rows()) != 0 {
		t.Fatalf("stale batch applied: rows %s, cmd %v", names(m), cmd != nil)
	}
	deliver(t, m, src.chans[1], upsert(app("b", "new", "p", "Synced", "Healthy")))
	if names(m) != "new" {
		t.Fatalf("rows %s", names(m))
	}
}

func TestReconnectingMarksRowsStale(t *testing.T) {
	src := &fakeSource{}
	m, ch := started(t, src)
	deliver(t, m, ch, upsert(app("a", "web", "shop", "Synced", "Healthy")), status(watch.Live), status(watch.Reconnecting))
	v := ansi.Strip(m.View())
	if !strings.Contains(v, "reconnecting") || !strings.Contains(v, "may be stale") || !strings.Contains(v, "web") {
		t.Fatalf("reconnecting view:\n%s", v)
	}
	deliver(t, m, ch, argocd.Event{Type: watch.StatusChanged, Source: argocd.Spec("").String(), Status: watch.Status{State: watch.Live}})
	if v := ansi.Strip(m.View()); strings.Contains(v, "reconnecting") || !strings.Contains(v, "● live") {
		t.Fatalf("after reconnect:\n%s", v)
	}
}

func TestForbiddenIsShown(t *testing.T) {
	src := &fakeSource{}
	m, ch := started(t, src)
	deliver(t, m, ch, status(watch.Forbidden))
	if v := ansi.Strip(m.View()); !strings.Contains(v, "Forbidden") || !strings.Contains(v, "boom") {
		t.Fatalf("forbidden view:\n%s", v)
	}
}

// When listing every namespace is forbidden, the namespaces that could be
// read are shown as such.
func TestNamespaceFallbackIsNamed(t *testing.T) {
	src := &fakeSource{}
	m, ch := started(t, src)
	deliver(t, m, ch, status(watch.Forbidden),
		argocd.Event{Type: watch.StatusChanged, Source: argocd.Spec("team-a").String(), Status: watch.Status{State: watch.Live}},
		upsert(app("team-a", "web", "shop", "Synced", "Healthy")))
	v := ansi.Strip(m.View())
	if !strings.Contains(v, "● live in team-a only: listing every namespace is forbidden") || !strings.Contains(v, "web") {
		t.Fatalf("view:\n%s", v)
	}
}

func TestFilterAndSort(t *testing.T) {
	src := &fakeSource{}
	m, ch := started(t, src)
	deliver(t, m, ch,
		upsert(app("a", "web", "shop", "Synced", "Healthy")),
		upsert(app("a", "api", "shop", "OutOfSync", "Degraded")),
		upsert(app("b", "billing", "finance", "Synced", "Progressing")),
		status(watch.Live))

	m.Update(press("/"))
	if !m.CapturesKeys() {
		t.Fatal("filter does not capture keys")
	}
	typeText(t, m, "project=shop")
	if names(m) != "api,web" {
		t.Fatalf("project filter: %s", names(m))
	}
	m.Update(press("enter"))
	if m.CapturesKeys() {
		t.Fatal("enter did not close the filter")
	}
	if v := ansi.Strip(m.View()); !strings.Contains(v, "2 of 3 applications · filter: project=shop") {
		t.Errorf("status line:\n%s", v)
	}
	m.Update(press("/"))
	m.Update(press("esc"))
	if names(m) != "api,billing,web" {
		t.Fatalf("esc did not clear the filter: %s", names(m))
	}
	m.SetFilter("team=finance")
	if names(m) != "billing" {
		t.Fatalf("label filter: %s", names(m))
	}
	m.SetFilter("")

	m.Update(press("s"))
	if names(m) != "api,billing,web" || !strings.Contains(ansi.Strip(m.View()), "sort: health") {
		t.Fatalf("health sort: %s", names(m))
	}
	m.Update(press("s"))
	if names(m) != "api,billing,web" || !strings.Contains(ansi.Strip(m.View()), "sort: sync") {
		t.Fatalf("sync sort: %s", names(m))
	}
}

// The cursor stays on the same application when rows move around it.
func TestCursorFollowsTheApplication(t *testing.T) {
	src := &fakeSource{}
	m, ch := started(t, src)
	deliver(t, m, ch, upsert(app("a", "b", "p", "Synced", "Healthy")), upsert(app("a", "c", "p", "Synced", "Healthy")), status(watch.Live))
	m.Update(press("down"))
	if m.Selected().Name != "c" {
		t.Fatalf("selected %s", m.Selected().Name)
	}
	deliver(t, m, ch, upsert(app("a", "a", "p", "Synced", "Healthy")))
	if m.Selected().Name != "c" {
		t.Fatalf("after an insert above, selected %s", m.Selected().Name)
	}
}

// While the first list streams in, the rows catch up in steps rather than
// being sorted again for every few objects.
func TestRowsCatchUpInStepsWhileLoading(t *testing.T) {
	src := &fakeSource{}
	m, ch := started(t, src)
	deliver(t, m, ch, upsert(app("a", "b", "p", "Synced", "Healthy")))
	if names(m) != "b" {
		t.Fatalf("first rows: %s", names(m))
	}
	ch <- upsert(app("a", "a", "p", "Synced", "Healthy"))
	_, cmd := m.Update(stream.Read(ch, m.Gen(), time.Millisecond))
	if names(m) != "b" || cmd == nil {
		t.Fatalf("rows sorted again while loading: %s", names(m))
	}
	m.Update(reselectMsg{gen: m.Gen()})
	if names(m) != "a,b" {
		t.Fatalf("rows after the catch-up: %s", names(m))
	}
}

func TestSyncAsksFirstThenCallsTheSource(t *testing.T) {
	src := &fakeSource{}
	m, ch := started(t, src)
	deliver(t, m, ch, upsert(app("a", "web", "shop", "OutOfSync", "Healthy")), status(watch.Live))

	m.Update(press("S"))
	if what, ok := m.Pending(); !ok || what != "sync a/web" {
		t.Fatalf("pending %q %v", what, ok)
	}
	if v := ansi.Strip(m.View()); !strings.Contains(v, "Sync a/web? y/n") {
		t.Fatalf("no confirmation:\n%s", v)
	}
	if _, cmd := m.Update(press("n")); cmd != nil || len(src.actions) != 0 {
		t.Fatal("n ran the action")
	}
	m.Update(press("S"))
	_, cmd := m.Update(press("y"))
	if cmd == nil {
		t.Fatal("y returned no command")
	}
	if _, cmd := m.Update(cmd()); cmd != nil {
		t.Fatal("a successful action reported an error")
	}
	if strings.Join(src.actions, ";") != "sync a/web" {
		t.Fatalf("actions %v", src.actions)
	}
	if !strings.Contains(ansi.Strip(m.View()), "sync requested for a/web") {
		t.Errorf("no note:\n%s", ansi.Strip(m.View()))
	}

	src.failing = errors.New("forbidden: cannot update")
	m.Update(press("R"))
	_, cmd = m.Update(press("y"))
	_, cmd = m.Update(cmd())
	msg, ok := cmd().(nav.ErrMsg)
	if !ok || !strings.Contains(msg.Error(), "hard refresh a/web: forbidden") {
		t.Fatalf("failure reported as %#v", cmd())
	}
}

func TestPaletteCompletesAndRuns(t *testing.T) {
	src := &fakeSource{}
	opened := false
	m := New(Options{Theme: theme.New(true), Source: src, Jumps: []Jump{{Name: "crossplane", Help: "the tree", Open: func() nav.Screen { opened = true; return nil }}}})
	m.SetSize(100, 20)
	_, cmd := m.Update(nav.EnvMsg{Env: testenv.Resolved()})
	m.Update(cmd())
	deliver(t, m, src.chans[0], upsert(app("a", "web", "shop", "Synced", "Healthy")), upsert(app("a", "api", "shop", "Synced", "Degraded")))

	m.Update(press(":"))
	typeText(t, m, "sort h")
	m.Update(press("tab"))
	if v := ansi.Strip(m.View()); !strings.Contains(v, ":sort health") {
		t.Fatalf("tab did not complete:\n%s", v)
	}
	m.Update(press("enter"))
	if !strings.Contains(ansi.Strip(m.View()), "sort: health") {
		t.Fatalf("sort command not run:\n%s", ansi.Strip(m.View()))
	}
	m.Update(press(":"))
	typeText(t, m, "cross")
	_, cmd = m.Update(press("enter"))
	if cmd == nil {
		t.Fatal("jump returned no command")
	}
	if _, ok := cmd().(nav.PushMsg); !ok || !opened {
		t.Fatal("jump did not open its screen")
	}
}

func TestNarrowTableDropsColumns(t *testing.T) {
	src := &fakeSource{}
	m, ch := started(t, src)
	m.SetSize(40, 10)
	deliver(t, m, ch, upsert(app("a-long-namespace", "web", "shop", "Synced", "Healthy")), status(watch.Live))
	v := ansi.Strip(m.View())
	for _, l := range strings.Split(v, "\n") {
		if w := ansi.StringWidth(l); w > 40 {
			t.Errorf("line %q is %d wide", l, w)
		}
	}
	if strings.Contains(v, "NAMESPACE") || !strings.Contains(v, "SYNC") || !strings.Contains(v, "web") {
		t.Errorf("narrow table:\n%s", v)
	}
}

func TestAge(t *testing.T) {
	for d, want := range map[time.Duration]string{
		-time.Second: "0s", 42 * time.Second: "42s", 5 * time.Minute: "5m", 3 * time.Hour: "3h", 72 * time.Hour: "3d",
	} {
		if got := Age(d); got != want {
			t.Errorf("Age(%v) = %s, want %s", d, got, want)
		}
	}
}
