package wizard_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/back-stack/idp/platform/platformconfig"
	"github.com/back-stack/idp/tui/nav"
	"github.com/back-stack/idp/tui/theme"
)

// The whole form by keys, the summary with the plan, then start: Start gets
// exactly the configuration the answers make.
func TestFillTheWholeFormAndStart(t *testing.T) {
	f := &fakes{}
	w := newWizard(f, platformconfig.Defaults(), prefill, theme.New(false))
	r := start(t, theme.New(false), 120, 40, w)
	want := r.fillAll()

	v := r.view()
	for _, s := range []string{"acme", sub, tenant, "uksouth", "rg-acme", "aks-acme", "5 × Standard_D8s_v5", "1.34.2",
		"acmeplatform.azurecr.io", "git@github.com:acme/gitops.git", "a pull request into platform", "2.1.1", "10.0.0", "v1.21.2",
		"enter start bootstrap"} {
		if !strings.Contains(v, s) {
			t.Errorf("the summary lacks %q:\n%s", s, v)
		}
	}
	r.keys(enter)
	r.waitText("Pipeline running")

	planned, started := f.calls()
	if len(planned) != 1 || len(started) != 1 {
		t.Fatalf("planned %d times, started %d times", len(planned), len(started))
	}
	compare(t, "planned", planned[0], want)
	compare(t, "started", started[0], want)
	if err := started[0].ValidateForBootstrap(); err != nil {
		t.Errorf("the wizard's config does not validate: %v", err)
	}
	compare(t, "Config()", r.config(w), want)
}

// An invalid answer shows the validator's own message and the form stays on
// the field until the answer is fixed.
func TestInvalidAnswersDoNotAdvance(t *testing.T) {
	f := &fakes{}
	initial := platformconfig.Defaults()
	initial.Azure.SubscriptionID, initial.Azure.TenantID = sub, tenant
	r := start(t, theme.New(false), 120, 40, newWizard(f, initial, nil, theme.New(false)))

	// stuck asserts the error is shown in full and the focus has not moved.
	stuck := func(title string, err error) {
		t.Helper()
		want := squeeze(err.Error())
		v := r.waitView("the error "+want, func(v string) bool {
			return strings.Contains(squeeze(v), want)
		})
		if !focusRE(title).MatchString(v) {
			t.Errorf("the focus left %s after an invalid answer:\n%s", title, v)
		}
		time.Sleep(50 * time.Millisecond) // a stray focus move would land by now
		if v := r.view(); !focusRE(title).MatchString(v) {
			t.Errorf("the focus left %s after an invalid answer:\n%s", title, v)
		}
	}

	r.waitFocus("Platform name")
	r.typeText("Acme")
	r.keys(enter)
	stuck("Platform name", platformconfig.ValidateDNSLabel("Acme"))
	r.set("acme")
	r.next("Subscription ID")
	r.next("Tenant ID")
	r.next("Region")
	r.set("westeurop")
	r.keys(enter)
	stuck("Region", platformconfig.ValidateLocation("westeurop"))
	if !strings.Contains(platformconfig.ValidateLocation("westeurop").Error(), "did you mean westeurope") {
		t.Fatal("the validator no longer suggests the nearest region; fix this test")
	}
	// ctrl+e completes a region from what is typed.
	r.set("swedenc")
	r.keys(ctrlE)
	r.waitText("swedencentral")
	r.next("Resource group")
	r.next("AKS cluster name")
	r.next("Node VM size")
	r.next("Node count")
	r.set("0")
	r.keys(enter)
	_, err := platformconfig.ParseNodeCount("0")
	stuck("Node count", err)
	r.set("2")
	r.next("Kubernetes version")
	r.next("ACR name")
	r.set("idp-platform")
	r.keys(enter)
	stuck("ACR name", platformconfig.ValidateACRName("idp-platform"))
	r.set("idpplatform")
	r.next("Repository URL")
	r.typeText("https://idp:s3cret@github.com/acme/gitops.git")
	r.keys(enter)
	stuck("Repository URL", platformconfig.ValidateGitURL("https://idp:s3cret@github.com/acme/gitops.git"))
	r.set("https://github.com/acme/gitops.git")
	r.next("Branch")
	r.set("main..x")
	r.keys(enter)
	stuck("Branch", platformconfig.ValidateBranch("main..x"))
	r.set("main")
	r.next("How changes land")
	r.next("Crossplane")
	r.set("latest")
	r.keys(enter)
	stuck("Crossplane", platformconfig.ValidateVersion("latest"))
	r.set("2.1.0")
	r.next("provider-azure")
	if planned, _ := f.calls(); len(planned) != 0 {
		t.Errorf("planned with invalid answers: %+v", planned)
	}
}

// After the summary, e goes back to the form with every answer kept:
// walking through it again gives the same configuration, and start gets it.
func TestEditAfterSummaryKeepsAnswers(t *testing.T) {
	f := &fakes{}
	w := newWizard(f, platformconfig.Defaults(), prefill, theme.New(false))
	r := start(t, theme.New(false), 120, 40, w)
	want := r.fillAll()

	r.typeText("e")
	v := r.waitFocus("Platform name")
	if !strings.Contains(v, "acme") {
		t.Errorf("the name is gone:\n%s", v)
	}
	// Forward through every field without typing, and back and forth once.
	for _, title := range titles[1:6] {
		r.next(title)
	}
	r.keys(shiftTab) // back across a page boundary, then on again
	r.waitFocus("Resource group")
	r.waitText("rg-acme")
	r.next("AKS cluster name")
	for _, title := range titles[6:] {
		r.next(title)
	}
	r.keys(enter)
	r.waitText("Review the answers")
	r.waitText("create AKS aks-acme in uksouth")
	r.keys(enter)
	r.waitText("Pipeline running")

	planned, started := f.calls()
	if len(planned) != 2 || len(started) != 1 {
		t.Fatalf("planned %d times, started %d times", len(planned), len(started))
	}
	compare(t, "second plan", planned[1], want)
	compare(t, "started", started[0], want)
}

// A failed plan is shown with what to do; start is refused; the answers
// stay, both through a retry and through the form.
func TestPlanErrorKeepsAnswers(t *testing.T) {
	f := &fakes{planErrs: []error{
		errors.New("GitOps repository git@github.com:acme/gitops.git: authentication required (load a key into ssh-agent)"),
		errors.New("GitOps repository git@github.com:acme/gitops.git: still unreachable"),
	}}
	w := newWizard(f, platformconfig.Defaults(), prefill, theme.New(false))
	r := start(t, theme.New(false), 120, 40, w)

	// fillAll waits for the plan's lines; here the plan fails, so fill by
	// hand up to the summary.
	r.waitFocus("Platform name")
	r.typeText("acme")
	r.next("Subscription ID")
	r.waitText(sub)
	r.next("Tenant ID")
	r.waitText(tenant)
	for _, title := range titles[3:10] {
		r.next(title)
	}
	r.next("Repository URL")
	r.typeText("git@github.com:acme/gitops.git")
	for _, title := range titles[11:] {
		r.next(title)
	}
	r.keys(enter)
	v := r.waitText("The plan failed")
	for _, s := range []string{"authentication required (load a key into ssh-agent)", "Press e to change the answers or r to plan again", "r plan again"} {
		if !strings.Contains(v, s) {
			t.Errorf("the failed plan's view lacks %q:\n%s", s, v)
		}
	}
	want := r.config(w)
	if want.GitOps.URL != "git@github.com:acme/gitops.git" || want.Name != "acme" {
		t.Fatalf("answers before the retry: %+v", want)
	}

	r.keys(enter) // start is refused while the plan failed
	r.typeText("r")
	r.waitText("still unreachable")

	// Edit: every answer is in the form again.
	r.typeText("e")
	r.waitFocus("Platform name")
	for _, title := range titles[1:] {
		r.next(title)
	}
	r.keys(enter)
	r.waitText("Review the answers")
	r.keys(enter)
	r.waitText("Pipeline running")

	planned, started := f.calls()
	if len(planned) != 3 || len(started) != 1 {
		t.Fatalf("planned %d times, started %d times", len(planned), len(started))
	}
	for i, p := range planned {
		compare(t, "plan "+string(rune('1'+i)), p, want)
	}
	compare(t, "started", started[0], want)
}

// esc leaves the wizard; the same screen opened again has every answer.
func TestReopenKeepsAnswers(t *testing.T) {
	f := &fakes{}
	w := newWizard(f, platformconfig.Defaults(), prefill, theme.New(false))
	r := start(t, theme.New(false), 120, 40, w)
	r.waitFocus("Platform name")
	r.typeText("acme")
	r.next("Subscription ID")
	r.waitText(sub)
	r.keys(esc)
	r.waitView("home", func(v string) bool { return !strings.Contains(v, "Bootstrap") && strings.Contains(v, "Environment") })

	r.tm.Send(nav.PushMsg{Screen: w})
	if v := r.waitFocus("Platform name"); !strings.Contains(v, "> acme") {
		t.Errorf("the name was lost on reopening:\n%s", v)
	}
	r.next("Subscription ID")
	if v := r.view(); !strings.Contains(v, "> "+sub) {
		t.Errorf("the subscription was lost on reopening:\n%s", v)
	}
	if got := r.config(w); got.Name != "acme" || got.Azure.SubscriptionID != sub {
		t.Errorf("Config() after reopening: %+v", got)
	}
}
