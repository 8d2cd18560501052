// Package bootstrap brings a platform up from nothing: a seed cluster runs
// Crossplane long enough to create AKS, Argo CD on AKS takes over the
// platform from Git, Crossplane on AKS adopts the infrastructure, and the
// seed goes away. The pipeline is a list of steps (data: an id, a title, a
// check, an action and how it waits) run by a Runner that reports events for
// a TUI or a CLI and checkpoints after every step, so a run can resume after
// a failure, a crash or Ctrl-C without doing anything twice.
package bootstrap

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/gofrs/flock"

	"github.com/back-stack/idp/platform/argocd"
	"github.com/back-stack/idp/platform/crossplane"
)

// StepID names a step; it is what the checkpoint records.
type StepID string

// The bootstrap steps, in order.
const (
	StepPreflight      StepID = "preflight"
	StepSeed           StepID = "seed"
	StepCrossplane     StepID = "crossplane"
	StepInfrastructure StepID = "infrastructure"
	StepKubeconfig     StepID = "kubeconfig"
	StepArgoCD         StepID = "argocd"
	StepAdopt          StepID = "adopt"
	StepDeleteSeed     StepID = "delete-seed"
)

// Step is one stage of the pipeline.
type Step struct {
	ID    StepID
	Title string
	// Check reports whether the step's work is already there, so a run
	// that reaches it skips it. Nil means the step always runs. A check
	// that fails is logged and the step runs: its actions are idempotent.
	Check func(ctx context.Context) (done bool, err error)
	// Run does the step's work and waits for it to take effect. Its
	// actions are idempotent (server-side apply, Helm upgrade --install,
	// create-if-absent), so running it again after an interruption
	// duplicates nothing.
	Run func(ctx context.Context, out *StepOutput) error
	// Wait is how the step waits; the Runner enforces its timeout.
	Wait Wait
	// NextAction turns a failure into the sentence that tells the user
	// what to do; nil uses the generic "fix and resume" sentence.
	NextAction func(err error) string
}

// Wait says what a step waits for and for how long.
type Wait struct {
	// For is what the step waits for, as a phrase: "the Providers to be Healthy".
	For string
	// Timeout bounds the whole step; zero means no bound but the caller's.
	Timeout time.Duration
	// Interval is how often the step polls.
	Interval time.Duration
}

// EventType is the kind of a pipeline event.
type EventType int

const (
	// StepStarted: the step is current (its check runs first).
	StepStarted EventType = iota
	// StepLog: a line of the current step's log.
	StepLog
	// StepProgress: what the current step waits on, as it changes.
	StepProgress
	// StepSkipped: the step was done already (by an earlier run, or its check says so).
	StepSkipped
	// StepFinished: the step did its work.
	StepFinished
	// StepFailed: the step failed or was interrupted; NextAction says what to do.
	StepFailed
	// PipelineDone: the run is over; Err is nil when every step is done.
	PipelineDone
)

var eventNames = [...]string{"started", "log", "progress", "skipped", "finished", "failed", "done"}

func (t EventType) String() string {
	if int(t) < len(eventNames) {
		return eventNames[t]
	}
	return fmt.Sprintf("EventType(%d)", int(t))
}

// Event is one thing that happened in a run. Events are values: nothing in
// them is shared with the pipeline.
type Event struct {
	Type  EventType
	Step  StepID
	Title string
	// Index is the step's position, from 1; Total is the number of steps.
	Index, Total int
	Time         time.Time
	// Duration: how long the step took (finished, failed, skipped by check).
	Duration time.Duration
	// Line is a log line (StepLog).
	Line string
	// Reason says why a step was skipped.
	Reason string
	// Progress is set for StepProgress.
	Progress *Progress
	// Err is the failure (StepFailed, PipelineDone).
	Err error
	// NextAction is the user-facing sentence saying what to do after a failure.
	NextAction string
	// Interrupted: the run stopped because its context was cancelled (Ctrl-C).
	Interrupted bool
}

// Progress is what a waiting step is waiting on.
type Progress struct {
	// Summary is one line: "2/3 Ready".
	Summary string
	// Trees are the Crossplane trees of the objects the step applied.
	Trees []crossplane.Tree
	// Apps are the Argo CD Applications the step waits on.
	Apps []argocd.App
}

// StepOutput is how a running step reports to the Runner.
type StepOutput struct {
	emit func(Event)
	base Event
	last string
}

// Logf adds a line to the step's log.
func (o *StepOutput) Logf(format string, args ...any) {
	if o == nil || o.emit == nil {
		return
	}
	ev := o.base
	ev.Type, ev.Time, ev.Line = StepLog, time.Now(), fmt.Sprintf(format, args...)
	o.emit(ev)
}

// Progress reports what the step waits on; a summary equal to the last one
// is not sent again.
func (o *StepOutput) Progress(p Progress) {
	if o == nil || o.emit == nil || p.Summary == o.last {
		return
	}
	o.last = p.Summary
	ev := o.base
	ev.Type, ev.Time, ev.Progress = StepProgress, time.Now(), &p
	o.emit(ev)
}

// ErrInterrupted is wrapped by the error of a run stopped by its context.
var ErrInterrupted = errors.New("bootstrap interrupted")

// Runner runs steps in order, skipping those done, and saves the
// checkpoint after every step.
type Runner struct {
	Steps      []Step
	Checkpoint *Checkpoint
	// Path is where the checkpoint is saved; empty keeps it in memory.
	Path string
	// ResumeCommand is what the user runs to continue: "idp bootstrap --resume".
	ResumeCommand string
}

// Stream runs the steps in a goroutine and returns their events; the
// channel closes after the PipelineDone event.
func (r *Runner) Stream(ctx context.Context) <-chan Event {
	ch := make(chan Event, 256)
	go func() {
		defer close(ch)
		r.Run(ctx, ch)
	}()
	return ch
}

// Run runs the steps and returns the first failure. Events go to events
// (which may be nil); a send never blocks past ctx's end for long.
func (r *Runner) Run(ctx context.Context, events chan<- Event) error {
	emit := func(ev Event) { send(ctx, events, ev) }
	err := r.run(ctx, emit)
	emit(Event{Type: PipelineDone, Time: time.Now(), Total: len(r.Steps), Err: err, Interrupted: errors.Is(err, ErrInterrupted)})
	return err
}

func (r *Runner) run(ctx context.Context, emit func(Event)) error {
	if r.Checkpoint == nil {
		return errors.New("bootstrap: runner without a checkpoint")
	}
	if r.Path != "" {
		if err := os.MkdirAll(filepath.Dir(r.Path), 0o700); err != nil {
			return fmt.Errorf("bootstrap: state directory: %w", err)
		}
		lock := flock.New(r.Path + ".lock")
		ok, err := lock.TryLock()
		if err != nil {
			return fmt.Errorf("bootstrap: locking %s: %w", r.Path, err)
		}
		if !ok {
			return fmt.Errorf("bootstrap: another idp bootstrap of %q is running (lock %s.lock held)", r.Checkpoint.Platform, r.Path)
		}
		defer lock.Unlock()
	}
	total := len(r.Steps)
	for i, s := range r.Steps {
		base := Event{Step: s.ID, Title: s.Title, Index: i + 1, Total: total}
		if rec := r.Checkpoint.Step(s.ID); rec.Done {
			ev := base
			ev.Type, ev.Time, ev.Reason = StepSkipped, time.Now(), "done in an earlier run"
			if !rec.Ended.IsZero() {
				ev.Reason += " (" + rec.Ended.Local().Format("2006-01-02 15:04:05") + ")"
			}
			emit(ev)
			continue
		}
		if err := ctx.Err(); err != nil {
			return r.fail(ctx, emit, base, s, StepRecord{ID: s.ID}, time.Now(), err)
		}
		if err := r.runStep(ctx, emit, base, s); err != nil {
			return err
		}
	}
	r.Checkpoint.Finished = time.Now().UTC()
	return r.save()
}

func (r *Runner) runStep(ctx context.Context, emit func(Event), base Event, s Step) error {
	start := time.Now()
	rec := StepRecord{ID: s.ID, Started: start.UTC()}
	ev := base
	ev.Type, ev.Time = StepStarted, start
	emit(ev)
	out := &StepOutput{emit: emit, base: base}

	if s.Check != nil {
		done, err := s.Check(ctx)
		switch {
		case err != nil && ctx.Err() != nil:
			return r.fail(ctx, emit, base, s, rec, start, err)
		case err != nil:
			out.Logf("could not tell whether this is done already (%v); running it", err)
		case done:
			rec.Done, rec.Skipped, rec.Ended = true, true, time.Now().UTC()
			rec.Duration = time.Since(start)
			r.Checkpoint.setStep(rec)
			if err := r.save(); err != nil {
				return r.fail(ctx, emit, base, s, rec, start, err)
			}
			ev := base
			ev.Type, ev.Time, ev.Duration, ev.Reason = StepSkipped, time.Now(), rec.Duration, "already done"
			emit(ev)
			return nil
		}
	}

	runCtx := ctx
	if s.Wait.Timeout > 0 {
		var cancel context.CancelFunc
		runCtx, cancel = context.WithTimeout(ctx, s.Wait.Timeout)
		defer cancel()
	}
	err := s.Run(runCtx, out)
	if err == nil && ctx.Err() != nil {
		// The work may be done, but the run was cancelled before it
		// could be recorded: the next run's check will tell.
		err = ctx.Err()
	}
	if err != nil {
		if ctx.Err() == nil && errors.Is(runCtx.Err(), context.DeadlineExceeded) {
			err = fmt.Errorf("timed out after %s waiting for %s: %w", s.Wait.Timeout, orWhat(s.Wait.For), err)
		}
		return r.fail(ctx, emit, base, s, rec, start, err)
	}
	rec.Done, rec.Ended = true, time.Now().UTC()
	rec.Duration = time.Since(start)
	r.Checkpoint.setStep(rec)
	if err := r.save(); err != nil {
		return r.fail(ctx, emit, base, s, rec, start, err)
	}
	ev = base
	ev.Type, ev.Time, ev.Duration = StepFinished, time.Now(), rec.Duration
	emit(ev)
	return nil
}

func orWhat(s string) string {
	if s == "" {
		return "the step to finish"
	}
	return s
}

func (r *Runner) fail(ctx context.Context, emit func(Event), base Event, s Step, rec StepRecord, start time.Time, err error) error {
	interrupted := ctx.Err() != nil
	if interrupted && !errors.Is(err, ErrInterrupted) {
		err = fmt.Errorf("%w during %q: %w", ErrInterrupted, s.Title, err)
	}
	rec.Done, rec.Error, rec.Ended = false, err.Error(), time.Now().UTC()
	if !start.IsZero() {
		rec.Duration = time.Since(start)
	}
	r.Checkpoint.setStep(rec)
	if serr := r.save(); serr != nil {
		err = errors.Join(err, serr)
	}
	resume := r.ResumeCommand
	if resume == "" {
		resume = "idp bootstrap --resume"
	}
	var next string
	switch {
	case interrupted:
		next = fmt.Sprintf("Stopped at step %d (%s); nothing is lost: run `%s` to continue from there.", base.Index, s.Title, resume)
	case s.NextAction != nil:
		next = s.NextAction(err)
	}
	if next == "" {
		next = fmt.Sprintf("Fix the cause above, then run `%s` to continue from step %d (%s).", resume, base.Index, s.Title)
	}
	ev := base
	ev.Type, ev.Time, ev.Duration, ev.Err, ev.NextAction, ev.Interrupted = StepFailed, time.Now(), rec.Duration, err, next, interrupted
	emit(ev)
	return err
}

func (r *Runner) save() error {
	if r.Path == "" {
		return nil
	}
	if err := r.Checkpoint.Save(r.Path); err != nil {
		return fmt.Errorf("bootstrap: saving the checkpoint %s: %w", r.Path, err)
	}
	return nil
}

// send delivers ev unless the reader is gone: after ctx ends it waits a
// moment (the last events say why the run stopped) and then gives up.
func send(ctx context.Context, ch chan<- Event, ev Event) {
	if ch == nil {
		return
	}
	select {
	case ch <- ev:
		return
	case <-ctx.Done():
	}
	t := time.NewTimer(2 * time.Second)
	defer t.Stop()
	select {
	case ch <- ev:
	case <-t.C:
	}
}
