package wizard_test

import (
	"context"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/back-stack/idp/platform/platformconfig"
	"github.com/back-stack/idp/tui"
	"github.com/back-stack/idp/tui/internal/testenv"
	"github.com/back-stack/idp/tui/nav"
	"github.com/back-stack/idp/tui/screens/wizard"
	"github.com/back-stack/idp/tui/theme"
)

// The wizard runs inside the real app shell in a real tea.Program. Keys go
// in with tm.Send; to know when the form has moved on (huh moves focus with
// commands, whose messages race with keys sent after them) the test asks
// the program for a snapshot of its full view, taken inside Update, and
// waits until the field it expects has the focus.

type probeMsg struct{ do func() }

type harness struct {
	*tui.App
	views chan string
}

func (h *harness) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if p, ok := msg.(probeMsg); ok {
		if p.do != nil {
			p.do()
		}
		h.views <- ansi.Strip(h.App.View().Content)
		return h, nil
	}
	_, cmd := h.App.Update(msg)
	return h, cmd
}

type run struct {
	t  *testing.T
	tm *teatest.TestModel
	h  *harness
}

func start(t *testing.T, th theme.Theme, w, h int, screen nav.Screen) *run {
	t.Helper()
	hs := &harness{App: tui.New(tui.Options{Theme: th, Resolve: testenv.Resolved}), views: make(chan string, 1)}
	tm := teatest.NewTestModel(t, hs,
		teatest.WithInitialTermSize(w, h),
		teatest.WithProgramOptions(tea.WithColorProfile(colorprofile.Ascii)),
	)
	t.Cleanup(func() { _ = tm.Quit() })
	r := &run{t: t, tm: tm, h: hs}
	tm.Send(nav.PushMsg{Screen: screen})
	return r
}

// view is the app's whole screen now, without colour.
func (r *run) view() string {
	r.t.Helper()
	r.tm.Send(probeMsg{})
	select {
	case v := <-r.h.views:
		return v
	case <-time.After(10 * time.Second):
		r.t.Fatal("the program did not answer a probe")
	}
	return ""
}

// config reads the screen's Config inside the program, where the screen
// lives.
func (r *run) config(w *wizard.Model) platformconfig.Config {
	r.t.Helper()
	var c platformconfig.Config
	r.tm.Send(probeMsg{do: func() { c = w.Config() }})
	select {
	case <-r.h.views:
	case <-time.After(10 * time.Second):
		r.t.Fatal("the program did not answer a probe")
	}
	return c
}

// waitView waits until cond holds for the screen and returns it.
func (r *run) waitView(what string, cond func(string) bool) string {
	r.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	var v string
	for time.Now().Before(deadline) {
		if v = r.view(); cond(v) {
			return v
		}
		time.Sleep(5 * time.Millisecond)
	}
	r.t.Fatalf("waiting for %s; the screen is:\n%s", what, v)
	return ""
}

func (r *run) waitText(text string) string {
	r.t.Helper()
	return r.waitView("«"+text+"»", func(v string) bool { return strings.Contains(v, text) })
}

// focusRE matches the line of the focused field's title: huh draws a thick
// border left of the focused field only.
func focusRE(title string) *regexp.Regexp {
	return regexp.MustCompile(`(?m)^\s*┃ ` + regexp.QuoteMeta(title) + `\s*$`)
}

func (r *run) waitFocus(title string) string {
	r.t.Helper()
	re := focusRE(title)
	return r.waitView("focus on "+title, re.MatchString)
}

func (r *run) keys(ks ...tea.KeyPressMsg) {
	for _, k := range ks {
		r.tm.Send(k)
	}
}

func (r *run) typeText(s string) {
	for _, c := range s {
		r.tm.Send(tea.KeyPressMsg{Code: c, Text: string(c)})
	}
}

// set replaces the focused input's text.
func (r *run) set(s string) {
	r.keys(ctrlU)
	r.typeText(s)
}

// next presses enter and waits for the focus on the field titled want.
func (r *run) next(want string) {
	r.t.Helper()
	r.keys(enter)
	r.waitFocus(want)
}

var (
	enter    = tea.KeyPressMsg{Code: tea.KeyEnter}
	esc      = tea.KeyPressMsg{Code: tea.KeyEscape}
	down     = tea.KeyPressMsg{Code: tea.KeyDown}
	shiftTab = tea.KeyPressMsg{Code: tea.KeyTab, Mod: tea.ModShift}
	ctrlU    = tea.KeyPressMsg{Code: 'u', Mod: tea.ModCtrl}
	ctrlE    = tea.KeyPressMsg{Code: 'e', Mod: tea.ModCtrl}
)

// The field titles in form order.
var titles = []string{
	"Platform name",
	"Subscription ID", "Tenant ID", "Region", "Resource group",
	"AKS cluster name", "Node VM size", "Node count", "Kubernetes version",
	"ACR name",
	"Repository URL", "Branch", "How changes land",
	"Crossplane", "provider-azure", "function-patch-and-transform", "Argo CD", "Kyverno", "ingress-nginx", "cert-manager",
}

const (
	sub    = "00000000-0000-0000-0000-000000000001"
	tenant = "00000000-0000-0000-0000-000000000002"
)

// fakes records what the screen asked of the caller.
type fakes struct {
	mu       sync.Mutex
	planned  []platformconfig.Config
	started  []platformconfig.Config
	planErrs []error // returned by the calls to Plan in turn; nil after
}

func (f *fakes) plan(_ context.Context, cfg platformconfig.Config) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.planned = append(f.planned, cfg)
	if len(f.planErrs) > 0 {
		err := f.planErrs[0]
		f.planErrs = f.planErrs[1:]
		if err != nil {
			return nil, err
		}
	}
	return []string{
		"commit .idp/platform.yaml, bootstrap/, platform/ and infrastructure/ to " + cfg.GitOps.URL,
		"create the kind seed idp-" + cfg.Name,
		"create AKS " + cfg.Azure.AKS.Name + " in " + cfg.Azure.Location,
	}, nil
}

func (f *fakes) start(cfg platformconfig.Config) nav.Screen {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.started = append(f.started, cfg)
	return pipelineScreen{}
}

func (f *fakes) calls() (planned, started []platformconfig.Config) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]platformconfig.Config(nil), f.planned...), append([]platformconfig.Config(nil), f.started...)
}

// pipelineScreen stands in for the screen Start opens.
type pipelineScreen struct{}

func (pipelineScreen) Init() tea.Cmd                          { return nil }
func (s pipelineScreen) Update(tea.Msg) (nav.Screen, tea.Cmd) { return s, nil }
func (pipelineScreen) View() string                           { return "Pipeline running" }
func (pipelineScreen) SetSize(int, int)                       {}
func (pipelineScreen) Title() string                          { return "Pipeline" }
func (pipelineScreen) ShortHelp() []key.Binding               { return nil }
func (pipelineScreen) FullHelp() [][]key.Binding              { return nil }

func newWizard(f *fakes, initial platformconfig.Config, prefill func() (string, string), th theme.Theme) *wizard.Model {
	return wizard.New(wizard.Options{Theme: th, Initial: initial, Prefill: prefill, Plan: f.plan, Start: f.start})
}

// fillAll answers every page with values that differ from the defaults and
// returns the configuration those answers make.
func (r *run) fillAll() platformconfig.Config {
	r.t.Helper()
	r.waitFocus("Platform name")
	r.typeText("acme")
	r.next("Subscription ID")
	r.waitText(sub) // from the az login prefill
	r.next("Tenant ID")
	r.waitText(tenant)
	r.next("Region")
	r.set("uksouth")
	r.next("Resource group")
	r.set("rg-acme")
	r.next("AKS cluster name")
	r.set("aks-acme")
	r.next("Node VM size")
	r.set("Standard_D8s_v5")
	r.next("Node count")
	r.set("5")
	r.next("Kubernetes version")
	r.set("1.34.2")
	r.next("ACR name")
	// The registry name is suggested from the answers so far.
	r.waitText(platformconfig.SuggestACRName(sub, "rg-acme", "acme"))
	r.set("acmeplatform")
	r.next("Repository URL")
	r.typeText("git@github.com:acme/gitops.git")
	r.next("Branch")
	r.set("platform")
	r.next("How changes land")
	r.keys(down)
	r.next("Crossplane")
	r.set("2.1.1")
	r.next("provider-azure")
	r.next("function-patch-and-transform")
	r.next("Argo CD")
	r.set("10.0.0")
	r.next("Kyverno")
	r.next("ingress-nginx")
	r.next("cert-manager")
	r.keys(enter)
	r.waitText("Review the answers")
	r.waitText("create AKS aks-acme in uksouth") // the plan's lines

	want := platformconfig.Defaults()
	want.Name = "acme"
	want.Azure = platformconfig.Azure{
		SubscriptionID: sub, TenantID: tenant, Location: "uksouth", ResourceGroup: "rg-acme",
		AKS: platformconfig.AKS{Name: "aks-acme", NodeVMSize: "Standard_D8s_v5", NodeCount: 5, KubernetesVersion: "1.34.2"},
		ACR: platformconfig.ACR{Name: "acmeplatform"},
	}
	want.GitOps = platformconfig.GitOps{URL: "git@github.com:acme/gitops.git", Branch: "platform", Changes: platformconfig.ChangePullRequest}
	want.Components.Crossplane = "2.1.1"
	want.Components.ArgoCD = "10.0.0"
	return want
}

// compare checks a configuration field by field, naming each that differs.
func compare(t *testing.T, what string, got, want platformconfig.Config) {
	t.Helper()
	for _, f := range []struct {
		name      string
		got, want any
	}{
		{"apiVersion", got.APIVersion, want.APIVersion},
		{"kind", got.Kind, want.Kind},
		{"name", got.Name, want.Name},
		{"azure.subscriptionID", got.Azure.SubscriptionID, want.Azure.SubscriptionID},
		{"azure.tenantID", got.Azure.TenantID, want.Azure.TenantID},
		{"azure.location", got.Azure.Location, want.Azure.Location},
		{"azure.resourceGroup", got.Azure.ResourceGroup, want.Azure.ResourceGroup},
		{"azure.aks.name", got.Azure.AKS.Name, want.Azure.AKS.Name},
		{"azure.aks.nodeVMSize", got.Azure.AKS.NodeVMSize, want.Azure.AKS.NodeVMSize},
		{"azure.aks.nodeCount", got.Azure.AKS.NodeCount, want.Azure.AKS.NodeCount},
		{"azure.aks.kubernetesVersion", got.Azure.AKS.KubernetesVersion, want.Azure.AKS.KubernetesVersion},
		{"azure.acr.name", got.Azure.ACR.Name, want.Azure.ACR.Name},
		{"gitops.url", got.GitOps.URL, want.GitOps.URL},
		{"gitops.branch", got.GitOps.Branch, want.GitOps.Branch},
		{"gitops.changes", got.GitOps.Changes, want.GitOps.Changes},
		{"crossplane.api", got.Crossplane.API, want.Crossplane.API},
		{"components.crossplane", got.Components.Crossplane, want.Components.Crossplane},
		{"components.providerAzure", got.Components.ProviderAzure, want.Components.ProviderAzure},
		{"components.functionPatchAndTransform", got.Components.FunctionPatchAndTransform, want.Components.FunctionPatchAndTransform},
		{"components.argocd", got.Components.ArgoCD, want.Components.ArgoCD},
		{"components.kyverno", got.Components.Kyverno, want.Components.Kyverno},
		{"components.ingressNginx", got.Components.IngressNginx, want.Components.IngressNginx},
		{"components.certManager", got.Components.CertManager, want.Components.CertManager},
	} {
		if f.got != f.want {
			t.Errorf("%s: %s = %v, want %v", what, f.name, f.got, f.want)
		}
	}
	if !reflect.DeepEqual(got, want) { // a field the list above misses
		t.Errorf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

// squeeze drops all white space, to find a message however it wrapped.
func squeeze(s string) string { return strings.Join(strings.Fields(s), "") }

func prefill() (string, string) { return sub, tenant }
