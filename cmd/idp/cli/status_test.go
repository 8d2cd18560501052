package cli

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/back-stack/idp/platform/argocd"
	"github.com/back-stack/idp/platform/crossplane"
	"github.com/back-stack/idp/platform/kyverno"
	"github.com/back-stack/idp/platform/live"
	"github.com/back-stack/idp/platform/watch"
)

func snapshot(now time.Time) live.Snapshot {
	srv := &crossplane.Node{Object: crossplane.Object{
		Ref:    crossplane.Ref{Kind: "FlexibleServer", Namespace: "shop", Name: "srv"},
		Synced: crossplane.Condition{Type: "Synced", Status: "False", Reason: "ReconcileError", Message: "QuotaExceeded in westeurope"},
		Ready:  crossplane.Condition{Status: "False"},
	}, Role: crossplane.RoleResource, Failing: true}
	return live.Snapshot{
		Applications: []argocd.App{{
			Namespace: "argocd", Name: "web", Project: "shop", Sync: "OutOfSync", Health: "Degraded",
			Revision:   "53e28ff20cc530b9ada2173fbbd64d48338583ba",
			Operation:  &argocd.Operation{Phase: "Failed", FinishedAt: now.Add(-5 * time.Minute)},
			Conditions: []argocd.Condition{{Type: "SyncError", Message: "failed"}},
		}},
		Composites: []live.Tree{{
			Root: &crossplane.Node{Object: crossplane.Object{
				Ref: crossplane.Ref{Kind: "XPostgreSQL", Namespace: "shop", Name: "orders"}, Synced: crossplane.Condition{Status: "True"}, Ready: crossplane.Condition{Status: "False"},
			}, Role: crossplane.RoleComposite, Children: []*crossplane.Node{srv}},
			Failure: &live.Failure{Ref: srv.Ref, Condition: srv.Synced},
		}},
		Sources: []live.Source{
			{Source: "applications.argoproj.io", State: watch.Live},
			{Source: "XBucket.storage.example.org", State: watch.Forbidden, Error: "xbuckets is forbidden"},
		},
	}
}

func TestStatusTable(t *testing.T) {
	now := time.Now()
	var out bytes.Buffer
	if err := printSnapshot(&out, outputTable, snapshot(now), now); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, want := range []string{
		"NAMESPACE  NAME  PROJECT  SYNC       HEALTH    REVISION  LAST OPERATION  CONDITIONS",
		"argocd     web   shop     OutOfSync  Degraded  53e28ff   Failed 5m ago   1 error(s)",
		"✗ not ready: FlexibleServer shop/srv — Synced=False (ReconcileError): QuotaExceeded in westeurope",
		"XPostgreSQL shop/orders (composite)  Synced=True Ready=False",
		"  FlexibleServer shop/srv  Synced=False Ready=False",
		"Not readable:\n  XBucket.storage.example.org: forbidden: xbuckets is forbidden",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("table lacks %q:\n%s", want, got)
		}
	}
}

func TestStatusDetailAndChanges(t *testing.T) {
	now := time.Now()
	s := snapshot(now)
	s.Application = &live.AppDetail{App: s.Applications[0], Policy: &kyverno.Summary{Fail: 1, Findings: []kyverno.Finding{{
		Resource: kyverno.Ref{Kind: "Deployment", Namespace: "web", Name: "web"},
		Result:   kyverno.Result{Policy: "require-labels", Rule: "team", Result: "fail", Message: "label team is required"},
	}}}}
	var out bytes.Buffer
	if err := printSnapshot(&out, outputTable, s, now); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"argocd/web (project shop)", "SyncError: failed", "Operation: Failed", "Policy: 0 pass, 1 fail", "fail require-labels/team on Deployment web/web: label team is required"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("detail lacks %q:\n%s", want, out.String())
		}
	}
	out.Reset()
	a := s.Applications[0]
	_ = printChange(&out, outputTable, live.Change{Type: "application", Application: &a}, now)
	_ = printChange(&out, outputJSON, live.Change{Type: "source", Source: &s.Sources[1]}, now)
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "application changed argocd/web  OutOfSync Degraded 53e28ff") ||
		lines[1] != `{"type":"source","source":{"source":"XBucket.storage.example.org","state":"forbidden","error":"xbuckets is forbidden"}}` {
		t.Errorf("changes:\n%s", out.String())
	}
}

func TestStatusRejectsUnknownOutput(t *testing.T) {
	code, _, errOut := run(t, "status", "-o", "xml")
	if code == 0 || !strings.Contains(errOut, `invalid output format "xml"`) {
		t.Fatalf("code %d, stderr %q", code, errOut)
	}
}

// Which sources make `idp status` exit 3: those that did not answer or
// refused; not a kind that is not installed, and not Applications across
// all namespaces when a fallback namespace answered.
func TestStatusUnreadSources(t *testing.T) {
	all := argocd.Spec("").String()
	src := func(name string, st watch.State) live.Source { return live.Source{Source: name, State: st} }
	for name, tc := range map[string]struct {
		srcs []live.Source
		bad  string
	}{
		"all live":        {[]live.Source{src(all, watch.Live), src("XPostgreSQL.db.example.org", watch.Live)}, ""},
		"not installed":   {[]live.Source{src(all, watch.Live), src("PolicyReport.wgpolicyk8s.io", watch.NotInstalled)}, ""},
		"fallback answer": {[]live.Source{src(all, watch.Forbidden), src(all+" in shop", watch.Live)}, ""},
		"unreachable":     {[]live.Source{src(all, watch.Reconnecting)}, all},
		"timed out":       {[]live.Source{src(all, watch.Live), src("XPostgreSQL.db.example.org", watch.Loading)}, "XPostgreSQL.db.example.org"},
		"forbidden":       {[]live.Source{src(all, watch.Forbidden), src(all+" in shop", watch.Forbidden)}, all},
	} {
		err := unreadError(tc.srcs)
		if (err == nil) != (tc.bad == "") || (err != nil && !strings.Contains(err.Error(), "could not read "+tc.bad)) {
			t.Errorf("%s: %v, want %q", name, err, tc.bad)
		}
	}
}
