package tui

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/back-stack/idp/platform/aks"
	"github.com/back-stack/idp/platform/aks/akstest"
	"github.com/back-stack/idp/tui/internal/testenv"
	"github.com/back-stack/idp/tui/theme"
)

type memAudit struct {
	mu   sync.Mutex
	recs []aks.Result
}

func (m *memAudit) Record(_ context.Context, res aks.Result) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.recs = append(m.recs, res)
	return "5eed1e55c0ffee00", nil
}

// The whole flow through the app: home -> Cluster power -> stop, confirmed ->
// progress -> the final state and the audit commit.
func TestAppClusterPowerStop(t *testing.T) {
	ref := aks.Ref{SubscriptionID: "sub-1", ResourceGroup: "platform", Name: "platform-aks"}
	cl := &akstest.Cluster{Power: aks.Running, Provisioning: "Succeeded", Steps: 5}
	audit := &memAudit{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	session := aks.NewSession(ctx, func(context.Context) (*aks.Client, aks.Auditor, error) {
		c, err := aks.NewClient(ref, akstest.Credential(), cl.ClientOptions())
		if err != nil {
			return nil, nil, err
		}
		c.PollEvery = 50 * time.Millisecond
		return c, audit, nil
	})
	tm := teatest.NewTestModel(t,
		New(Options{Theme: theme.New(false), Resolve: testenv.Resolved, Power: session}),
		teatest.WithInitialTermSize(120, 40),
		teatest.WithProgramOptions(tea.WithColorProfile(colorprofile.Ascii)),
	)
	waitFor(t, tm, "Cluster power")
	tm.Type("G") // the last entry
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEnter})
	waitFor(t, tm, "Standard_D4s_v5")
	tm.Type("p")
	waitFor(t, tm, "Stop AKS cluster platform-aks?")
	tm.Type("y")
	waitFor(t, tm, "elapsed")
	waitFor(t, tm, "Recorded in the GitOps repository") // WaitFor drains the output: one wait per frame
	tm.Type("q")
	v := finalView(t, tm)
	for _, want := range []string{"Stopped", "Recorded in the GitOps repository as commit 5eed1e55", "p start"} {
		if !strings.Contains(v, want) {
			t.Errorf("final view lacks %q:\n%s", want, v)
		}
	}
	if len(audit.recs) != 1 || audit.recs[0].Outcome != aks.Succeeded {
		t.Errorf("audit %+v", audit.recs)
	}
}
