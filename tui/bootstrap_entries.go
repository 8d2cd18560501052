package tui

import (
	"context"

	"github.com/back-stack/idp/platform/bootstrap"
	"github.com/back-stack/idp/platform/platformconfig"
	"github.com/back-stack/idp/tui/nav"
	"github.com/back-stack/idp/tui/screens/home"
	"github.com/back-stack/idp/tui/screens/pipeline"
	"github.com/back-stack/idp/tui/screens/wizard"
	"github.com/back-stack/idp/tui/theme"
)

// Bootstrapper is the platform engineer's bootstrap: the wizard's starting
// answers and plan, and the run. `idp bootstrap --config` uses the same
// code beneath it.
type Bootstrapper interface {
	// Initial is the wizard's first answers: the GitOps repository's
	// .idp/platform.yaml when there is one, else the defaults. It is read
	// before the TUI starts.
	Initial() platformconfig.Config
	// Prefill reads the az CLI's login (subscription, tenant), if any.
	Prefill() (subscription, tenant string)
	// Plan is what a run would do, as lines.
	Plan(ctx context.Context, cfg platformconfig.Config) ([]string, error)
	// Run prepares a run of cfg: its steps, and a function that starts it
	// and streams its events (the channel closes after PipelineDone).
	Run(ctx context.Context, cfg platformconfig.Config) ([]bootstrap.Step, func(context.Context) <-chan bootstrap.Event, error)
	// Resume is what the user runs to continue an interrupted run.
	Resume() string
}

// bootstrapEntry keeps one wizard for the app's life, so leaving it and
// coming back keeps every answer.
func bootstrapEntry(th theme.Theme, b Bootstrapper) home.Entry {
	var w *wizard.Model
	return home.Entry{Title: wizard.Title, Description: wizard.Description, Open: func() nav.Screen {
		if w == nil {
			w = wizard.New(wizard.Options{
				Theme: th, Initial: b.Initial(), Prefill: b.Prefill, Plan: b.Plan,
				Start: func(cfg platformconfig.Config) nav.Screen { return pipelineScreen(th, b, cfg) },
			})
		}
		return w
	}}
}

// pipelineScreen runs cfg's bootstrap live; a run that cannot start shows
// why on the same screen.
func pipelineScreen(th theme.Theme, b Bootstrapper, cfg platformconfig.Config) nav.Screen {
	steps, start, err := b.Run(context.Background(), cfg)
	if err != nil {
		start = func(context.Context) <-chan bootstrap.Event {
			ch := make(chan bootstrap.Event, 1)
			ch <- bootstrap.Event{Type: bootstrap.PipelineDone, Err: err}
			close(ch)
			return ch
		}
	}
	return pipeline.New(context.Background(), pipeline.Options{
		Theme: th, Title: "Bootstrap " + cfg.Name, Steps: steps, Start: start, Resume: b.Resume(),
	})
}
