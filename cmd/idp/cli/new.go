package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"strings"
	"sync"

	"github.com/spf13/cobra"

	"github.com/back-stack/idp/gitops"
	"github.com/back-stack/idp/platform/config"
	"github.com/back-stack/idp/platform/forge"
	"github.com/back-stack/idp/platform/platformconfig"
	"github.com/back-stack/idp/platform/scaffold"
	"github.com/back-stack/idp/platform/templates"
)

const newExample = `  # See what a Go service with a database would write, without writing it
  idp new go-service --set name=payments-api --set database=true --dry-run

  # Create it without a question (scripts and CI), and print the result as JSON
  idp new go-service --set name=payments-api --set database=true --yes -o json

  # Open a pull request for the GitOps change even where the platform commits directly
  idp new static-site --set name=docs --changes pull-request`

func newNewCmd(g *globals) *cobra.Command {
	var (
		sets        []string
		yes, dryRun bool
		output      string
		changes     string
	)
	cmd := &cobra.Command{
		Use:   "new TEMPLATE --set NAME=VALUE...",
		Short: "Create a service from a golden path: repository, Argo CD Application, database",
		Long: `Create a service from a golden-path template: a new repository on the forge
with the rendered skeleton, and in the GitOps repository apps/NAME/ with the
Argo CD Application (and the database, when asked for).

idp shows the preview (the files and the GitOps diff) and asks before
writing anything; --yes skips the question, --dry-run writes nothing. How the
GitOps change lands (a direct commit or a pull request) follows
.idp/platform.yaml; --changes overrides it for this run. See the template's
parameters with 'idp templates'.`,
		Example: newExample,
		Args:    cobra.ExactArgs(1),
		ValidArgsFunction: func(cmd *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
			if len(args) > 0 {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			cfg, err := g.config(cmd)
			if err != nil {
				return nil, cobra.ShellCompDirectiveError
			}
			cat, err := loadCatalog(cmd.Context(), cfg)
			if err != nil {
				return nil, cobra.ShellCompDirectiveError
			}
			var names []string
			for _, t := range cat.Templates {
				switch {
				case t.Refusal != "":
				case cat.Chosen(t):
					names = append(names, t.Name+"\t"+t.Title)
				default:
					names = append(names, t.Ref()+"\t"+t.Title)
				}
			}
			return names, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(output, outputText, outputJSON); err != nil {
				return err
			}
			switch changes {
			case "", platformconfig.ChangeDirect, platformconfig.ChangePullRequest:
			default:
				return fmt.Errorf("--changes is %q; want %s or %s", changes, platformconfig.ChangeDirect, platformconfig.ChangePullRequest)
			}
			if output == outputJSON && !yes && !dryRun {
				return errors.New("-o json needs --yes or --dry-run: there is no one to answer the question")
			}
			cfg, err := g.config(cmd)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			svc, closeSvc, err := openScaffold(ctx, cfg)
			if err != nil {
				return err
			}
			defer closeSvc()
			cat, err := svc.Catalog(ctx)
			if err != nil {
				return err
			}
			tpl, err := cat.Get(args[0])
			if err != nil {
				return err
			}
			values := map[string]any{}
			for _, s := range sets {
				k, v, ok := strings.Cut(s, "=")
				if !ok || k == "" {
					return fmt.Errorf("--set %q: want NAME=VALUE", s)
				}
				if values[k], err = tpl.ParseValue(k, v); err != nil {
					return err
				}
			}
			// The name as given: SOURCE:NAME picks one of several templates
			// that share a name.
			p, err := svc.Prepare(ctx, scaffold.Request{Template: args[0], Values: values, ChangePolicy: changes})
			if err != nil {
				return err
			}
			preview := cmd.OutOrStdout()
			if output == outputJSON {
				preview = cmd.ErrOrStderr()
			}
			printProposal(preview, p)
			if dryRun {
				return printResult(cmd.OutOrStdout(), output, p.DryRun())
			}
			if !yes {
				ok, err := askCreate(cmd.InOrStdin(), cmd.ErrOrStderr(), "Create "+p.Service+"?")
				if err != nil {
					return err
				}
				if !ok {
					fmt.Fprintln(cmd.OutOrStdout(), "Nothing written.")
					return nil
				}
			}
			res, err := svc.Apply(ctx, p)
			if err != nil {
				return err
			}
			return printResult(cmd.OutOrStdout(), output, res)
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&sets, "set", nil, "a parameter's value, NAME=VALUE (repeatable; lists: a,b or a JSON array)")
	f.BoolVarP(&yes, "yes", "y", false, "create without asking")
	f.BoolVar(&dryRun, "dry-run", false, "print the preview and the result it would have; write nothing")
	f.StringVar(&changes, "changes", "", "how the GitOps change lands: direct or pull-request (default: .idp/platform.yaml's rule)")
	addOutputFlag(cmd, &output, outputText, outputJSON)
	_ = cmd.RegisterFlagCompletionFunc("changes", cobra.FixedCompletions([]string{platformconfig.ChangeDirect, platformconfig.ChangePullRequest}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// askCreate asks on a terminal; without one it refuses, so a script never
// hangs on a question.
func askCreate(in io.Reader, out io.Writer, question string) (bool, error) {
	f, ok := in.(*os.File)
	if !ok || !isTerminal(f) {
		return false, errors.New("nothing written: pass --yes to create it without a question (stdin is not a terminal), or --dry-run")
	}
	fmt.Fprintf(out, "%s [y/N] ", question)
	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return false, err
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return true, nil
	}
	return false, nil
}

func printProposal(w io.Writer, p *scaffold.Proposal) {
	fmt.Fprintf(w, "Template    %s\nService     %s\n", p.Request.Template, p.Service)
	if r := p.Plan.Repo; r != nil {
		vis := "private"
		if !r.Private {
			vis = "public"
		}
		fmt.Fprintf(w, "Repository  %s (new, %s, branch %s)\n", p.Repo.CloneURL, vis, r.DefaultBranch)
		for _, f := range p.Plan.Files {
			fmt.Fprintf(w, "              %s\n", f.Path)
		}
	}
	if len(p.GitOpsFiles) > 0 {
		how := "commit on " + p.Branch
		if p.ChangePolicy == platformconfig.ChangePullRequest {
			how = "pull request from " + p.Branch
		}
		fmt.Fprintf(w, "GitOps      %s\n", how)
		for _, f := range p.GitOpsFiles {
			fmt.Fprintf(w, "              %s\n", f.Path)
		}
	}
	for _, n := range p.Plan.Notes {
		fmt.Fprintf(w, "Note: %s\n", n)
	}
	if p.Diff != "" {
		fmt.Fprintf(w, "\n%s\n", strings.TrimRight(p.Diff, "\n"))
	}
}

func printResult(w io.Writer, output string, r *scaffold.Result) error {
	if output == outputJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	if r.DryRun {
		_, err := fmt.Fprintln(w, "\nDry run: nothing written.")
		return err
	}
	fmt.Fprintf(w, "\nCreated %s\n", r.Service)
	if r.Repository.URL != "" {
		fmt.Fprintf(w, "Repository  %s (%s at %s)\n", r.Repository.URL, r.Repository.Branch, r.Repository.Commit)
	}
	if r.GitOps.Commit != "" {
		fmt.Fprintf(w, "GitOps      %s at %s\n", r.GitOps.Branch, r.GitOps.Commit)
	}
	if r.GitOps.PullRequestURL != "" {
		fmt.Fprintf(w, "Pull request %s\n", r.GitOps.PullRequestURL)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "Note: %s\n", n)
	}
	return nil
}

// openScaffold builds the one code path behind `idp new` and the TUI's
// New service screen: the catalog, the forge, the GitOps repository and
// its .idp/platform.yaml.
func openScaffold(ctx context.Context, cfg config.Config) (*scaffold.Service, func(), error) {
	if cfg.GitOps == "" {
		return nil, nil, errors.New("no GitOps repository: pass --gitops or set gitops: in the idp config")
	}
	fg, err := openForge(ctx, cfg.Forge)
	if err != nil {
		return nil, nil, err
	}
	repo, err := gitops.Open(ctx, cfg.GitOps, gitops.Options{})
	if err != nil {
		return nil, nil, err
	}
	var pc platformconfig.Config
	data, err := repo.ReadFile(ctx, "", platformconfig.Path)
	switch {
	case err == nil:
		if pc, err = platformconfig.Parse(data); err != nil {
			repo.Close()
			return nil, nil, err
		}
	case !errors.Is(err, fs.ErrNotExist):
		repo.Close()
		return nil, nil, err
	}
	engine := &scaffold.Engine{Repo: repo, AllowSecrets: pc.Secrets.Allow}
	return &scaffold.Service{
		Templates: func(ctx context.Context) (*templates.Catalog, error) { return loadCatalog(ctx, cfg) },
		Forge:     fg, GitOps: engine, Repos: engine, Platform: pc, Public: cfg.Forge.Public,
	}, func() { repo.Close() }, nil
}

func openForge(ctx context.Context, f config.Forge) (forge.Forge, error) {
	switch f.Type {
	case "local":
		return forge.NewLocal(f.Dir, f.URL)
	case "github":
		host := "github.com"
		if f.BaseURL != "" {
			if u, err := url.Parse(f.BaseURL); err == nil {
				host = u.Host
			}
		}
		return forge.NewGitHub(ctx, forge.GitHubOptions{Token: forge.GitHubToken(host), Owner: f.Owner, BaseURL: f.BaseURL})
	case "":
		return nil, errors.New("no forge for new repositories: set forge: in the idp config (type: local with dir:, or type: github)")
	}
	return nil, fmt.Errorf("forge type %q: want local or github", f.Type)
}

// lazyScaffold opens the scaffold service on first use, inside the TUI's
// commands, so that starting the TUI never waits on Git.
type lazyScaffold struct {
	cfg  config.Config
	mu   sync.Mutex
	svc  *scaffold.Service
	done func()
}

func (l *lazyScaffold) get(ctx context.Context) (*scaffold.Service, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.svc != nil {
		return l.svc, nil
	}
	svc, done, err := openScaffold(ctx, l.cfg)
	if err != nil {
		return nil, err
	}
	l.svc, l.done = svc, done
	return svc, nil
}

func (l *lazyScaffold) Catalog(ctx context.Context) (*templates.Catalog, error) {
	return loadCatalog(ctx, l.cfg)
}

func (l *lazyScaffold) Prepare(ctx context.Context, req scaffold.Request) (*scaffold.Proposal, error) {
	svc, err := l.get(ctx)
	if err != nil {
		return nil, err
	}
	return svc.Prepare(ctx, req)
}

func (l *lazyScaffold) Apply(ctx context.Context, p *scaffold.Proposal) (*scaffold.Result, error) {
	svc, err := l.get(ctx)
	if err != nil {
		return nil, err
	}
	return svc.Apply(ctx, p)
}

// Close releases the GitOps repository, if it was opened.
func (l *lazyScaffold) Close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.done != nil {
		l.done()
	}
}
