package aks

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/back-stack/idp/platform/aks/akstest"
)

// memAuditor keeps records in memory; the Git-backed auditor has its own
// tests against the real git server.
type memAuditor struct {
	mu   sync.Mutex
	recs []Result
	err  error
}

func (m *memAuditor) Record(ctx context.Context, res Result) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if ctx.Err() != nil {
		return "", ctx.Err()
	}
	if m.err != nil {
		return "", m.err
	}
	m.recs = append(m.recs, res)
	return "abc123", nil
}

func waitState(t *testing.T, op *Op, ok func(OpState) bool) OpState {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		ch := op.Changed()
		if s := op.State(); ok(s) {
			return s
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("op never reached the state; now %+v", op.State())
		}
	}
}

func TestTrackerKeepsTheOperationAcrossScreens(t *testing.T) {
	c := newTestClient(t, &akstest.Cluster{Power: Running, Provisioning: "Succeeded", Steps: 3}, nil)
	c.PollEvery = time.Hour // the op stays running until ctx ends the waiting
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	audit := &memAuditor{}
	var tr Tracker
	op, err := tr.Start(ctx, c, Stop, audit)
	if err != nil {
		t.Fatal(err)
	}
	waitState(t, op, func(s OpState) bool { return s.Progress.ProvisioningState == "Stopping" })
	if _, err := tr.Start(ctx, c, Start, audit); err == nil || !strings.Contains(err.Error(), "already running") {
		t.Fatalf("second action while one runs: %v", err)
	}
	if tr.Current(ref) != op {
		t.Fatal("Current does not return the running op")
	}
	cancel()
	s := waitState(t, op, func(s OpState) bool { return s.Done })
	if s.Outcome.Err == nil || !strings.Contains(s.Outcome.Err.Error(), "goes on in Azure") {
		t.Errorf("cancelled wait: %v", s.Outcome.Err)
	}
	if len(audit.recs) != 1 || audit.recs[0].Outcome != Failed {
		t.Errorf("audit records %+v: the asked action must be recorded even when the wait was cancelled", audit.recs)
	}
}

func TestDoRecordsAndReportsAuditFailure(t *testing.T) {
	c := newTestClient(t, &akstest.Cluster{Power: Stopped, Provisioning: "Succeeded", Steps: 1}, nil)
	out := Do(context.Background(), c, Start, true, &memAuditor{err: errors.New("push rejected")}, nil)
	if out.Err != nil || out.Result.Outcome != Succeeded {
		t.Fatalf("start: %+v", out)
	}
	if out.AuditErr == nil || !strings.Contains(out.AuditErr.Error(), "not recorded") || !strings.Contains(out.AuditErr.Error(), "push rejected") {
		t.Errorf("audit error %v", out.AuditErr)
	}

	audit := &memAuditor{}
	c = newTestClient(t, &akstest.Cluster{Power: Stopped, Provisioning: "Succeeded"}, nil)
	out = Do(context.Background(), c, Stop, true, audit, nil)
	if out.Err == nil || len(audit.recs) != 0 {
		t.Errorf("a refused action (already stopped) must not be recorded: %+v, %d records", out, len(audit.recs))
	}
}

func TestRecord(t *testing.T) {
	res := Result{Action: Stop, Cluster: ref, Started: time.Date(2026, 11, 23, 21, 5, 9, 0, time.UTC), Duration: Duration(95 * time.Second), Outcome: Succeeded, Final: &Cluster{PowerState: Stopped}}
	r := NewRecord(res, "Ada <ada@example.com>")
	if got, want := r.Path(), ".idp/audit/20261123T210509Z-stop-platform-aks.yaml"; got != want {
		t.Errorf("path %q, want %q", got, want)
	}
	data, err := r.YAML()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"who: Ada <ada@example.com>", "action: stop", "outcome: succeeded", "duration: 1m35s", "powerState: Stopped", "resourceGroup: platform"} {
		if !strings.Contains(string(data), want) {
			t.Errorf("record lacks %q:\n%s", want, data)
		}
	}
}

func TestDoRefusesWithoutAnAuditLog(t *testing.T) {
	cl := &akstest.Cluster{Power: Running, Provisioning: "Succeeded"}
	c := newTestClient(t, cl, nil)
	out := Do(context.Background(), c, Stop, true, nil, nil)
	if !errors.Is(out.Err, ErrNoAuditLog) {
		t.Fatalf("err %v, want ErrNoAuditLog", out.Err)
	}
	if cl.Provisioning != "Succeeded" {
		t.Errorf("Azure was asked to act (provisioning %s) though the action could not be recorded", cl.Provisioning)
	}
}
