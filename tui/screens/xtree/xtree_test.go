package xtree

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/back-stack/idp/platform/crossplane"
	"github.com/back-stack/idp/platform/environment"
	"github.com/back-stack/idp/platform/watch"
	"github.com/back-stack/idp/tui/components/stream"
	"github.com/back-stack/idp/tui/internal/testenv"
	"github.com/back-stack/idp/tui/nav"
	"github.com/back-stack/idp/tui/theme"
)

type fake struct{ ch chan crossplane.Event }

func (f *fake) Crossplane(context.Context, environment.Environment) (<-chan crossplane.Event, error) {
	return f.ch, nil
}

func up(source string, o crossplane.Object) crossplane.Event {
	return crossplane.Event{Type: watch.Upserted, Source: source, Key: o.Namespace + "/" + o.Name, Object: o}
}

func TestTreeWithDeepestFailureFirst(t *testing.T) {
	f := &fake{ch: make(chan crossplane.Event, 16)}
	m := New(theme.New(true), f)
	m.SetSize(70, 30)
	_, cmd := m.Update(nav.EnvMsg{Env: testenv.Resolved()})
	_, cmd = m.Update(cmd())
	if cmd == nil {
		t.Fatal("no read command after start")
	}
	long := "create failed: async create failed: failed to create the resource: 409 Conflict: QuotaExceeded: the subscription has no quota left for Standard_D2ds_v5 in westeurope"
	xrd := crossplane.Object{Ref: crossplane.Ref{Kind: "CompositeResourceDefinition", Name: "x"}, Definition: &crossplane.Definition{Group: "db.example.org", Kind: "XPostgreSQL"}}
	xr := crossplane.Object{Ref: crossplane.Ref{APIVersion: "db.example.org/v1alpha1", Kind: "XPostgreSQL", Namespace: "shop", Name: "orders"},
		Synced: crossplane.Condition{Status: "True"}, Ready: crossplane.Condition{Status: "False", Reason: "Creating"},
		Refs: []crossplane.Ref{{APIVersion: "azure.m.upbound.io/v1beta1", Kind: "Server", Name: "srv"}}}
	mr := crossplane.Object{Ref: crossplane.Ref{APIVersion: "azure.m.upbound.io/v1beta1", Kind: "Server", Namespace: "shop", Name: "srv"},
		Synced: crossplane.Condition{Type: "Synced", Status: "False", Reason: "ReconcileError", Message: long}, Ready: crossplane.Condition{Type: "Ready", Status: "False"}}
	for _, ev := range []crossplane.Event{
		{Type: watch.StatusChanged, Source: crossplane.XRDSource, Status: watch.Status{State: watch.Live}},
		{Type: watch.StatusChanged, Source: "XPostgreSQL.db.example.org", Status: watch.Status{State: watch.Live}},
		{Type: watch.StatusChanged, Source: "Server.azure.m.upbound.io", Status: watch.Status{State: watch.Live}},
		{Type: watch.StatusChanged, Source: "XBucket.storage.example.org", Status: watch.Status{State: watch.Forbidden, Err: errors.New(`xbuckets.storage.example.org is forbidden: User "dev" cannot list resource "xbuckets"`)}},
		up(crossplane.XRDSource, xrd), up("XPostgreSQL.db.example.org", xr), up("Server.azure.m.upbound.io", mr),
	} {
		f.ch <- ev
	}
	_, cmd = m.Update(stream.Read(f.ch, m.gen, time.Millisecond))
	if cmd == nil {
		t.Fatal("no rebuild scheduled")
	}
	// The rebuild tick: deliver it directly instead of waiting for it.
	m.Update(rebuildMsg{gen: m.gen})
	v := ansi.Strip(m.View())
	for _, want := range []string{
		"1 trees · 1 not ready", "● live",
		"forbidden: XBucket.storage.example.org", "cannot list",
		"✗ not ready: Server shop/srv — Synced=False (ReconcileError)",
		"XPostgreSQL shop/orders (composite)", "└─ ▶ Server shop/srv", "Synced=False (ReconcileError)",
	} {
		if !strings.Contains(v, want) {
			t.Errorf("view lacks %q:\n%s", want, v)
		}
	}
	// The long message is wrapped, not cut: every word is on screen.
	for _, word := range strings.Fields(long) {
		if !strings.Contains(v, word) {
			t.Errorf("message word %q missing:\n%s", word, v)
		}
	}
	for _, l := range strings.Split(v, "\n") {
		if w := ansi.StringWidth(l); w > 70 {
			t.Errorf("line %q is %d wide", l, w)
		}
	}
	if strings.Index(v, "✗ not ready") > strings.Index(v, "XPostgreSQL shop/orders") {
		t.Error("the failure is not listed before the tree")
	}
}

func TestReconnectingIsShown(t *testing.T) {
	f := &fake{ch: make(chan crossplane.Event, 4)}
	m := New(theme.New(true), f)
	m.SetSize(100, 10)
	_, cmd := m.Update(nav.EnvMsg{Env: testenv.Resolved()})
	m.Update(cmd())
	f.ch <- crossplane.Event{Type: watch.StatusChanged, Source: crossplane.XRDSource, Status: watch.Status{State: watch.Reconnecting, LastLive: time.Now()}}
	m.Update(stream.Read(f.ch, m.gen, time.Millisecond))
	if v := ansi.Strip(m.View()); !strings.Contains(v, "reconnecting") || !strings.Contains(v, "may be stale") {
		t.Fatalf("view:\n%s", v)
	}
}
