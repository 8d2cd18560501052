package pipeline

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/back-stack/idp/platform/bootstrap"
	"github.com/back-stack/idp/platform/crossplane"
	"github.com/back-stack/idp/tui/nav"
	"github.com/back-stack/idp/tui/theme"
)

var steps = []bootstrap.Step{
	{ID: "preflight", Title: "Pre-flight checks"},
	{ID: "seed", Title: "Seed cluster"},
	{ID: "crossplane", Title: "Crossplane on the seed"},
}

// drive feeds events through the screen as the app would deliver them.
func drive(t *testing.T, m *Model, ch chan bootstrap.Event, evs ...bootstrap.Event) {
	t.Helper()
	for _, ev := range evs {
		ch <- ev
		msg := m.next1()()
		m.Update(msg)
	}
}

func view(m *Model) string { return ansi.Strip(m.View()) }

func press(s string) tea.KeyPressMsg {
	if s == "esc" {
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	}
	return tea.KeyPressMsg{Code: rune(s[0]), Text: s}
}

func TestStepsFailureAndLog(t *testing.T) {
	ch := make(chan bootstrap.Event, 1)
	m := New(context.Background(), Options{
		Theme: theme.New(true), Steps: steps, Resume: "idp bootstrap --resume",
		Start: func(context.Context) <-chan bootstrap.Event { return ch },
	})
	m.Init()
	m.SetSize(100, 40)
	if v := view(m); !strings.Contains(v, "· 1. Pre-flight checks") || !strings.Contains(v, "0 of 3 steps done") {
		t.Fatalf("before any event:\n%s", v)
	}
	t0 := time.Now()
	drive(t, m, ch,
		bootstrap.Event{Type: bootstrap.StepStarted, Step: "preflight", Title: "Pre-flight checks", Time: t0},
		bootstrap.Event{Type: bootstrap.StepLog, Step: "preflight", Line: "az login: ok", Time: t0},
		bootstrap.Event{Type: bootstrap.StepFinished, Step: "preflight", Duration: 2 * time.Second, Time: t0.Add(2 * time.Second)},
		bootstrap.Event{Type: bootstrap.StepSkipped, Step: "seed", Reason: "the seed cluster exists", Time: t0.Add(2 * time.Second)},
		bootstrap.Event{Type: bootstrap.StepStarted, Step: "crossplane", Title: "Crossplane on the seed", Time: t0.Add(2 * time.Second)},
		bootstrap.Event{Type: bootstrap.StepProgress, Step: "crossplane", Progress: &bootstrap.Progress{Summary: "1/3 Healthy", Trees: trees()}, Time: t0.Add(5 * time.Second)},
		bootstrap.Event{Type: bootstrap.StepLog, Step: "crossplane", Line: "helm: installed crossplane 2.1.0", Time: t0.Add(5 * time.Second)},
	)
	v := view(m)
	// The Crossplane tree the step waits on, drawn as the Crossplane
	// screen draws it, deepest failure first.
	for _, want := range []string{"✗ not ready: KubernetesCluster infrastructure/aks-acme", "AKSCluster infrastructure/aks-acme (composite)", "quota exceeded"} {
		if !strings.Contains(v, want) {
			t.Errorf("the live tree lacks %q:\n%s", want, v)
		}
	}
	for _, want := range []string{"✓ 1. Pre-flight checks  2s", "↷ 2. Seed cluster  already done", "the seed cluster exists", "3. Crossplane on the seed", "waiting: 1/3 Healthy", "2 of 3 steps done"} {
		if !strings.Contains(v, want) {
			t.Errorf("missing %q in:\n%s", want, v)
		}
	}
	if strings.Contains(v, "helm: installed") {
		t.Error("the log shows before l")
	}
	m.Update(press("l"))
	if v := view(m); !strings.Contains(v, "Log of Crossplane on the seed") || !strings.Contains(v, "helm: installed crossplane 2.1.0") || strings.Contains(v, "az login") {
		t.Errorf("the log of the current step:\n%s", v)
	}

	// esc does not leave a running bootstrap.
	if _, cmd := m.Update(press("esc")); cmd != nil {
		if _, ok := cmd().(nav.PopMsg); ok {
			t.Fatal("esc left a running bootstrap")
		}
	}
	if v := view(m); !strings.Contains(v, "ctrl+c stops it at a checkpoint, and idp bootstrap --resume continues it.") {
		t.Errorf("esc while running:\n%s", v)
	}

	drive(t, m, ch,
		bootstrap.Event{Type: bootstrap.StepFailed, Step: "crossplane", Duration: 40 * time.Second, Err: errors.New("provider-azure-containerservice: not Healthy"),
			NextAction: "Check the provider's pod logs, then run idp bootstrap --resume.", Time: t0.Add(42 * time.Second)},
		bootstrap.Event{Type: bootstrap.PipelineDone, Err: errors.New("provider-azure-containerservice: not Healthy"), Time: t0.Add(42 * time.Second)},
	)
	v = view(m)
	for _, want := range []string{"✗ 3. Crossplane on the seed  after 40s", "Error: provider-azure-containerservice: not Healthy", "Check the provider's pod logs, then run idp bootstrap --resume.", "✗ Stopped"} {
		if !strings.Contains(v, want) {
			t.Errorf("missing %q in:\n%s", want, v)
		}
	}
	// Over: esc goes back.
	_, cmd := m.Update(press("esc"))
	if cmd == nil {
		t.Fatal("esc after the run does nothing")
	}
	if _, ok := cmd().(nav.PopMsg); !ok {
		t.Fatal("esc after the run does not go back")
	}
}

func TestDoneAndNarrow(t *testing.T) {
	ch := make(chan bootstrap.Event, 1)
	m := New(context.Background(), Options{Theme: theme.New(true), Steps: steps, Start: func(context.Context) <-chan bootstrap.Event { return ch }})
	m.Init()
	m.SetSize(60, 15)
	t0 := time.Now()
	var evs []bootstrap.Event
	for _, s := range steps {
		evs = append(evs, bootstrap.Event{Type: bootstrap.StepStarted, Step: s.ID, Title: s.Title, Time: t0},
			bootstrap.Event{Type: bootstrap.StepFinished, Step: s.ID, Duration: 65 * time.Second, Time: t0})
	}
	evs = append(evs, bootstrap.Event{Type: bootstrap.PipelineDone, Time: t0})
	drive(t, m, ch, evs...)
	v := view(m)
	if !strings.Contains(v, "✓ Done: 3 of 3 steps done") || !strings.Contains(v, "✓ 3. Crossplane on the seed  1m05s") {
		t.Fatalf("done:\n%s", v)
	}
	for _, l := range strings.Split(v, "\n") {
		if ansi.StringWidth(l) > 60 {
			t.Errorf("line wider than 60: %q", l)
		}
	}
	if n := len(strings.Split(v, "\n")); n > 15 {
		t.Errorf("%d lines in a 15-line body", n)
	}
}

// trees is an AKS composite whose cluster is not Ready yet.
func trees() []crossplane.Tree {
	xrd := crossplane.Object{Ref: crossplane.Ref{APIVersion: "apiextensions.crossplane.io/v1", Kind: "CompositeResourceDefinition", Name: "aksclusters.platform.back-stack.io"},
		Definition: &crossplane.Definition{Group: "platform.back-stack.io", Kind: "AKSCluster", Plural: "aksclusters", Version: "v1alpha1"}}
	mr := crossplane.Ref{APIVersion: "containerservice.azure.m.upbound.io/v1beta1", Kind: "KubernetesCluster", Namespace: "infrastructure", Name: "aks-acme"}
	xr := crossplane.Object{Ref: crossplane.Ref{APIVersion: "platform.back-stack.io/v1alpha1", Kind: "AKSCluster", Namespace: "infrastructure", Name: "aks-acme"},
		Synced: crossplane.Condition{Type: "Synced", Status: "True"}, Ready: crossplane.Condition{Type: "Ready", Status: "False", Reason: "Creating"},
		Refs: []crossplane.Ref{mr}}
	cluster := crossplane.Object{Ref: mr, Synced: crossplane.Condition{Type: "Synced", Status: "True"},
		Ready: crossplane.Condition{Type: "Ready", Status: "False", Reason: "ReconcileError", Message: "quota exceeded for Standard_D4s_v5 in westeurope"}}
	return crossplane.Build([]crossplane.Object{xrd, xr, cluster}, nil)
}
