// Package demo is idp's playground: a GitOps repository and a local forge of
// bare Git repositories in one folder, an in-process Kubernetes API, a
// simulator playing Argo CD and Crossplane on it, and an AKS stand-in behind
// the Azure SDK's fake server. `idp demo` opens the full TUI on it; the
// end-to-end tests use it too. Nothing that runs against a real cluster
// depends on this package.
package demo

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/back-stack/idp/gitops"
	"github.com/back-stack/idp/internal/sim"
	"github.com/back-stack/idp/platform/aks/akstest"
	"github.com/back-stack/idp/platform/bootstrap"
	"github.com/back-stack/idp/platform/config"
	"github.com/back-stack/idp/platform/environment"
	"github.com/back-stack/idp/platform/forge"
	"github.com/back-stack/idp/platform/kube"
	"github.com/back-stack/idp/platform/platformconfig"
)

// The playground's layout under its folder.
const (
	// GitDir is the local forge: a folder of bare repositories, the GitOps
	// repository among them.
	GitDir = "git"
	// GitOpsName is the GitOps repository's name in the forge.
	GitOpsName = "platform-gitops"
	lockName   = "demo.lock"
	marker     = "idp-demo"
)

// The demo's AKS cluster, as .idp/platform.yaml names it.
const (
	Subscription  = "00000000-0000-4000-8000-00000000d3e0"
	ResourceGroup = "rg-idp-demo"
	ClusterName   = "aks-idp-demo"
	Location      = "westeurope"
)

// Failing is the example service that goes Degraded, so that the failure
// views have something to show.
const Failing = "payments"

// Options shape a playground.
type Options struct {
	// Dir holds the playground; default DefaultDir().
	Dir string
	// Reset deletes the playground first.
	Reset bool
	// Phase paces the simulator (default 2s per application phase).
	Phase time.Duration
	// PowerSteps is how many polls a stop or start of the AKS stand-in
	// takes (default 5).
	PowerSteps int
}

// Playground is an open playground. Close it to release its folder.
type Playground struct {
	// Dir is the playground's folder.
	Dir string
	// Created reports that this run made the playground (it was new or
	// reset), so the example services are still to be created.
	Created bool
	// Config points idp at the playground: the GitOps repository and the
	// local forge.
	Config config.Config
	// AKS is the cluster stand-in that AKS power talks to.
	AKS *akstest.Cluster

	opts    Options
	unlock  func()
	cluster *Cluster
	// inProcess is the cluster as the views reach it.
	inProcess *environment.InProcess
	sim       *sim.Sim
	cancel    context.CancelFunc
	wg        sync.WaitGroup
}

// DefaultDir is the playground's default folder: idp/demo in the user state
// dir ($XDG_STATE_HOME, else ~/.local/state).
func DefaultDir() (string, error) {
	if d := os.Getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "idp", "demo"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("no home folder for the playground: pass --dir: %w", err)
	}
	return filepath.Join(home, ".local", "state", "idp", "demo"), nil
}

// Open creates the playground in opts.Dir, or reuses the one there. Only one
// idp may use a playground at a time.
func Open(ctx context.Context, opts Options) (*Playground, error) {
	if opts.Dir == "" {
		d, err := DefaultDir()
		if err != nil {
			return nil, err
		}
		opts.Dir = d
	}
	if opts.Phase <= 0 {
		opts.Phase = 2 * time.Second
	}
	if opts.PowerSteps <= 0 {
		opts.PowerSteps = 5
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, err
	}
	if err := checkDir(dir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("playground %s: %w", dir, err)
	}
	unlock, err := lock(filepath.Join(dir, lockName))
	if err != nil {
		return nil, fmt.Errorf("playground %s is in use by another idp demo: quit that one, or pass --dir for a second playground (%w)", dir, err)
	}
	p := &Playground{Dir: dir, opts: opts, unlock: unlock}
	if opts.Reset {
		if err := p.clear(); err != nil {
			unlock()
			return nil, err
		}
	}
	p.Config = config.Config{
		GitOps: filepath.Join(dir, GitDir, GitOpsName+".git"),
		Forge:  config.Forge{Type: "local", Dir: filepath.Join(dir, GitDir)},
	}
	if _, err := os.Stat(filepath.Join(p.Config.GitOps, "HEAD")); errors.Is(err, fs.ErrNotExist) {
		if err := p.create(ctx); err != nil {
			p.clear()
			unlock()
			return nil, fmt.Errorf("create the playground in %s: %w", dir, err)
		}
		p.Created = true
	}
	p.AKS = &akstest.Cluster{Power: p.savedPower(), Provisioning: "Succeeded", Location: Location, Version: "1.33.2", Steps: opts.PowerSteps}
	return p, nil
}

// checkDir refuses a folder that holds something other than a playground,
// so that --reset never deletes a user's files.
func checkDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("playground %s: %w", dir, err)
	}
	if len(entries) == 0 {
		return nil
	}
	if _, err := os.Stat(filepath.Join(dir, marker)); err != nil {
		return fmt.Errorf("%s is not empty and is not an idp playground: pass --dir with a new or empty folder", dir)
	}
	return nil
}

// clear empties the playground's folder, keeping the lock.
func (p *Playground) clear() error {
	entries, err := os.ReadDir(p.Dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.Name() == lockName {
			continue
		}
		if err := os.RemoveAll(filepath.Join(p.Dir, e.Name())); err != nil {
			return fmt.Errorf("reset the playground: %w", err)
		}
	}
	return nil
}

// GitOpsURL is the GitOps repository as Applications name it.
func (p *Playground) GitOpsURL() string {
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(p.Config.GitOps)}).String()
}

// create makes the GitOps repository with the platform layout, committed
// through the gitops engine.
func (p *Playground) create(ctx context.Context) error {
	if err := os.WriteFile(filepath.Join(p.Dir, marker), []byte("This folder is an idp demo playground; `idp demo --reset` recreates it.\n"), 0o644); err != nil {
		return err
	}
	fg, err := forge.NewLocal(p.Config.Forge.Dir, "")
	if err != nil {
		return err
	}
	if _, err := fg.Create(ctx, forge.CreateOptions{Name: GitOpsName, Description: "The demo platform's GitOps repository"}); err != nil {
		return err
	}
	files, err := p.seedFiles()
	if err != nil {
		return err
	}
	repo, err := gitops.Open(ctx, p.Config.GitOps, gitops.Options{})
	if err != nil {
		return err
	}
	defer repo.Close()
	_, err = repo.Apply(ctx, gitops.ChangeSet{
		Files:   files,
		Message: "Bootstrap the demo platform\n\nWhat idp bootstrap renders: bootstrap/root.yaml (the app of apps), platform/ (Argo CD,\nCrossplane with its providers and the platform's APIs, Kyverno and the add-ons),\ninfrastructure/ (AKS, ACR, identities) and .idp/platform.yaml.",
		Author:  Author(),
	})
	return err
}

// Author signs the playground's own commits, and the user's in it when git
// has no identity configured.
func Author() *gitops.Signature {
	return &gitops.Signature{Name: "idp demo", Email: "demo@idp.invalid"}
}

// PlatformConfig is the demo platform's .idp/platform.yaml: what the
// bootstrap wizard would have collected for it.
func PlatformConfig(gitopsURL string) platformconfig.Config {
	cfg := platformconfig.Defaults()
	cfg.Name = "idp-demo"
	cfg.Azure.SubscriptionID = Subscription
	cfg.Azure.TenantID = "00000000-0000-4000-8000-0000000000e1"
	cfg.Azure.Location = Location
	cfg.Azure.ResourceGroup = ResourceGroup
	cfg.Azure.AKS.Name = ClusterName
	cfg.Azure.ACR.Name = "acridpdemo"
	cfg.GitOps.URL = gitopsURL
	cfg.GitOps.Changes = platformconfig.ChangeDirect
	return cfg.WithDefaults()
}

// seedFiles are the GitOps repository's first commit: the platform the
// bootstrap renders (bootstrap/, platform/, infrastructure/, apps/,
// .idp/platform.yaml), as if the demo platform had been bootstrapped.
func (p *Playground) seedFiles() ([]gitops.FileChange, error) {
	files, err := bootstrap.Render(PlatformConfig(p.GitOpsURL()))
	if err != nil {
		return nil, err
	}
	out := make([]gitops.FileChange, 0, len(files))
	for _, f := range files {
		out = append(out, gitops.FileChange{Path: f.Path, Content: f.Content})
	}
	return out, nil
}

// Start brings up the in-process cluster and the simulator, and applies
// bootstrap/root.yaml as the bootstrap would. The simulator runs until ctx
// ends or Close.
func (p *Playground) Start(ctx context.Context) error {
	snap, err := p.snapshot()
	if err != nil {
		return err
	}
	p.cluster = NewCluster(servedKinds(snap))
	p.inProcess = &environment.InProcess{Dynamic: p.cluster.Dynamic(), Discovery: p.cluster.Discovery()}
	p.sim = sim.New(p.cluster.Dynamic(), sim.Options{
		Source:  func(context.Context) (sim.Snapshot, error) { return p.snapshot() },
		RepoURL: p.GitOpsURL(),
		Resolve: func(gvk schema.GroupVersionKind) (schema.GroupVersionResource, bool, bool) {
			k, ok := p.cluster.KindFor(gvk)
			return k.GVR(), k.Namespaced, ok
		},
		Phase: p.opts.Phase,
		Tick:  min(time.Second, p.opts.Phase/2),
		// Argo CD and Crossplane run on the AKS cluster: stopping it (from
		// Cluster power) stops them until it starts again.
		Paused: func() bool {
			var stopped bool
			p.AKS.Update(func(c *akstest.Cluster) { stopped = c.Power == "Stopped" })
			return stopped
		},
		Failures: map[string]sim.Failure{Failing: {
			Health:  "Degraded",
			Message: `Deployment "payments" exceeded its progress deadline: pod payments-7d9c6b5f4-x2x8q: Back-off pulling image "ghcr.io/acme/payments:1.4.2": not found`,
		}},
	})
	// What the bootstrap applies to AKS: the app of apps, then (after the
	// adoption) the Application that keeps infrastructure/.
	for _, f := range []string{bootstrap.RootPath, bootstrap.HandoverManifest} {
		data, ok := snap.Files[f]
		if !ok {
			return fmt.Errorf("the playground's GitOps repository has no %s: run idp demo --reset", f)
		}
		if err := p.sim.Apply(ctx, data); err != nil {
			return fmt.Errorf("apply %s: %w", f, err)
		}
	}
	if err := p.seedCluster(ctx); err != nil {
		return err
	}
	ctx, p.cancel = context.WithCancel(ctx)
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		_ = p.sim.Run(ctx)
	}()
	return nil
}

// Environment points the views at the in-process cluster.
func (p *Playground) Environment() environment.Environment {
	env := environment.Environment{
		Config: p.Config,
		Kube: kube.Target{
			Context: "idp-demo", Cluster: "idp-demo (in-process)", Server: "in-process (idp demo)",
			Namespace: "argocd", User: "demo",
		},
	}
	if p.inProcess != nil {
		env.InProcess = p.inProcess // the same one every time: views share one pool by it
	} else {
		env.KubeErr = errors.New("the demo's cluster is not started")
	}
	return env
}

// powerFile keeps the AKS stand-in's power state between runs, so a
// cluster stopped in one run (and recorded so in Git) is stopped in the next.
const powerFile = "aks-power"

func (p *Playground) savedPower() string {
	if b, err := os.ReadFile(filepath.Join(p.Dir, powerFile)); err == nil && strings.TrimSpace(string(b)) == "Stopped" {
		return "Stopped"
	}
	return "Running"
}

// Close stops the simulator, keeps the cluster's power state and releases
// the folder.
func (p *Playground) Close() {
	if p.cancel != nil {
		p.cancel()
		p.wg.Wait()
	}
	if p.AKS != nil && p.unlock != nil {
		var power string
		p.AKS.Update(func(c *akstest.Cluster) { power = c.Power })
		_ = os.WriteFile(filepath.Join(p.Dir, powerFile), []byte(power+"\n"), 0o644)
	}
	if p.cluster != nil {
		p.cluster.Close()
	}
	if p.unlock != nil {
		p.unlock()
		p.unlock = nil
	}
}

// snapshot reads the GitOps repository's default branch, as Argo CD's repo
// server would.
func (p *Playground) snapshot() (sim.Snapshot, error) {
	r, err := git.PlainOpen(p.Config.GitOps)
	if err != nil {
		return sim.Snapshot{}, err
	}
	head, err := r.Head()
	if err != nil {
		return sim.Snapshot{}, err
	}
	c, err := r.CommitObject(head.Hash())
	if err != nil {
		return sim.Snapshot{}, err
	}
	tree, err := c.Tree()
	if err != nil {
		return sim.Snapshot{}, err
	}
	snap := sim.Snapshot{Revision: c.Hash.String(), Files: map[string][]byte{}}
	err = tree.Files().ForEach(func(f *object.File) error {
		s, err := f.Contents()
		snap.Files[f.Name] = []byte(s)
		return err
	})
	return snap, err
}
