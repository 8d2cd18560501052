package bootstrap

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/back-stack/idp/gitops"
	"github.com/back-stack/idp/platform/platformconfig"
)

// StepCommit is the step that puts the rendered platform into Git, before
// anything is installed.
const StepCommit StepID = "commit"

// RunOptions are what a platform engineer gives besides the platform
// configuration; `idp bootstrap` and the wizard fill them the same way.
type RunOptions struct {
	// SeedKubeconfig, when set, is an existing cluster to use as the seed
	// (SeedContext picks its context; KeepSeed leaves what idp installed
	// on it); otherwise a kind cluster is made.
	SeedKubeconfig, SeedContext string
	KeepSeed                    bool
	// AzureCredentials is a service principal's JSON; it goes only into a
	// Kubernetes Secret on the clusters.
	AzureCredentials []byte
	// StateDir holds the checkpoint; empty means StateDir().
	StateDir string
	// ResumeCommand is what the user runs to continue.
	ResumeCommand string
	// Author signs the commit; nil takes git's identity.
	Author *gitops.Signature
}

// Bootstrap is one platform's bootstrap: the rendered files, the commit
// that puts them into Git and the pipeline that installs them.
type Bootstrap struct {
	Config   platformconfig.Config
	Files    Files
	Pipeline *Pipeline
	opts     RunOptions
}

// New checks cfg strictly, renders it and builds its pipeline. It touches
// no cluster, no repository and no file.
func New(cfg platformconfig.Config, opts RunOptions) (*Bootstrap, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.ValidateForBootstrap(); err != nil {
		return nil, err
	}
	files, err := Render(cfg)
	if err != nil {
		return nil, err
	}
	releases, err := HelmReleases(files)
	if err != nil {
		return nil, err
	}
	xp, ok := releases["crossplane"]
	if !ok {
		return nil, errors.New("bootstrap: the rendered platform has no crossplane Application")
	}
	argo, ok := releases["argocd"]
	if !ok {
		return nil, errors.New("bootstrap: the rendered platform has no argocd Application")
	}
	var seed Seed
	if opts.SeedKubeconfig != "" {
		seed = ExistingSeed{Kubeconfig: opts.SeedKubeconfig, Context: opts.SeedContext, Keep: opts.KeepSeed}
	} else {
		ks, err := NewKindSeed(opts.StateDir, cfg.Name)
		if err != nil {
			return nil, err
		}
		seed = ks
	}
	secret := KubeconfigSecret(cfg)
	p, err := NewPipeline(PipelineConfig{
		Platform:         cfg.Name,
		Manifests:        files.Map(),
		Seed:             seed,
		AzureCredentials: opts.AzureCredentials,
		Crossplane:       ChartFor(xp),
		ArgoCD:           ChartFor(argo),
		KubeconfigSecret: &secret,
		StateDir:         opts.StateDir,
		ResumeCommand:    opts.ResumeCommand,
	})
	if err != nil {
		return nil, err
	}
	return &Bootstrap{Config: cfg, Files: files, Pipeline: p, opts: opts}, nil
}

// Steps are the whole run: the commit, then the pipeline's steps.
func (b *Bootstrap) Steps(repo *gitops.Repo) []Step {
	return append([]Step{b.CommitStep(repo)}, b.Pipeline.Steps()...)
}

// Stream commits and runs the pipeline (resume continues a checkpointed
// run) and returns the events; the channel closes after PipelineDone.
func (b *Bootstrap) Stream(ctx context.Context, repo *gitops.Repo, resume bool) <-chan Event {
	r, err := b.Pipeline.Runner(resume)
	if err != nil {
		ch := make(chan Event, 1)
		ch <- Event{Type: PipelineDone, Err: err, NextAction: b.startAdvice(err)}
		close(ch)
		return ch
	}
	r.Steps = append([]Step{b.CommitStep(repo)}, r.Steps...)
	return r.Stream(ctx)
}

func (b *Bootstrap) startAdvice(err error) string {
	switch {
	case errors.Is(err, ErrCheckpointExists):
		return "A run of this platform has started before: continue it with " + b.opts.ResumeCommand + "."
	case errors.Is(err, ErrNoCheckpoint):
		return "Nothing to resume: start the bootstrap without --resume."
	}
	return ""
}

// CommitStep puts the rendered platform into the GitOps repository first
// (one commit through the gitops engine; nothing when it is there already).
// With pull-request changes it stops until the pull request is merged:
// Argo CD follows the branch, so nothing may be installed before it holds
// the platform.
func (b *Bootstrap) CommitStep(repo *gitops.Repo) Step {
	return Step{
		ID:    StepCommit,
		Title: "Commit the platform to the GitOps repository",
		Wait:  Wait{For: "the push"},
		Run: func(ctx context.Context, out *StepOutput) error {
			if repo == nil {
				return errors.New("no GitOps repository: pass --gitops, or set gitops.url in the platform configuration")
			}
			c, err := Commit(ctx, repo, b.Config, CommitOptions{Author: b.opts.Author})
			if err != nil {
				return err
			}
			out.Logf("%s", c.Summary())
			for _, ch := range c.Changes {
				out.Logf("%s %s", ch.Action, ch.Path)
			}
			if c.Branch != b.Config.GitOpsBranch() {
				return &unmergedError{branch: c.Branch, url: c.PullRequestURL, target: b.Config.GitOpsBranch()}
			}
			return nil
		},
		NextAction: func(err error) string {
			var u *unmergedError
			if errors.As(err, &u) {
				where := "the branch " + u.branch
				if u.url != "" {
					where = u.url
				}
				return fmt.Sprintf("Merge %s into %s, then run %s: nothing is installed before Git holds the platform.", where, u.target, b.opts.ResumeCommand)
			}
			return "Fix the GitOps repository's access (the error above says what failed), then run " + b.opts.ResumeCommand + "."
		},
	}
}

// unmergedError: the platform is on a pull-request branch, not yet on the
// branch Argo CD follows.
type unmergedError struct{ branch, url, target string }

func (e *unmergedError) Error() string {
	return fmt.Sprintf("the platform is on %s, waiting for review; Argo CD follows %s", e.branch, e.target)
}

// PlanLines is the plan in a few lines for the wizard's summary: the commit,
// then each step with what it does.
func (b *Bootstrap) PlanLines(repo string) ([]string, error) {
	plan, err := b.Pipeline.Plan()
	if err != nil {
		return nil, err
	}
	how := "as a commit on " + b.Config.GitOpsBranch()
	if b.Config.ChangePolicy() == platformconfig.ChangePullRequest {
		how = "on the branch idp/" + PullRequestSlug + " for a pull request into " + b.Config.GitOpsBranch()
	}
	lines := []string{fmt.Sprintf("1. Commit the platform to the GitOps repository: %d files to %s, %s", len(b.Files), repo, how)}
	if plan.Resumable {
		lines = append(lines, "   A saved run exists: steps it finished are skipped.")
	}
	for i, s := range plan.Steps {
		mark := ""
		if s.Done {
			mark = " (done)"
		}
		lines = append(lines, fmt.Sprintf("%d. %s%s", i+2, s.Title, mark))
		for _, a := range s.Actions {
			lines = append(lines, "   - "+a)
		}
	}
	lines = append(lines, "State: "+plan.Checkpoint)
	return lines, nil
}

// WriteDryRun prints what a run would do, touching nothing: the files it
// would commit, then the pipeline's plan with every manifest it applies.
func (b *Bootstrap) WriteDryRun(w io.Writer, repo string) error {
	plan, err := b.Pipeline.Plan()
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "Would commit %d files to %s (%s, %s):\n", len(b.Files), repo, b.Config.GitOpsBranch(), b.Config.ChangePolicy())
	for _, f := range b.Files {
		fmt.Fprintf(w, "  %s\n", f.Path)
	}
	fmt.Fprintln(w)
	_, err = io.WriteString(w, plan.String())
	return err
}
