package bootstrap

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// PipelineConfig is everything one bootstrap run needs. Nothing in it is
// written to Git; AzureCredentials is not even written to the checkpoint.
type PipelineConfig struct {
	// Platform names the platform: the checkpoint file and the kind cluster.
	Platform string
	// Manifests is the rendered GitOps repository, by slash path:
	// bootstrap/root.yaml, platform/..., infrastructure/....
	Manifests map[string][]byte
	// Seed is the seed cluster: KindSeed or ExistingSeed.
	Seed Seed
	// AzureCredentials is the content provider-azure's ProviderConfig
	// reads from its Secret (a service principal's JSON). It is put in a
	// Kubernetes Secret on the clusters whose ProviderConfig refers to
	// one; steps that need it fail with a clear message when it is empty.
	AzureCredentials []byte
	// Crossplane is installed on the seed, Argo CD on AKS.
	Crossplane, ArgoCD HelmChart
	// Preflight are the checks of step 1.
	Preflight []PreflightCheck
	// KubeconfigSecret is where the AKS kubeconfig is; nil finds it from
	// the infrastructure's connection secrets.
	KubeconfigSecret *SecretRef

	// StateDir holds the checkpoint and kubeconfigs; empty means StateDir().
	StateDir string
	// FieldManager for server-side apply; empty means DefaultFieldManager.
	FieldManager string
	// PollInterval is how often waits poll; zero means 2s.
	PollInterval time.Duration
	// Timeouts override the default timeout of a step.
	Timeouts map[StepID]time.Duration
	// ResumeCommand is what a user runs to continue: "idp bootstrap --config platform.yaml --resume".
	ResumeCommand string
}

// SecretRef names a key of a Secret.
type SecretRef struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	Key       string `json:"key"`
}

func (s SecretRef) String() string {
	return fmt.Sprintf("Secret %s/%s key %s", s.Namespace, s.Name, s.Key)
}

// Default step timeouts: AKS takes a quarter of an hour to create.
var defaultTimeouts = map[StepID]time.Duration{
	StepPreflight:      2 * time.Minute,
	StepSeed:           10 * time.Minute,
	StepCrossplane:     15 * time.Minute,
	StepInfrastructure: 45 * time.Minute,
	StepKubeconfig:     10 * time.Minute,
	StepArgoCD:         20 * time.Minute,
	StepAdopt:          30 * time.Minute,
	StepDeleteSeed:     15 * time.Minute,
}

// Errors of starting a run.
var (
	ErrCheckpointExists = errors.New("a bootstrap checkpoint exists")
)

// Pipeline is the bootstrap of one platform.
type Pipeline struct {
	cfg       PipelineConfig
	manifests parsedManifests
	path      string

	mu   sync.Mutex
	ckpt *Checkpoint
	seed *cluster
	aks  *cluster
}

// NewPipeline checks the configuration and reads the manifests; it touches
// no cluster and writes no file.
func NewPipeline(cfg PipelineConfig) (*Pipeline, error) {
	if cfg.FieldManager == "" {
		cfg.FieldManager = DefaultFieldManager
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = 2 * time.Second
	}
	if cfg.ResumeCommand == "" {
		cfg.ResumeCommand = "idp bootstrap --resume"
	}
	if cfg.Seed == nil {
		return nil, errors.New("bootstrap: no seed cluster: use kind, or give an existing cluster's kubeconfig")
	}
	if err := cfg.Crossplane.validate("Crossplane"); err != nil {
		return nil, fmt.Errorf("bootstrap: %w", err)
	}
	if err := cfg.ArgoCD.validate("Argo CD"); err != nil {
		return nil, fmt.Errorf("bootstrap: %w", err)
	}
	path, err := CheckpointPath(cfg.StateDir, cfg.Platform)
	if err != nil {
		return nil, err
	}
	m, err := parseManifests(cfg.Manifests)
	if err != nil {
		return nil, err
	}
	return &Pipeline{cfg: cfg, manifests: m, path: path}, nil
}

// CheckpointPath is where this platform's checkpoint is kept.
func (p *Pipeline) CheckpointPath() string { return p.path }

// AKSKubeconfigPath is where step 5 writes the AKS kubeconfig (mode 0600).
func (p *Pipeline) AKSKubeconfigPath() string {
	return filepath.Join(filepath.Dir(p.path), p.cfg.Platform+"-aks.kubeconfig")
}

// SeedKubeconfigPath is where a kind seed's kubeconfig goes (mode 0600).
func SeedKubeconfigPath(stateDir, platform string) (string, error) {
	path, err := CheckpointPath(stateDir, platform)
	if err != nil {
		return "", err
	}
	return filepath.Join(filepath.Dir(path), platform+"-seed.kubeconfig"), nil
}

// Runner prepares a run: a new checkpoint, or with resume the saved one.
// It refuses to start over a saved run (resume it, or remove the file) and
// to resume without one. The Runner's Steps may be changed before Run.
func (p *Pipeline) Runner(resume bool) (*Runner, error) {
	ckpt, err := LoadCheckpoint(p.path)
	switch {
	case resume && errors.Is(err, ErrNoCheckpoint):
		return nil, fmt.Errorf("bootstrap: nothing to resume for %q (no %s): start without --resume", p.cfg.Platform, p.path)
	case err != nil && !errors.Is(err, ErrNoCheckpoint):
		return nil, err
	case !resume && err == nil && !anyDone(ckpt):
		// A run that stopped before finishing any step (pre-flight
		// failed) created nothing: start over.
		ckpt = &Checkpoint{Version: CheckpointVersion, Platform: p.cfg.Platform, Started: time.Now().UTC(), SeedKind: p.cfg.Seed.Kind()}
	case !resume && err == nil && !ckpt.Finished.IsZero():
		return nil, fmt.Errorf("bootstrap: %w: %q was bootstrapped on %s; to bootstrap it again remove %s",
			ErrCheckpointExists, p.cfg.Platform, ckpt.Finished.Local().Format(time.DateTime), p.path)
	case !resume && err == nil:
		return nil, fmt.Errorf("bootstrap: %w: a bootstrap of %q stopped at %s; continue it with `%s`, or remove %s to start over",
			ErrCheckpointExists, p.cfg.Platform, stoppedAt(ckpt), p.cfg.ResumeCommand, p.path)
	case !resume:
		ckpt = &Checkpoint{Version: CheckpointVersion, Platform: p.cfg.Platform, Started: time.Now().UTC(), SeedKind: p.cfg.Seed.Kind()}
	}
	if ckpt.Platform != p.cfg.Platform {
		return nil, fmt.Errorf("bootstrap: checkpoint %s is of platform %q, not %q", p.path, ckpt.Platform, p.cfg.Platform)
	}
	if ckpt.SeedKind != "" && ckpt.SeedKind != p.cfg.Seed.Kind() {
		return nil, fmt.Errorf("bootstrap: this bootstrap started with a %s seed cluster; resume it with the same seed (now: %s)", ckpt.SeedKind, p.cfg.Seed.Describe())
	}
	p.mu.Lock()
	p.ckpt, p.seed, p.aks = ckpt, nil, nil
	p.mu.Unlock()
	return &Runner{Steps: p.Steps(), Checkpoint: ckpt, Path: p.path, ResumeCommand: p.cfg.ResumeCommand}, nil
}

func anyDone(c *Checkpoint) bool {
	for _, s := range c.Steps {
		if s.Done {
			return true
		}
	}
	return false
}

func stoppedAt(c *Checkpoint) string {
	for _, s := range c.Steps {
		if !s.Done {
			return "step " + string(s.ID)
		}
	}
	if len(c.Steps) > 0 {
		return "after step " + string(c.Steps[len(c.Steps)-1].ID)
	}
	return "its start"
}

// Run starts a new bootstrap and runs it to the end or the first failure.
func (p *Pipeline) Run(ctx context.Context, events chan<- Event) error {
	return p.run(ctx, false, events)
}

// Resume continues a saved bootstrap after a failure, a crash or Ctrl-C:
// steps done are skipped, the step that stopped runs again (its check
// first), and nothing is created twice.
func (p *Pipeline) Resume(ctx context.Context, events chan<- Event) error {
	return p.run(ctx, true, events)
}

// Stream runs (or with resume, resumes) in a goroutine and returns the
// events; the channel closes after PipelineDone.
func (p *Pipeline) Stream(ctx context.Context, resume bool) <-chan Event {
	ch := make(chan Event, 256)
	go func() {
		defer close(ch)
		p.run(ctx, resume, ch)
	}()
	return ch
}

func (p *Pipeline) run(ctx context.Context, resume bool, events chan<- Event) error {
	r, err := p.Runner(resume)
	if err != nil {
		send(ctx, events, Event{Type: PipelineDone, Time: time.Now(), Err: err})
		return err
	}
	return r.Run(ctx, events)
}

// state returns the checkpoint of the current run.
func (p *Pipeline) state() *Checkpoint {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ckpt == nil {
		p.ckpt = &Checkpoint{Version: CheckpointVersion, Platform: p.cfg.Platform}
	}
	return p.ckpt
}

// seedCluster connects to the seed recorded in the checkpoint.
func (p *Pipeline) seedCluster() (*cluster, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.seed != nil {
		return p.seed, nil
	}
	if p.ckpt == nil || p.ckpt.Seed.Kubeconfig == "" {
		return nil, errors.New("the seed cluster is not known yet (step 2 records it)")
	}
	c, err := connect("seed", p.ckpt.Seed, p.cfg.FieldManager)
	if err != nil {
		return nil, err
	}
	p.seed = c
	return c, nil
}

// aksCluster connects to AKS through the kubeconfig step 5 wrote.
func (p *Pipeline) aksCluster() (*cluster, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.aks != nil {
		return p.aks, nil
	}
	if p.ckpt == nil || p.ckpt.AKS.Kubeconfig == "" {
		return nil, errors.New("the AKS cluster is not known yet (step 5 records its kubeconfig)")
	}
	if _, err := os.Stat(p.ckpt.AKS.Kubeconfig); err != nil {
		return nil, fmt.Errorf("the AKS kubeconfig %s is gone: %w", p.ckpt.AKS.Kubeconfig, err)
	}
	c, err := connect("AKS", p.ckpt.AKS, p.cfg.FieldManager)
	if err != nil {
		return nil, err
	}
	p.aks = c
	return c, nil
}

func (p *Pipeline) forgetClusters() {
	p.mu.Lock()
	p.seed, p.aks = nil, nil
	p.mu.Unlock()
}

func (p *Pipeline) timeout(id StepID) time.Duration {
	if d, ok := p.cfg.Timeouts[id]; ok {
		return d
	}
	return defaultTimeouts[id]
}

func (p *Pipeline) wait(id StepID, what string) Wait {
	return Wait{For: what, Timeout: p.timeout(id), Interval: p.cfg.PollInterval}
}

// Steps are the bootstrap's steps, bound to this pipeline's state.
func (p *Pipeline) Steps() []Step {
	return []Step{
		p.preflightStep(),
		p.seedStep(),
		p.crossplaneStep(),
		p.infrastructureStep(),
		p.kubeconfigStep(),
		p.argoCDStep(),
		p.adoptStep(),
		p.deleteSeedStep(),
	}
}

func (p *Pipeline) resumeSentence(index int, title string) string {
	return fmt.Sprintf("then run `%s` to continue from step %d (%s)", p.cfg.ResumeCommand, index, strings.ToLower(title))
}
