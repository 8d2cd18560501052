package bootstrap_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/back-stack/idp/platform/bootstrap"
)

// step is a step that records its runs; check says whether it is done.
func step(id string, ran *[]string, check func() (bool, error), run func(ctx context.Context) error) bootstrap.Step {
	s := bootstrap.Step{
		ID:    bootstrap.StepID(id),
		Title: "Step " + id,
		Run: func(ctx context.Context, out *bootstrap.StepOutput) error {
			*ran = append(*ran, id)
			out.Logf("running %s", id)
			if run != nil {
				return run(ctx)
			}
			return nil
		},
	}
	if check != nil {
		s.Check = func(context.Context) (bool, error) { return check() }
	}
	return s
}

func types(events []bootstrap.Event) string {
	var out []string
	for _, ev := range events {
		if ev.Type == bootstrap.PipelineDone {
			out = append(out, "done")
			continue
		}
		out = append(out, string(ev.Step)+":"+ev.Type.String())
	}
	return strings.Join(out, " ")
}

func TestRunnerSkipsDoneStepsAndCheckpoints(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state", "demo.json")
	var ran []string
	r := &bootstrap.Runner{
		Checkpoint: &bootstrap.Checkpoint{Platform: "demo"},
		Path:       path,
		Steps: []bootstrap.Step{
			step("a", &ran, nil, nil),
			step("b", &ran, func() (bool, error) { return true, nil }, nil),
			step("c", &ran, func() (bool, error) { return false, errors.New("cannot tell") }, nil),
		},
	}
	events, err := collect(func(ch chan<- bootstrap.Event) error { return r.Run(context.Background(), ch) })
	if err != nil {
		t.Fatal(err)
	}
	want := "a:started a:log a:finished b:started b:skipped c:started c:log c:log c:finished done"
	if got := types(events); got != want {
		t.Errorf("events:\n got %s\nwant %s", got, want)
	}
	if strings.Join(ran, ",") != "a,c" {
		t.Errorf("ran %v", ran)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("checkpoint mode %v, want 0600", info.Mode().Perm())
	}
	ckpt, err := bootstrap.LoadCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	if ckpt.Finished.IsZero() || !ckpt.Done("a") || !ckpt.Done("b") || !ckpt.Step("b").Skipped || !ckpt.Done("c") {
		t.Errorf("checkpoint %+v", ckpt)
	}
	if matches, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".*tmp")); len(matches) != 0 {
		t.Errorf("temporary files left: %v", matches)
	}

	// A second runner on the same checkpoint runs nothing.
	ran = nil
	r2 := &bootstrap.Runner{Checkpoint: ckpt, Path: path, Steps: r.Steps}
	events, _ = collect(func(ch chan<- bootstrap.Event) error { return r2.Run(context.Background(), ch) })
	if got := types(events); got != "a:skipped b:skipped c:skipped done" || len(ran) != 0 {
		t.Errorf("rerun: %s, ran %v", got, ran)
	}
}

func TestRunnerFailureSaysTheNextAction(t *testing.T) {
	path := filepath.Join(t.TempDir(), "demo.json")
	var ran []string
	boom := errors.New("quota exceeded")
	r := &bootstrap.Runner{
		Checkpoint:    &bootstrap.Checkpoint{Platform: "demo"},
		Path:          path,
		ResumeCommand: "idp bootstrap --config p.yaml --resume",
		Steps: []bootstrap.Step{
			step("a", &ran, nil, nil),
			step("b", &ran, nil, func(context.Context) error { return boom }),
			step("c", &ran, nil, nil),
		},
	}
	events, err := collect(func(ch chan<- bootstrap.Event) error { return r.Run(context.Background(), ch) })
	if !errors.Is(err, boom) {
		t.Fatalf("err %v", err)
	}
	failed := events[len(events)-2]
	if failed.Type != bootstrap.StepFailed || failed.Step != "b" || failed.Interrupted ||
		failed.NextAction != "Fix the cause above, then run `idp bootstrap --config p.yaml --resume` to continue from step 2 (Step b)." {
		t.Errorf("failed event %+v", failed)
	}
	if strings.Join(ran, ",") != "a,b" {
		t.Errorf("ran %v", ran)
	}
	ckpt, _ := bootstrap.LoadCheckpoint(path)
	if rec := ckpt.Step("b"); rec.Done || rec.Error != "quota exceeded" || !ckpt.Finished.IsZero() {
		t.Errorf("record of b: %+v", rec)
	}

	// A step's own next action wins; a timeout says what it waited for.
	r.Steps[1].NextAction = func(err error) string { return "Raise the quota. " + err.Error() }
	r.Steps[1].Wait = bootstrap.Wait{For: "the quota", Timeout: 20 * time.Millisecond}
	r.Steps[1].Run = func(ctx context.Context, _ *bootstrap.StepOutput) error { <-ctx.Done(); return ctx.Err() }
	events, err = collect(func(ch chan<- bootstrap.Event) error { return r.Run(context.Background(), ch) })
	failed = events[len(events)-2]
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "timed out after 20ms waiting for the quota") ||
		!strings.HasPrefix(failed.NextAction, "Raise the quota. timed out") {
		t.Errorf("timeout: err %v, next %q", err, failed.NextAction)
	}
}

func TestRunnerInterruptAndLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "demo.json")
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan struct{})
	var ran []string
	r := &bootstrap.Runner{
		Checkpoint: &bootstrap.Checkpoint{Platform: "demo"},
		Path:       path,
		Steps: []bootstrap.Step{
			step("a", &ran, nil, func(ctx context.Context) error { close(started); <-ctx.Done(); return ctx.Err() }),
			step("b", &ran, nil, nil),
		},
	}
	result := make(chan error, 1)
	go func() { result <- r.Run(ctx, nil) }()
	<-started
	// While a run holds the lock, another is refused.
	other := &bootstrap.Runner{Checkpoint: &bootstrap.Checkpoint{Platform: "demo"}, Path: path, Steps: r.Steps[1:]}
	if err := other.Run(context.Background(), nil); err == nil || !strings.Contains(err.Error(), "another idp bootstrap") {
		t.Errorf("a second concurrent run: %v", err)
	}
	cancel()
	err := <-result
	if !errors.Is(err, bootstrap.ErrInterrupted) || !errors.Is(err, context.Canceled) {
		t.Errorf("err %v", err)
	}
	if strings.Join(ran, ",") != "a" {
		t.Errorf("ran %v after the interrupt", ran)
	}
}

func TestCheckpointLocation(t *testing.T) {
	t.Setenv("XDG_STATE_HOME", "/var/tmp/xdg-state")
	got, err := bootstrap.CheckpointPath("", "prod-westeurope")
	if err != nil || got != "/var/tmp/xdg-state/idp/bootstrap/prod-westeurope.json" {
		t.Errorf("with XDG_STATE_HOME: %q %v", got, err)
	}
	t.Setenv("XDG_STATE_HOME", "")
	t.Setenv("HOME", "/home/ada")
	if got, _ := bootstrap.CheckpointPath("", "prod"); got != "/home/ada/.local/state/idp/bootstrap/prod.json" {
		t.Errorf("without XDG_STATE_HOME: %q", got)
	}
	for _, bad := range []string{"", "../etc", "a/b", "Prod"} {
		if _, err := bootstrap.CheckpointPath("/tmp", bad); err == nil {
			t.Errorf("platform name %q accepted", bad)
		}
	}
	if _, err := bootstrap.LoadCheckpoint(filepath.Join(t.TempDir(), "none.json")); !errors.Is(err, bootstrap.ErrNoCheckpoint) {
		t.Errorf("missing checkpoint: %v", err)
	}
}

func TestNewPipelineRejectsIncompleteManifests(t *testing.T) {
	cfg := bootstrap.PipelineConfig{
		Platform:   "demo",
		Seed:       bootstrap.ExistingSeed{Kubeconfig: "/nonexistent"},
		Crossplane: bootstrap.DefaultCrossplaneChart,
		ArgoCD:     bootstrap.DefaultArgoCDChart,
		StateDir:   t.TempDir(),
		Manifests:  testManifests("demo"),
	}
	if _, err := bootstrap.NewPipeline(cfg); err != nil {
		t.Fatalf("complete manifests: %v", err)
	}
	for _, drop := range []string{"bootstrap/root.yaml", "platform/crossplane/providerconfig.yaml", "infrastructure/platform.yaml"} {
		m := testManifests("demo")
		delete(m, drop)
		cfg.Manifests = m
		if _, err := bootstrap.NewPipeline(cfg); err == nil || !strings.Contains(err.Error(), "incomplete") {
			t.Errorf("without %s: %v", drop, err)
		}
	}
	cfg.Manifests = testManifests("demo")
	cfg.Crossplane.RepoURL = ""
	if _, err := bootstrap.NewPipeline(cfg); err == nil {
		t.Errorf("a chart without a repository or path was accepted")
	}
}

// Without a container runtime, a kind seed stops at pre-flight with the
// way out: start Docker, or use an existing cluster.
func TestKindSeedNeedsAContainerRuntime(t *testing.T) {
	for _, rt := range []string{"docker", "podman", "nerdctl"} {
		if err := exec.Command(rt, "info").Run(); err == nil {
			t.Skipf("%s runs here; this test is about a machine without a container runtime", rt)
		}
	}
	dir := t.TempDir()
	seed, err := bootstrap.NewKindSeed(dir, "demo")
	if err != nil || seed.Name != "idp-demo-seed" || seed.Kubeconfig != filepath.Join(dir, "demo-seed.kubeconfig") {
		t.Fatalf("kind seed %+v %v", seed, err)
	}
	p, err := bootstrap.NewPipeline(bootstrap.PipelineConfig{
		Platform: "demo", Manifests: testManifests("demo"), StateDir: dir,
		Seed:       seed,
		Crossplane: bootstrap.DefaultCrossplaneChart, ArgoCD: bootstrap.DefaultArgoCDChart,
	})
	if err != nil {
		t.Fatal(err)
	}
	events, err := collect(func(ch chan<- bootstrap.Event) error { return p.Run(context.Background(), ch) })
	if err == nil {
		t.Fatal("pre-flight passed without a container runtime")
	}
	failed := events[len(events)-2]
	if failed.Step != bootstrap.StepPreflight || !strings.Contains(failed.NextAction, "Start Docker") || !strings.Contains(failed.NextAction, "--seed-kubeconfig") {
		t.Errorf("failed event %+v", failed)
	}
	// Nothing was created, so running again starts over rather than
	// asking for --resume.
	if _, err := p.Runner(false); err != nil {
		t.Errorf("a new run after a failed pre-flight: %v", err)
	}
}

func TestChartForArgoCDRelease(t *testing.T) {
	got := bootstrap.ChartFor(bootstrap.HelmRelease{Application: "crossplane", RepoURL: "https://charts.crossplane.io/stable", Chart: "crossplane",
		Version: "2.1.0", ReleaseName: "crossplane", Namespace: "crossplane-system", Values: map[string]any{"args": []any{"--debug"}}})
	if got.RepoURL != "https://charts.crossplane.io/stable" || got.Chart != "crossplane" || got.Version != "2.1.0" ||
		got.Release != "crossplane" || got.Namespace != "crossplane-system" || got.Values["args"] == nil {
		t.Errorf("https chart: %+v", got)
	}
	oci := bootstrap.ChartFor(bootstrap.HelmRelease{RepoURL: "ghcr.io/argoproj/argo-helm", Chart: "argo-cd", Version: "9.1.0", ReleaseName: "argocd", Namespace: "argocd"})
	if oci.RepoURL != "" || oci.Chart != "oci://ghcr.io/argoproj/argo-helm/argo-cd" || oci.Source() != "oci://ghcr.io/argoproj/argo-helm/argo-cd 9.1.0" {
		t.Errorf("OCI chart: %+v (%s)", oci, oci.Source())
	}
}
