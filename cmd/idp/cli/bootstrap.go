package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/back-stack/idp/gitops"
	"github.com/back-stack/idp/platform/aks"
	"github.com/back-stack/idp/platform/bootstrap"
	"github.com/back-stack/idp/platform/config"
	"github.com/back-stack/idp/platform/environment"
	"github.com/back-stack/idp/platform/platformconfig"
	"github.com/back-stack/idp/tui"
	"github.com/back-stack/idp/tui/screens/wizard"
	"github.com/back-stack/idp/tui/theme"
)

const bootstrapExample = `  # The wizard (on a terminal)
  idp bootstrap

  # From a file, for scripts and CI: see the plan and every manifest first
  idp bootstrap --config platform.yaml --dry-run
  idp bootstrap --config platform.yaml --azure-credentials sp.json --yes

  # Continue after a failure, a crash or Ctrl-C
  idp bootstrap --config platform.yaml --azure-credentials sp.json --resume --yes

  # Use an existing cluster as the seed instead of kind
  idp bootstrap --config platform.yaml --seed-kubeconfig ~/.kube/seed --yes`

type bootstrapFlags struct {
	file           string
	yes, dryRun    bool
	resume         bool
	seedKubeconfig string
	seedContext    string
	keepSeed       bool
	credentials    string
	output         string
}

func newBootstrapCmd(g *globals) *cobra.Command {
	var f bootstrapFlags
	cmd := &cobra.Command{
		Use:   "bootstrap [--config FILE] [--yes] [--dry-run] [--resume]",
		Short: "Bring the platform up: Git first, then a kind seed, Crossplane, AKS, Argo CD, adoption",
		Long: `Bootstrap the platform. On a terminal without --config, a wizard asks for the
platform's configuration (.idp/platform.yaml) and shows the plan before
anything happens. With --config FILE (that file's format) it runs for scripts.

The rendered platform is committed to the GitOps repository first (--gitops,
else gitops.url in the file); then the pipeline runs: pre-flight checks, a
seed cluster (kind, or --seed-kubeconfig), Crossplane and provider-azure on
it, AKS, ACR and identities, the AKS kubeconfig, Argo CD on AKS with the app
of apps, Crossplane on AKS adopting the infrastructure, and the seed deleted.

Every step is checkpointed in the user state dir (~/.local/state/idp/bootstrap);
--resume continues after a failure, a crash or Ctrl-C without duplicating
anything. --dry-run prints the plan and every manifest and touches nothing.
The Azure credentials (a service principal's JSON) go only into a Kubernetes
Secret on the clusters, never into Git or the checkpoint.`,
		Example: bootstrapExample,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(f.output, outputText, outputJSON); err != nil {
				return err
			}
			cfg, err := g.config(cmd)
			if err != nil {
				return err
			}
			opts, err := f.runOptions()
			if err != nil {
				return err
			}
			if f.file == "" {
				if !isTerminal(cmd.OutOrStdout()) {
					return errors.New("no --config FILE: the wizard needs a terminal; for scripts pass --config with the platform configuration (the format of .idp/platform.yaml)")
				}
				return runWizard(cmd.Context(), cfg, opts)
			}
			return runBootstrapFile(cmd, cfg, f, opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.file, "config", "", "the platform configuration (the format of .idp/platform.yaml); without it, the wizard")
	fl.BoolVarP(&f.yes, "yes", "y", false, "run without asking")
	fl.BoolVar(&f.dryRun, "dry-run", false, "print the plan and every manifest; touch nothing")
	fl.BoolVar(&f.resume, "resume", false, "continue the checkpointed run of this platform")
	fl.StringVar(&f.seedKubeconfig, "seed-kubeconfig", "", "use this cluster as the seed instead of making a kind cluster")
	fl.StringVar(&f.seedContext, "seed-context", "", "the seed kubeconfig's context")
	fl.BoolVar(&f.keepSeed, "keep-seed", false, "leave what idp installed on an existing seed cluster")
	fl.StringVar(&f.credentials, "azure-credentials", "", "a service principal's JSON for provider-azure (az ad sp create-for-rbac --sdk-auth); default $AZURE_CREDENTIALS_FILE")
	addOutputFlag(cmd, &f.output, outputText, outputJSON)
	_ = cmd.MarkFlagFilename("config", "yaml", "yml")
	_ = cmd.MarkFlagFilename("seed-kubeconfig")
	_ = cmd.MarkFlagFilename("azure-credentials", "json")
	return cmd
}

// runOptions reads what the flags name; the credentials are read, never
// copied anywhere but into the pipeline.
func (f bootstrapFlags) runOptions() (bootstrap.RunOptions, error) {
	opts := bootstrap.RunOptions{SeedKubeconfig: f.seedKubeconfig, SeedContext: f.seedContext, KeepSeed: f.keepSeed}
	path := f.credentials
	if path == "" {
		path = os.Getenv("AZURE_CREDENTIALS_FILE")
	}
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return opts, fmt.Errorf("--azure-credentials: %w", err)
		}
		opts.AzureCredentials = data
	}
	opts.ResumeCommand = "idp bootstrap --resume"
	if f.file != "" {
		opts.ResumeCommand = "idp bootstrap --config " + f.file + " --resume"
		if f.credentials != "" {
			opts.ResumeCommand += " --azure-credentials " + f.credentials
		}
		if f.seedKubeconfig != "" {
			opts.ResumeCommand += " --seed-kubeconfig " + f.seedKubeconfig
		}
		opts.ResumeCommand += " --yes"
	}
	return opts, nil
}

// gitopsSource is the repository the platform is committed to: --gitops
// (or the idp config's), else the platform configuration's URL.
func gitopsSource(cfg config.Config, pc platformconfig.Config) string {
	if cfg.GitOps != "" {
		return cfg.GitOps
	}
	return pc.GitOps.URL
}

func runBootstrapFile(cmd *cobra.Command, cfg config.Config, f bootstrapFlags, opts bootstrap.RunOptions) error {
	ctx := cmd.Context()
	data, err := os.ReadFile(f.file)
	if err != nil {
		return err
	}
	pc, err := platformconfig.Parse(data)
	if err != nil {
		return fmt.Errorf("%s: %w", f.file, err)
	}
	b, err := bootstrap.New(pc, opts)
	if err != nil {
		return fmt.Errorf("%s: %w", f.file, err)
	}
	source := gitopsSource(cfg, b.Config)
	out := cmd.OutOrStdout()
	if f.dryRun {
		if f.output == outputJSON {
			plan, err := b.Pipeline.Plan()
			if err != nil {
				return err
			}
			return writeJSON(out, struct {
				Files []string               `json:"files"`
				Plan  bootstrap.PipelinePlan `json:"plan"`
			}{b.Files.Paths(), plan})
		}
		return b.WriteDryRun(out, source)
	}
	if !f.yes {
		lines, err := b.PlanLines(source)
		if err != nil {
			return err
		}
		for _, l := range lines {
			fmt.Fprintln(cmd.ErrOrStderr(), l)
		}
		ok, err := askCreate(cmd.InOrStdin(), cmd.ErrOrStderr(), "Bootstrap "+b.Config.Name+"?")
		if err != nil {
			return err
		}
		if !ok {
			fmt.Fprintln(out, "Nothing done.")
			return nil
		}
	}
	repo, err := gitops.Open(ctx, source, gitops.Options{Branch: b.Config.GitOpsBranch()})
	if err != nil {
		return err
	}
	defer repo.Close()
	var last bootstrap.Event
	for ev := range b.Stream(ctx, repo, f.resume) {
		if f.output == outputJSON {
			if err := writeEventJSON(out, ev); err != nil {
				return err
			}
		} else {
			printEvent(out, ev)
		}
		last = ev
	}
	if last.Err != nil {
		if last.Interrupted {
			return fmt.Errorf("interrupted at a checkpoint; continue with: %s", opts.ResumeCommand)
		}
		return last.Err
	}
	return nil
}

// printEvent is one event as the text output shows it.
func printEvent(w io.Writer, ev bootstrap.Event) {
	switch ev.Type {
	case bootstrap.StepStarted:
		fmt.Fprintf(w, "[%d/%d] %s\n", ev.Index, ev.Total, ev.Title)
	case bootstrap.StepLog:
		fmt.Fprintf(w, "      %s\n", ev.Line)
	case bootstrap.StepProgress:
		if ev.Progress != nil {
			fmt.Fprintf(w, "      waiting: %s\n", ev.Progress.Summary)
		}
	case bootstrap.StepSkipped:
		fmt.Fprintf(w, "[%d/%d] %s: already done (%s)\n", ev.Index, ev.Total, ev.Title, ev.Reason)
	case bootstrap.StepFinished:
		fmt.Fprintf(w, "      done in %s\n", ev.Duration.Round(time.Second))
	case bootstrap.StepFailed:
		fmt.Fprintf(w, "      failed after %s: %v\n", ev.Duration.Round(time.Second), ev.Err)
		if ev.NextAction != "" {
			fmt.Fprintf(w, "      next: %s\n", ev.NextAction)
		}
	case bootstrap.PipelineDone:
		if ev.Err == nil {
			fmt.Fprintln(w, "Bootstrap complete.")
		} else if ev.NextAction != "" && ev.Step == "" {
			fmt.Fprintln(w, ev.NextAction)
		}
	}
}

// eventJSON is one line of `idp bootstrap -o json`.
type eventJSON struct {
	Type       string              `json:"type"`
	Step       bootstrap.StepID    `json:"step,omitempty"`
	Title      string              `json:"title,omitempty"`
	Index      int                 `json:"index,omitempty"`
	Total      int                 `json:"total,omitempty"`
	Time       time.Time           `json:"time"`
	Duration   string              `json:"duration,omitempty"`
	Line       string              `json:"line,omitempty"`
	Reason     string              `json:"reason,omitempty"`
	Progress   *bootstrap.Progress `json:"progress,omitempty"`
	Error      string              `json:"error,omitempty"`
	NextAction string              `json:"nextAction,omitempty"`
}

func writeEventJSON(w io.Writer, ev bootstrap.Event) error {
	j := eventJSON{Type: ev.Type.String(), Step: ev.Step, Title: ev.Title, Index: ev.Index, Total: ev.Total, Time: ev.Time,
		Line: ev.Line, Reason: ev.Reason, Progress: ev.Progress, NextAction: ev.NextAction}
	if ev.Duration > 0 {
		j.Duration = ev.Duration.Round(time.Millisecond).String()
	}
	if ev.Err != nil {
		j.Error = ev.Err.Error()
	}
	return json.NewEncoder(w).Encode(j)
}

// runWizard opens the TUI on the wizard.
func runWizard(ctx context.Context, cfg config.Config, opts bootstrap.RunOptions) error {
	b := newTUIBootstrapper(ctx, cfg, opts)
	defer b.wait()
	if cfg.GitOps != "" {
		fmt.Fprintf(os.Stderr, "Reading %s from %s…\n", platformconfig.Path, cfg.GitOps)
		b.load()
	}
	return tui.Run(ctx, tui.Options{
		Theme:     theme.New(os.Getenv("NO_COLOR") != ""),
		Resolve:   func() environment.Environment { return environment.Resolve(cfg) },
		Power:     aks.NewSession(ctx, aksTarget(cfg, aks.Ref{}, azureDeps{}).Connect),
		Bootstrap: b,
		Open:      wizard.Title,
	})
}

// tuiBootstrapper is the TUI's bootstrap on the same code as --config.
type tuiBootstrapper struct {
	ctx    context.Context
	cancel context.CancelFunc
	cfg    config.Config
	opts   bootstrap.RunOptions
	wg     sync.WaitGroup

	mu      sync.Mutex
	initial platformconfig.Config

	// steps replaces the pipeline's steps after the commit (the demo
	// simulates them); nil runs the real ones.
	steps func(b *bootstrap.Bootstrap) []bootstrap.Step
	// note is added to the plan (the demo says what it simulates).
	note string
}

// newTUIBootstrapper makes the TUI's bootstrap; its first answers are the
// defaults until load or loadInBackground reads the GitOps repository's
// .idp/platform.yaml.
func newTUIBootstrapper(ctx context.Context, cfg config.Config, opts bootstrap.RunOptions) *tuiBootstrapper {
	ctx, cancel := context.WithCancel(ctx)
	return &tuiBootstrapper{ctx: ctx, cancel: cancel, cfg: cfg, opts: opts, initial: platformconfig.Defaults()}
}

// load reads the first answers now (idp bootstrap: the wizard opens on
// them at once).
func (b *tuiBootstrapper) load() {
	if b.cfg.GitOps == "" {
		return
	}
	if pc, ok := readPlatformConfig(b.ctx, b.cfg.GitOps); ok {
		b.mu.Lock()
		b.initial = pc.WithDefaults()
		b.mu.Unlock()
	}
}

// loadInBackground reads them while the TUI runs (idp: the TUI never waits
// on Git; a wizard opened before they arrive starts from the defaults).
func (b *tuiBootstrapper) loadInBackground() {
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		b.load()
	}()
}

// readPlatformConfig reads .idp/platform.yaml from the GitOps repository;
// any failure leaves the wizard on its defaults (the commit step reports
// the repository's state when it matters).
func readPlatformConfig(ctx context.Context, source string) (platformconfig.Config, bool) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	repo, err := gitops.Open(ctx, source, gitops.Options{})
	if err != nil {
		return platformconfig.Config{}, false
	}
	defer repo.Close()
	data, err := repo.ReadFile(ctx, "", platformconfig.Path)
	if err != nil {
		return platformconfig.Config{}, false
	}
	pc, err := platformconfig.Parse(data)
	return pc, err == nil
}

func (b *tuiBootstrapper) Initial() platformconfig.Config {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.initial
}

func (b *tuiBootstrapper) Prefill() (string, string) {
	sub, tenant, _ := bootstrap.AzureLogin(b.ctx)
	return sub, tenant
}

// Resume: the wizard continues a checkpointed run of the same platform.
func (b *tuiBootstrapper) Resume() string {
	return "opening Bootstrap again with the same answers"
}

func (b *tuiBootstrapper) Plan(_ context.Context, pc platformconfig.Config) ([]string, error) {
	boot, err := bootstrap.New(pc, b.opts)
	if err != nil {
		return nil, err
	}
	lines, err := boot.PlanLines(gitopsSource(b.cfg, boot.Config))
	if err == nil && b.note != "" {
		lines = append(lines, b.note)
	}
	return lines, err
}

// Run prepares the run; the pipeline's context is the command's, so
// quitting idp interrupts it at a checkpoint and wait lets it save.
func (b *tuiBootstrapper) Run(_ context.Context, pc platformconfig.Config) ([]bootstrap.Step, func(context.Context) <-chan bootstrap.Event, error) {
	boot, err := bootstrap.New(pc, b.opts)
	if err != nil {
		return nil, nil, err
	}
	resume := false
	if plan, err := boot.Pipeline.Plan(); err == nil && plan.Resumable {
		resume = true // the wizard continues a run of the same platform
	}
	steps := boot.Steps(nil)
	if b.steps != nil {
		steps = append(steps[:1], b.steps(boot)...)
	}
	start := func(context.Context) <-chan bootstrap.Event {
		out := make(chan bootstrap.Event, 64)
		b.wg.Add(1)
		go func() {
			defer b.wg.Done()
			defer close(out)
			repo, err := gitops.Open(b.ctx, gitopsSource(b.cfg, boot.Config), gitops.Options{Branch: boot.Config.GitOpsBranch()})
			if err != nil {
				out <- bootstrap.Event{Type: bootstrap.PipelineDone, Time: time.Now(), Err: err}
				return
			}
			defer repo.Close()
			var events <-chan bootstrap.Event
			if b.steps != nil {
				r := &bootstrap.Runner{Steps: append([]bootstrap.Step{boot.CommitStep(repo)}, b.steps(boot)...), Checkpoint: &bootstrap.Checkpoint{Platform: boot.Config.Name}}
				events = r.Stream(b.ctx)
			} else {
				events = boot.Stream(b.ctx, repo, resume)
			}
			for ev := range events {
				select {
				case out <- ev:
				case <-b.ctx.Done(): // no one reads any more; let the run reach its checkpoint
				}
			}
		}()
		return out
	}
	return steps, start, nil
}

// wait interrupts a run still going when the TUI has ended and lets it
// checkpoint.
func (b *tuiBootstrapper) wait() {
	b.cancel()
	done := make(chan struct{})
	go func() { b.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
	}
}
