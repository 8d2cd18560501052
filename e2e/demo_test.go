package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/back-stack/idp/internal/testworld"
)

// demoWait covers the simulated loop: a service goes from a commit to
// Healthy in about 20 seconds on the demo's pace.
const demoWait = 90 * time.Second

func startDemo(t *testing.T, dir string, args ...string) *testworld.Terminal {
	t.Helper()
	term := testworld.StartTerminal(t, testworld.TerminalOptions{Width: 120, Height: 32, Env: env(t)},
		append([]string{testworld.IdpBinary(t), "demo", "--dir", dir}, args...)...)
	return term
}

// The newcomer's loop on the real binary: idp demo opens the TUI on a new
// playground with its banner, the example services come up (payments
// Degraded), a service created through the golden-path form is watched
// until Healthy, and quitting leaves no process behind.
func TestDemoEndToEnd(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "playground")
	term := startDemo(t, dir)
	term.WaitFor("DEMO  playground in "+dir, demoWait)

	fillGoService(t, term, "shop-api", true)
	term.WaitFor("GitOps change", wait)
	term.SendKeys("Enter")
	term.WaitFor("Created shop-api", wait)
	term.WaitFor("Press w to watch", wait)
	term.SendKeys("w")
	term.WaitFor("filter: shop-api", wait)
	screen := term.WaitFor("Healthy", demoWait)
	if !strings.Contains(screen, "shop-api") || !strings.Contains(screen, "Synced") {
		t.Fatalf("the new service's row:\n%s", screen)
	}

	// Its database is composed and becomes Ready in the Crossplane view.
	term.SendKeys("Escape")
	term.WaitFor("Created shop-api", wait)
	term.SendKeys("Escape")
	term.WaitFor("DEMO  playground", wait)
	openEntry(t, term, "Crossplane")
	term.WaitFor("FlexibleServer shop-api/shop-api-db-server", demoWait)
	term.WaitFor("0 not ready", demoWait)

	// The failure path: payments is Degraded, with the reason.
	term.SendKeys("Escape")
	term.WaitFor("DEMO  playground", wait)
	openEntry(t, term, "Applications")
	term.WaitFor("applications · sort", wait) // the screen is open: keys reach it
	term.SendKeys("/")
	term.SendKeys("payments", "Enter")
	term.WaitFor("1 of ", wait)
	term.WaitFor("Degraded", demoWait)
	term.SendKeys("Enter")
	term.WaitFor("exceeded its progress deadline", wait)

	term.SendKeys("q")
	if code := term.WaitExit(wait); code != 0 {
		t.Fatalf("idp demo exited with %d", code)
	}
	// The test terminal's shell stays; idp itself must be gone.
	pattern := "^" + regexp.QuoteMeta(testworld.IdpBinary(t)) + " demo --dir " + regexp.QuoteMeta(dir)
	if out, err := exec.Command("pgrep", "-f", pattern).Output(); err == nil {
		t.Fatalf("idp processes left behind after quitting: %s", out)
	}

	// The GitOps repository holds what the form committed.
	gitops := filepath.Join(dir, "git", "platform-gitops.git")
	files := testworld.Git(t, "", "--git-dir", gitops, "ls-tree", "-r", "--name-only", "main", "apps/shop-api")
	if files != "apps/shop-api/application.yaml\napps/shop-api/database.yaml\napps/shop-api/namespace.yaml" {
		t.Fatalf("apps/shop-api in Git:\n%s", files)
	}
	testworld.Git(t, "", "--git-dir", gitops, "fsck", "--strict")
}

// A second run reuses the playground; --reset starts afresh; two
// playgrounds run side by side; one playground refuses a second idp.
func TestDemoPlaygrounds(t *testing.T) {
	base := t.TempDir()
	a, b := filepath.Join(base, "a"), filepath.Join(base, "b")

	termA := startDemo(t, a)
	termA.WaitFor("DEMO  playground in "+a, demoWait)
	gitopsA := filepath.Join(a, "git", "platform-gitops.git")
	mark := testworld.Git(t, "", "--git-dir", gitopsA, "rev-parse", "main")

	termB := startDemo(t, b)
	termB.WaitFor("DEMO  playground in "+b, demoWait)
	if testworld.Git(t, "", "--git-dir", filepath.Join(b, "git", "platform-gitops.git"), "rev-parse", "main") == mark {
		t.Fatal("two playgrounds share a GitOps history")
	}

	// The same folder twice: a clear error, and the first demo unharmed.
	termSecond := startDemo(t, a)
	termSecond.WaitFor("in use by another idp demo", wait)
	if code := termSecond.WaitExit(wait); code == 0 {
		t.Fatal("a second idp demo on one playground exited 0")
	}

	openEntry(t, termA, "Applications")
	termA.WaitFor("payments", demoWait)
	termA.SendKeys("q")
	termB.SendKeys("q")
	if termA.WaitExit(wait) != 0 || termB.WaitExit(wait) != 0 {
		t.Fatal("a demo did not exit cleanly")
	}

	// Reused: the same history.
	termA = startDemo(t, a)
	termA.WaitFor("DEMO  playground in "+a, demoWait)
	termA.SendKeys("q")
	termA.WaitExit(wait)
	if got := testworld.Git(t, "", "--git-dir", gitopsA, "rev-parse", "main"); got != mark {
		t.Fatalf("a second run changed the playground: %s -> %s", mark, got)
	}

	// --reset: a new history.
	termA = startDemo(t, a, "--reset")
	termA.WaitFor("DEMO  playground in "+a, demoWait)
	termA.SendKeys("q")
	termA.WaitExit(wait)
	if got := testworld.Git(t, "", "--git-dir", gitopsA, "rev-parse", "main"); got == mark {
		t.Fatal("--reset kept the old playground")
	}
}

// The platform engineer's path in the demo: the Bootstrap wizard, its
// summary and plan, and the pipeline screen running every step to the end.
func TestDemoBootstrap(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "playground")
	// Tall enough for the whole summary with its plan.
	term := testworld.StartTerminal(t, testworld.TerminalOptions{Width: 140, Height: 80, Env: env(t)},
		testworld.IdpBinary(t), "demo", "--dir", dir, "--pace", "200ms")
	term.WaitFor("DEMO  playground in "+dir, demoWait)
	openEntry(t, term, "Bootstrap")
	term.WaitFor("Platform name", wait)
	// The answers are the demo platform's own .idp/platform.yaml: accept
	// each, page by page, until the summary.
	acceptAnswers(t, term)
	term.WaitFor("Commit the platform to the GitOps repository: 27 files", wait)
	term.WaitFor("the steps after it are simulated", wait)
	term.SendKeys("Enter")
	screen := term.WaitFor("Done: 9 of 9 steps done", demoWait)
	for _, want := range []string{"✓ 1. Commit the platform", "✓ 5. AKS, ACR and identities from the seed", "✓ 9. Delete the seed"} {
		if !strings.Contains(screen, want) {
			t.Errorf("missing %q:\n%s", want, screen)
		}
	}
	term.SendKeys("q")
	if code := term.WaitExit(wait); code != 0 {
		t.Fatalf("idp demo exited with %d", code)
	}
}

// The real bootstrap from the TUI: idp bootstrap opens the wizard on the
// repository's .idp/platform.yaml; the run commits the platform to Git
// first, then stops at the pre-flight check of a seed cluster that does not
// answer, saying what to do; the checkpoint is in the state dir.
func TestBootstrapWizardCommitsFirst(t *testing.T) {
	dir := t.TempDir()
	gitops := filepath.Join(dir, "gitops.git")
	testworld.Git(t, "", "init", "--quiet", "--bare", "--initial-branch=main", gitops)
	work := filepath.Join(dir, "work")
	testworld.Git(t, "", "clone", "--quiet", gitops, work)
	if err := os.MkdirAll(filepath.Join(work, ".idp"), 0o755); err != nil {
		t.Fatal(err)
	}
	platform := "apiVersion: idp.back-stack.io/v1alpha1\nkind: PlatformConfig\nname: acme\nazure:\n  subscriptionID: 00000000-0000-0000-0000-000000000001\n" +
		"  tenantID: 00000000-0000-0000-0000-000000000002\n  location: westeurope\n  resourceGroup: rg-acme\n  aks: {name: aks-acme}\n  acr: {name: acmeplatform}\n" +
		"gitops:\n  url: file://" + gitops + "\n"
	if err := os.WriteFile(filepath.Join(work, ".idp", "platform.yaml"), []byte(platform), 0o644); err != nil {
		t.Fatal(err)
	}
	testworld.Git(t, work, "add", ".")
	testworld.Git(t, work, "commit", "--quiet", "-m", "platform answers")
	testworld.Git(t, work, "push", "--quiet", "origin", "HEAD:main")
	seed := filepath.Join(dir, "seed.kubeconfig")
	os.WriteFile(seed, []byte("apiVersion: v1\nkind: Config\nclusters:\n- name: s\n  cluster: {server: https://127.0.0.1:1}\nusers:\n- name: u\n  user: {token: x}\ncontexts:\n- name: s\n  context: {cluster: s, user: u}\ncurrent-context: s\n"), 0o600)
	state := filepath.Join(dir, "state")

	term := testworld.StartTerminal(t, testworld.TerminalOptions{Width: 140, Height: 80,
		Env: env(t, "XDG_STATE_HOME="+state, "GIT_AUTHOR_NAME=Ada Ops", "GIT_AUTHOR_EMAIL=ada@example.com", "PATH=/usr/bin:/bin")},
		testworld.IdpBinary(t), "--gitops", gitops, "bootstrap", "--seed-kubeconfig", seed)
	term.WaitFor("Platform name", wait)
	term.WaitFor("> acme", wait) // the repository's answers
	acceptAnswers(t, term)
	term.WaitFor("aks-acme", wait)
	term.WaitFor("Commit the platform to the GitOps repository: 27 files", wait)
	term.SendKeys("Enter")
	screen := term.WaitFor("Stopped", demoWait)
	for _, want := range []string{"✓ 1. Commit the platform to the GitOps repository", "✗ 2. Pre-flight checks", "Error:"} {
		if !strings.Contains(screen, want) {
			t.Errorf("missing %q:\n%s", want, screen)
		}
	}
	if files := testworld.Git(t, "", "--git-dir", gitops, "ls-tree", "-r", "--name-only", "main", "bootstrap"); files != "bootstrap/infrastructure.yaml\nbootstrap/root.yaml" {
		t.Errorf("bootstrap/ in Git: %q", files)
	}
	if _, err := os.Stat(filepath.Join(state, "idp", "bootstrap", "acme.json")); err != nil {
		t.Errorf("no checkpoint: %v", err)
	}
	term.SendKeys("Escape")
	term.WaitFor("The bootstrap was started with these answers", wait)
	term.SendKeys("q")
	if code := term.WaitExit(wait); code != 0 {
		t.Fatalf("idp exited with %d", code)
	}
}

// acceptAnswers presses enter through the wizard, keeping every answer,
// until its summary shows.
func acceptAnswers(t *testing.T, term *testworld.Terminal) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !strings.Contains(term.Screen(), "Review the answers") {
		if time.Now().After(deadline) {
			t.Fatalf("the wizard never reached its summary:\n%s", term.Screen())
		}
		// One enter per answer: wait for the screen to take it before the
		// next, so no enter is left queued when the summary appears (an
		// enter on the summary starts the run).
		before := term.Screen()
		term.SendKeys("Enter")
		for settle := time.Now().Add(5 * time.Second); term.Screen() == before && time.Now().Before(settle); {
			time.Sleep(50 * time.Millisecond)
		}
		// Let the page finish drawing (a blinking cursor is a change too).
		time.Sleep(300 * time.Millisecond)
	}
}
