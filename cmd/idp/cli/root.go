// Package cli builds idp's command tree. Commands parse flags, call platform/
// (or start the TUI) and print; the work itself lives in platform/.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/charmbracelet/x/term"
	"github.com/spf13/cobra"

	"github.com/back-stack/idp/platform/aks"
	"github.com/back-stack/idp/platform/bootstrap"
	"github.com/back-stack/idp/platform/config"
	"github.com/back-stack/idp/platform/environment"
	"github.com/back-stack/idp/platform/kube"
	"github.com/back-stack/idp/tui"
	"github.com/back-stack/idp/tui/theme"
)

const rootExample = `  # Open the terminal UI (needs a terminal)
  idp

  # Point idp at another kubeconfig context and a GitOps repository
  idp --context aks-dev --gitops git@github.com:acme/platform-gitops.git

  # Print the version as JSON
  idp version -o json

  # Load shell completion for this bash session
  source <(idp completion bash)`

// globals are the persistent flags every command sees.
type globals struct {
	configPath string
	flags      config.Config // --kubeconfig, --context, --gitops
}

// Run executes idp with args and returns the process exit code. An error is
// printed once, as "Error: ...", to stderr.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := NewRoot()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(stderr, "Error:", err)
		var coded interface{ ExitCode() int }
		if errors.As(err, &coded) {
			return coded.ExitCode()
		}
		return 1
	}
	return 0
}

// NewRoot returns the idp command with its subcommands.
func NewRoot() *cobra.Command { return newRoot(azureDeps{}) }

// newRoot builds the command tree; az routes Azure (tests pass a fake).
func newRoot(az azureDeps) *cobra.Command {
	g := &globals{}
	root := &cobra.Command{
		Use:   "idp",
		Short: "The front door of a GitOps platform (Argo CD, Crossplane, Kyverno on AKS)",
		Long: `idp is a keyboard-driven terminal app for a GitOps platform built on Argo CD,
Crossplane and Kyverno on AKS. Every change it makes is a Git commit.

Run without a command on a terminal to open the TUI. Every TUI action also
exists as a plain command for scripts and CI.`,
		Example:       rootExample,
		Args:          cobra.NoArgs,
		SilenceErrors: true, // Run prints the error once
		SilenceUsage:  true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !isTerminal(cmd.OutOrStdout()) {
				return cmd.Help()
			}
			cfg, err := g.config(cmd)
			if err != nil {
				return err
			}
			scaffolder := &lazyScaffold{cfg: cfg}
			defer scaffolder.Close()
			boot := newTUIBootstrapper(cmd.Context(), cfg, bootstrap.RunOptions{ResumeCommand: "idp bootstrap --resume"})
			boot.loadInBackground()
			defer boot.wait()
			return tui.Run(cmd.Context(), tui.Options{
				Theme:      theme.New(os.Getenv("NO_COLOR") != ""),
				Resolve:    func() environment.Environment { return environment.Resolve(cfg) },
				Power:      aks.NewSession(cmd.Context(), aksTarget(cfg, aks.Ref{}, az).Connect),
				NewService: scaffolder,
				Bootstrap:  boot,
			})
		},
	}
	g.register(root)
	root.AddCommand(newVersionCmd())
	root.AddCommand(newAKSCmd(g, az))
	root.AddCommand(newGitOpsCmd(g))
	root.AddCommand(newTemplatesCmd(g))
	root.AddCommand(newNewCmd(g))
	root.AddCommand(newStatusCmd(g))
	root.AddCommand(newDemoCmd())
	root.AddCommand(newBootstrapCmd(g))
	return root
}

func (g *globals) register(root *cobra.Command) {
	defaultConfig, _ := config.DefaultPath() // "" when there is no home: then no file is read
	f := root.PersistentFlags()
	f.StringVar(&g.configPath, "config", defaultConfig, "idp config file; a missing default file is fine")
	f.StringVar(&g.flags.Kubeconfig, "kubeconfig", "", "kubeconfig file (default: KUBECONFIG, else ~/.kube/config)")
	f.StringVar(&g.flags.Context, "context", "", "kubeconfig context (default: the kubeconfig's current-context)")
	f.StringVar(&g.flags.GitOps, "gitops", "", "GitOps repository: a local path or a Git URL")
	f.StringArrayVar(&g.flags.Templates, "templates", nil, "more golden-path templates: a folder or a Git URL (repeatable; adds to the config's)")
	_ = root.MarkPersistentFlagFilename("config", "yaml", "yml")
	_ = root.MarkPersistentFlagFilename("kubeconfig")
	_ = root.MarkPersistentFlagDirname("gitops")
	_ = root.RegisterFlagCompletionFunc("context", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		names, err := kube.ContextNames(g.flags.Kubeconfig)
		if err != nil {
			return nil, cobra.ShellCompDirectiveError
		}
		return names, cobra.ShellCompDirectiveNoFileComp
	})
}

// config loads the config file and lays the flags over it. The default file
// may be missing; a file named with --config must exist.
func (g *globals) config(cmd *cobra.Command) (config.Config, error) {
	if g.configPath == "" {
		return config.Config{}.Merge(g.flags), nil
	}
	cfg, err := config.Load(g.configPath)
	if err != nil {
		return config.Config{}, err
	}
	// The root's own flag, not a subcommand's of the same name (idp
	// bootstrap --config is the platform configuration).
	if f := cmd.Root().PersistentFlags().Lookup("config"); !cfg.Found && f != nil && f.Changed {
		return config.Config{}, fmt.Errorf("config %s: %w", g.configPath, os.ErrNotExist)
	}
	return cfg.Merge(g.flags), nil
}

// isTerminal reports whether w is a terminal, so a pipe or a file gets help
// text rather than a full-screen app.
func isTerminal(w io.Writer) bool {
	f, ok := w.(interface{ Fd() uintptr })
	return ok && term.IsTerminal(f.Fd())
}
