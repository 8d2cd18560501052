package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/back-stack/idp/gitops"
	"github.com/back-stack/idp/internal/demo"
	"github.com/back-stack/idp/platform/aks"
	"github.com/back-stack/idp/platform/aks/akstest"
	"github.com/back-stack/idp/platform/bootstrap"
	"github.com/back-stack/idp/platform/environment"
	"github.com/back-stack/idp/platform/scaffold"
	"github.com/back-stack/idp/tui"
	"github.com/back-stack/idp/tui/theme"
)

const demoExample = `  # Open the demo (creates the playground on first run)
  idp demo

  # Start again from a clean playground
  idp demo --reset

  # A second, separate playground
  idp demo --dir /tmp/idp-playground`

// demoExamples are the services a new playground starts with: one with a
// database, and the one that goes Degraded.
var demoExamples = []scaffold.Request{
	{Template: "go-service", Values: map[string]any{
		"name": "orders", "description": "Takes and tracks customer orders", "owner": "team-shop",
		"database": true, "dbSize": "small", "dbVersion": "16",
	}},
	{Template: "go-service", Values: map[string]any{
		"name": demo.Failing, "description": "Charges cards and issues refunds", "owner": "team-shop",
	}},
}

func newDemoCmd() *cobra.Command {
	var opts demo.Options
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Open idp on an embedded playground: no cluster, no cloud, nothing to set up",
		Long: `Open the full TUI on a playground that needs nothing but this binary: a
GitOps repository and a local forge of bare Git repositories in one folder,
an in-process Kubernetes API with a simulator playing Argo CD and Crossplane,
and an AKS stand-in for cluster power.

Applications go OutOfSync, Syncing, Synced, then Progressing and Healthy
within seconds; databases become Ready; the example service "payments" is
Degraded so that the failure views have something to show. Create a service
with "New service" and watch it come up.

The playground lives in --dir (default: idp/demo in the user state dir,
~/.local/state) and is reused by the next run; --reset starts it afresh.
Nothing in it touches a real cluster or Azure.`,
		Example: demoExample,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !isTerminal(cmd.OutOrStdout()) {
				return errors.New("idp demo opens the terminal UI: run it in a terminal")
			}
			return runDemo(cmd.Context(), opts, cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Dir, "dir", "", "the playground's folder (default: idp/demo in the user state dir)")
	f.BoolVar(&opts.Reset, "reset", false, "delete the playground and start from a clean one")
	f.DurationVar(&opts.Phase, "pace", 2*time.Second, "how long each simulated phase takes (Argo CD's sync, Crossplane's readiness, a bootstrap step's wait)")
	_ = cmd.MarkFlagDirname("dir")
	return cmd
}

func runDemo(ctx context.Context, opts demo.Options, progress io.Writer) error {
	pace := opts.Phase
	if pace <= 0 {
		pace = 2 * time.Second
	}
	if !gitops.HasGlobalIdentity() {
		// The playground's commits need an author; without a git identity
		// they are the demo's own.
		a := demo.Author()
		os.Setenv("GIT_AUTHOR_NAME", a.Name)
		os.Setenv("GIT_AUTHOR_EMAIL", a.Email)
	}
	fmt.Fprintln(progress, "Opening the playground…")
	p, err := demo.Open(ctx, opts)
	if err != nil {
		return err
	}
	defer p.Close()
	if p.Created {
		fmt.Fprintf(progress, "Created a playground in %s; adding the example services…\n", p.Dir)
		if err := seedExamples(ctx, p); err != nil {
			return fmt.Errorf("%w\nThe playground is incomplete: run idp demo --reset", err)
		}
	}
	if err := p.Start(ctx); err != nil {
		return err
	}
	az := azureDeps{cred: akstest.Credential(), opts: p.AKS.ClientOptions(), pollEvery: 2 * time.Second}
	scaffolder := &lazyScaffold{cfg: p.Config}
	defer scaffolder.Close()
	// The bootstrap wizard commits to the playground for real; the steps
	// after the commit are played, since the demo's platform already runs.
	boot := newTUIBootstrapper(ctx, p.Config, bootstrap.RunOptions{
		StateDir: filepath.Join(p.Dir, "state"),
	})
	boot.steps = func(b *bootstrap.Bootstrap) []bootstrap.Step { return demo.SimulatedSteps(b, pace) }
	boot.load() // the playground is local: at once
	boot.note = "Demo: the commit is real (to the playground's GitOps repository); the steps after it are simulated."
	defer boot.wait()
	return tui.Run(ctx, tui.Options{
		Theme:      theme.New(os.Getenv("NO_COLOR") != ""),
		Resolve:    func() environment.Environment { return p.Environment() },
		Power:      aks.NewSession(ctx, aksTarget(p.Config, aks.Ref{}, az).Connect),
		NewService: scaffolder,
		Bootstrap:  boot,
		Banner:     "DEMO  playground in " + p.Dir + " · simulated cluster and Azure · idp demo --reset starts afresh",
	})
}

// seedExamples creates the example services through the same code path as
// `idp new`: their repositories in the local forge, their folders in the
// GitOps repository.
func seedExamples(ctx context.Context, p *demo.Playground) error {
	svc, done, err := openScaffold(ctx, p.Config)
	if err != nil {
		return err
	}
	defer done()
	for _, req := range demoExamples {
		prop, err := svc.Prepare(ctx, req)
		if err != nil {
			return fmt.Errorf("example %s: %w", req.Values["name"], err)
		}
		if _, err := svc.Apply(ctx, prop); err != nil {
			return fmt.Errorf("example %s: %w", req.Values["name"], err)
		}
	}
	return nil
}
