package bootstrap

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"time"

	kindcluster "sigs.k8s.io/kind/pkg/cluster"
	kindlog "sigs.k8s.io/kind/pkg/log"
)

// KindSeed is a kind cluster idp creates for the bootstrap and deletes at
// its end. It needs a container runtime (Docker, Podman or nerdctl).
type KindSeed struct {
	// Name is the kind cluster's name.
	Name string
	// Kubeconfig is the file kind writes the cluster's credentials to
	// (mode 0600, in the state directory).
	Kubeconfig string
	// NodeImage overrides kind's default node image.
	NodeImage string
	// WaitForReady bounds the wait for the control plane; zero means 5 minutes.
	WaitForReady time.Duration
}

// NewKindSeed is the kind seed of a platform: cluster "idp-<platform>-seed",
// its kubeconfig in the state directory (StateDir when stateDir is empty).
func NewKindSeed(stateDir, platform string) (KindSeed, error) {
	path, err := SeedKubeconfigPath(stateDir, platform)
	if err != nil {
		return KindSeed{}, err
	}
	return KindSeed{Name: "idp-" + platform + "-seed", Kubeconfig: path}, nil
}

func (s KindSeed) Kind() string     { return SeedKindKind }
func (s KindSeed) Owned() bool      { return true }
func (s KindSeed) Describe() string { return fmt.Sprintf("kind cluster %q", s.Name) }

// context is the kubeconfig context kind writes for the cluster.
func (s KindSeed) context() string { return "kind-" + s.Name }

func (s KindSeed) provider(out *StepOutput) (*kindcluster.Provider, error) {
	runtime, err := kindcluster.DetectNodeProvider()
	if err != nil {
		return nil, errors.New("kind needs a container runtime and found none: start Docker (or Podman), or pass --seed-kubeconfig to use an existing cluster")
	}
	return kindcluster.NewProvider(runtime, kindcluster.ProviderWithLogger(kindLogger{out: out})), nil
}

func (s KindSeed) Exists(ctx context.Context) (bool, error) {
	p, err := s.provider(nil)
	if err != nil {
		return false, err
	}
	names, err := p.List()
	if err != nil {
		return false, fmt.Errorf("listing kind clusters: %w", err)
	}
	if !slices.Contains(names, s.Name) {
		return false, nil
	}
	if _, err := os.Stat(s.Kubeconfig); err != nil {
		return false, nil
	}
	c, err := connect("seed", ClusterRecord{Kubeconfig: s.Kubeconfig, Context: s.context()}, DefaultFieldManager)
	if err != nil {
		return false, err
	}
	return c.reachable(ctx) == nil, nil
}

func (s KindSeed) Ensure(ctx context.Context, out *StepOutput) (ClusterRecord, error) {
	rec := ClusterRecord{Kubeconfig: s.Kubeconfig, Context: s.context()}
	p, err := s.provider(out)
	if err != nil {
		return rec, err
	}
	names, err := p.List()
	if err != nil {
		return rec, fmt.Errorf("listing kind clusters: %w", err)
	}
	if slices.Contains(names, s.Name) {
		out.Logf("kind cluster %q exists; exporting its kubeconfig to %s", s.Name, s.Kubeconfig)
		if err := p.ExportKubeConfig(s.Name, s.Kubeconfig, false); err != nil {
			return rec, fmt.Errorf("exporting the kubeconfig of kind cluster %q: %w", s.Name, err)
		}
	} else {
		wait := s.WaitForReady
		if wait == 0 {
			wait = 5 * time.Minute
		}
		opts := []kindcluster.CreateOption{
			kindcluster.CreateWithKubeconfigPath(s.Kubeconfig),
			kindcluster.CreateWithWaitForReady(wait),
			kindcluster.CreateWithDisplayUsage(false),
			kindcluster.CreateWithDisplaySalutation(false),
		}
		if s.NodeImage != "" {
			opts = append(opts, kindcluster.CreateWithNodeImage(s.NodeImage))
		}
		out.Logf("creating kind cluster %q (this takes a minute or two)", s.Name)
		// kind's Create takes no context: Ctrl-C is honoured after it
		// returns, and a resumed run finds the cluster by name.
		if err := p.Create(s.Name, opts...); err != nil {
			return rec, fmt.Errorf("creating kind cluster %q: %w", s.Name, err)
		}
	}
	if err := os.Chmod(s.Kubeconfig, 0o600); err != nil {
		return rec, err
	}
	return rec, ctx.Err()
}

func (s KindSeed) Delete(_ context.Context, out *StepOutput) error {
	p, err := s.provider(out)
	if err != nil {
		return err
	}
	out.Logf("deleting kind cluster %q", s.Name)
	if err := p.Delete(s.Name, s.Kubeconfig); err != nil {
		return fmt.Errorf("deleting kind cluster %q: %w", s.Name, err)
	}
	return nil
}

// kindLogger sends kind's messages to the step's log.
type kindLogger struct{ out *StepOutput }

func (l kindLogger) Warn(m string)                        { l.out.Logf("kind: %s", m) }
func (l kindLogger) Warnf(f string, a ...any)             { l.out.Logf("kind: "+f, a...) }
func (l kindLogger) Error(m string)                       { l.out.Logf("kind: %s", m) }
func (l kindLogger) Errorf(f string, a ...any)            { l.out.Logf("kind: "+f, a...) }
func (l kindLogger) V(v kindlog.Level) kindlog.InfoLogger { return kindInfo{out: l.out, on: v <= 0} }

type kindInfo struct {
	out *StepOutput
	on  bool
}

func (l kindInfo) Info(m string) {
	if l.on {
		l.out.Logf("kind: %s", m)
	}
}

func (l kindInfo) Infof(f string, a ...any) {
	if l.on {
		l.out.Logf("kind: "+f, a...)
	}
}

func (l kindInfo) Enabled() bool { return l.on }
