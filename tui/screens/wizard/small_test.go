package wizard_test

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/back-stack/idp/platform/platformconfig"
	"github.com/back-stack/idp/tui/theme"
)

// fits fails when the screen is taller or wider than the window.
func fits(t *testing.T, v string, w, h int) {
	t.Helper()
	lines := strings.Split(v, "\n")
	if len(lines) > h {
		t.Errorf("%d lines in a %dx%d window:\n%s", len(lines), w, h, v)
	}
	for _, l := range lines {
		if n := ansi.StringWidth(l); n > w {
			t.Errorf("line %q is %d wide in a %dx%d window", l, n, w, h)
		}
	}
}

// At 60x15 without colour the whole wizard can be done: every focused
// input is on screen, every error is shown in full above the footer, and
// the summary scrolls to the plan's last line.
func TestSmallWindowNoColor(t *testing.T) {
	const w, h = 60, 15
	f := &fakes{}
	th := theme.New(true)
	r := start(t, th, w, h, newWizard(f, platformconfig.Defaults(), prefill, th))

	// step checks the screen once the focus is on title: it fits, the
	// field's input line is there, and the footer says how to go on.
	step := func(title string) string {
		t.Helper()
		v := r.waitFocus(title)
		fits(t, v, w, h)
		lines := strings.Split(v, "\n")
		for i, l := range lines {
			if focusRE(title).MatchString(l) {
				if !strings.Contains(strings.Join(lines[i:], "\n"), "┃ >") {
					t.Errorf("%s: its input is not on screen:\n%s", title, v)
				}
				break
			}
		}
		if !strings.Contains(lines[len(lines)-1], "enter next") {
			t.Errorf("%s: the footer is %q", title, lines[len(lines)-1])
		}
		return v
	}
	// rejected checks that err is on screen in full, with the input.
	rejected := func(title string, err error) {
		t.Helper()
		want := squeeze(err.Error())
		v := r.waitView("the error "+want, func(v string) bool {
			return strings.Contains(squeeze(v), want)
		})
		fits(t, v, w, h)
		if !focusRE(title).MatchString(v) || !strings.Contains(v, "┃ >") {
			t.Errorf("%s: the field is not on screen with its error:\n%s", title, v)
		}
	}

	step("Platform name")
	r.typeText("acme")
	r.next("Subscription ID")
	r.waitText(sub)
	for _, title := range titles[2:4] {
		r.next(title)
		step(title)
	}
	r.set("westeurop")
	r.keys(enter)
	rejected("Region", platformconfig.ValidateLocation("westeurop"))
	r.set("westeurope")
	for _, title := range titles[4:11] {
		r.next(title)
		step(title)
	}
	r.typeText("git@github.com:acme/gitops.git")
	r.next("Branch")
	// The longest message a validator gives: six lines at this width.
	r.set("main..x y")
	r.keys(enter)
	rejected("Branch", platformconfig.ValidateBranch("main..x y"))
	r.set("main")
	for _, title := range titles[12:] {
		r.next(title)
		step(title)
	}
	r.keys(enter)
	v := r.waitText("Review the answers")
	fits(t, v, w, h)
	if !strings.Contains(v, "enter start") {
		t.Errorf("the footer does not say how to start:\n%s", v)
	}
	r.typeText("G")
	v = r.waitText("create AKS aks-idp-platform in westeurope")
	fits(t, v, w, h)
	// A plan line wider than the window wraps instead of being cut.
	body := strings.Split(v, "\n")
	body = body[2 : len(body)-1] // less the header and the footer the shell cuts
	if !strings.Contains(squeeze(v), squeeze("infrastructure/ to git@github.com:acme/gitops.git")) || strings.Contains(strings.Join(body, "\n"), "…") {
		t.Errorf("a plan line was cut:\n%s", v)
	}
}
