package bootstrap_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"

	"github.com/back-stack/idp/platform/bootstrap"
)

// The whole bootstrap against the two API servers: every step runs, the
// events tell a TUI what happens, and the end state is checked.
func TestBootstrapRunsToTheEnd(t *testing.T) {
	w := getWorld(t)
	const p = "full"
	dir := t.TempDir()
	pl := newPipeline(t, w.config(p, dir))
	events, err := collect(func(ch chan<- bootstrap.Event) error { return pl.Run(context.Background(), ch) })
	if err != nil {
		t.Fatalf("bootstrap: %v\n%s", err, eventLog(events))
	}
	if os.Getenv("BOOTSTRAP_LOG") != "" {
		t.Log(eventLog(events))
	}
	w.assertBootstrapped(t, p, pl.CheckpointPath(), map[string]int{"crossplane": 1, "argocd": 1})

	// Every step starts, then finishes, in order; the infrastructure step
	// shows the Crossplane tree; the run ends with PipelineDone.
	var order []string
	sawTree := false
	for _, ev := range events {
		switch ev.Type {
		case bootstrap.StepStarted, bootstrap.StepFinished, bootstrap.StepSkipped, bootstrap.StepFailed:
			order = append(order, fmt.Sprintf("%s:%s", ev.Step, ev.Type))
		case bootstrap.StepProgress:
			if ev.Step == bootstrap.StepInfrastructure && len(ev.Progress.Trees) == 1 && ev.Progress.Trees[0].Root.Kind == "XPlatform" {
				sawTree = true
			}
		}
		if ev.Type == bootstrap.StepFinished && ev.Duration <= 0 {
			t.Errorf("%s finished without a duration", ev.Step)
		}
	}
	var want []string
	for _, id := range stepIDs {
		want = append(want, string(id)+":started", string(id)+":finished")
	}
	if strings.Join(order, " ") != strings.Join(want, " ") {
		t.Errorf("step events:\n got %v\nwant %v", order, want)
	}
	if !sawTree {
		t.Errorf("no progress event carried the infrastructure's Crossplane tree")
	}
	if last := events[len(events)-1]; last.Type != bootstrap.PipelineDone || last.Err != nil {
		t.Errorf("last event %+v, want PipelineDone without error", last)
	}

	// Starting again over a finished run is refused; resuming it skips
	// every step.
	if err := pl.Run(context.Background(), nil); !errors.Is(err, bootstrap.ErrCheckpointExists) {
		t.Errorf("a second Run: %v, want ErrCheckpointExists", err)
	}
	events, err = collect(func(ch chan<- bootstrap.Event) error { return pl.Resume(context.Background(), ch) })
	if err != nil {
		t.Fatal(err)
	}
	skipped := 0
	for _, ev := range events {
		if ev.Type == bootstrap.StepSkipped {
			skipped++
		}
		if ev.Type == bootstrap.StepStarted {
			t.Errorf("resuming a finished run started %s", ev.Step)
		}
	}
	if skipped != len(stepIDs) {
		t.Errorf("resuming a finished run skipped %d steps, want %d", skipped, len(stepIDs))
	}
}

// Ctrl-C in the middle of every step, then a crash right after the next
// checkpoint, then a resume: the bootstrap completes and nothing exists
// twice, on either cluster or in Azure.
func TestBootstrapResumesAfterInterruptAndCrashAtEveryStep(t *testing.T) {
	w := getWorld(t)
	for i, id := range stepIDs {
		t.Run(string(id), func(t *testing.T) {
			p := fmt.Sprintf("r%d", i+1)
			dir := t.TempDir()

			// 1. Ctrl-C at the step's first log line. The step waits for
			// the cancel to land if its work is quicker, so the
			// interruption is the step's own and never the next one's.
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			pl := newPipeline(t, w.config(p, dir))
			r, err := pl.Runner(false)
			if err != nil {
				t.Fatal(err)
			}
			run := r.Steps[i].Run
			r.Steps[i].Run = func(ctx context.Context, out *bootstrap.StepOutput) error {
				if err := run(ctx, out); err != nil {
					return err
				}
				<-ctx.Done()
				return nil
			}
			ch := make(chan bootstrap.Event, 64)
			var events []bootstrap.Event
			done := make(chan struct{})
			go func() {
				defer close(done)
				for ev := range ch {
					events = append(events, ev)
					if ev.Type == bootstrap.StepLog && ev.Step == id {
						cancel()
					}
				}
			}()
			err = r.Run(ctx, ch)
			close(ch)
			<-done
			if !errors.Is(err, bootstrap.ErrInterrupted) {
				t.Fatalf("interrupted run: %v, want ErrInterrupted\n%s", err, eventLog(events))
			}
			failed := events[len(events)-2]
			if failed.Type != bootstrap.StepFailed || failed.Step != id || !failed.Interrupted || !strings.Contains(failed.NextAction, "idp bootstrap --resume") {
				t.Fatalf("the interrupted step's event: %+v", failed)
			}
			ckpt, err := bootstrap.LoadCheckpoint(pl.CheckpointPath())
			if err != nil {
				t.Fatal(err)
			}
			if ckpt.Done(id) {
				t.Fatalf("step %s recorded done after an interruption", id)
			}

			// 2. Resume, and crash right after the checkpoint of the step
			// after the interrupted one: the runner is dropped.
			if i+1 < len(stepIDs) {
				r, err := newPipeline(t, w.config(p, dir)).Runner(true)
				if err != nil {
					t.Fatal(err)
				}
				r.Steps = r.Steps[:i+2]
				if err := r.Run(context.Background(), nil); err != nil {
					t.Fatalf("resume up to the crash: %v", err)
				}
				ckpt, err := bootstrap.LoadCheckpoint(r.Path)
				if err != nil {
					t.Fatal(err)
				}
				ckpt.Finished = time.Time{} // a crash leaves the run unfinished
				if err := ckpt.Save(r.Path); err != nil {
					t.Fatal(err)
				}
			}

			// 3. Resume to the end with a new pipeline, as a new process would.
			events, err = collect(func(ch chan<- bootstrap.Event) error {
				return newPipeline(t, w.config(p, dir)).Resume(context.Background(), ch)
			})
			if err != nil {
				t.Fatalf("resume: %v\n%s", err, eventLog(events))
			}
			maxRev := map[string]int{"crossplane": 1, "argocd": 1}
			if id == bootstrap.StepCrossplane {
				maxRev["crossplane"] = 2 // an install interrupted after its record was written is applied again as revision 2
			}
			if id == bootstrap.StepArgoCD {
				maxRev["argocd"] = 2
			}
			w.assertBootstrapped(t, p, pl.CheckpointPath(), maxRev)
		})
	}
}

// The dry run lists every step and manifest and touches nothing: no object
// on either cluster, no file in the state directory.
func TestBootstrapPlanTouchesNothing(t *testing.T) {
	w := getWorld(t)
	before := snapshot(t, w)
	dir := t.TempDir()
	pl := newPipeline(t, w.config("plan", dir))
	plan, err := pl.Plan()
	if err != nil {
		t.Fatal(err)
	}
	if after := snapshot(t, w); after != before {
		t.Errorf("the plan changed the clusters:\nbefore %s\nafter  %s", before, after)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("the plan wrote to the state directory: %v", entries)
	}
	if len(plan.Steps) != len(stepIDs) {
		t.Fatalf("plan has %d steps", len(plan.Steps))
	}
	for i, s := range plan.Steps {
		if s.ID != stepIDs[i] || len(s.Actions) == 0 || s.Done {
			t.Errorf("planned step %d: %+v", i+1, s)
		}
	}
	text := plan.String()
	for _, want := range []string{
		"kind: XPlatform", "kind: ClusterProviderConfig", "kind: Application", "name: root",
		"helm upgrade --install crossplane in xp-plan from testdata/charts/crossplane",
		"Secret xp-plan/azure-credentials key credentials",
		"crossplane.io/external-name",
		"remove what idp installed on the existing cluster",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("plan lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "s3cr3t") {
		t.Errorf("the plan shows the credentials")
	}
	if strings.Contains(text, "name: argocd\n") {
		t.Errorf("the plan applies platform/'s Argo CD Application on the seed:\n%s", text)
	}
}

// snapshot counts every object kind the pipeline could create.
func snapshot(t *testing.T, w *world) string {
	t.Helper()
	var b strings.Builder
	for _, c := range []struct {
		name string
		dyn  dynamic.Interface
	}{{"seed", w.seedDyn}, {"aks", w.aksDyn}} {
		name, dyn := c.name, c.dyn
		for _, gvr := range append(managedGVRs, providersGVR, functionsGVR, xrdsGVR, compositionsGVR, xplatformsGVR, pcGVR, appsGVR, secretsGVR, namespacesGVR, configMapsGVR) {
			l, err := dyn.Resource(gvr).List(context.Background(), metav1.ListOptions{})
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&b, "%s/%s=%v ", name, gvr.Resource, sortedNames(l.Items))
		}
	}
	return b.String()
}

func eventLog(events []bootstrap.Event) string {
	var b strings.Builder
	for _, ev := range events {
		fmt.Fprintf(&b, "%s %s %s", ev.Type, ev.Step, ev.Line)
		if ev.Progress != nil {
			b.WriteString(ev.Progress.Summary)
		}
		if ev.Err != nil {
			fmt.Fprintf(&b, " err=%v next=%s", ev.Err, ev.NextAction)
		}
		b.WriteString("\n")
	}
	return b.String()
}
