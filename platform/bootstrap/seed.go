package bootstrap

import (
	"context"
	"fmt"

	"github.com/back-stack/idp/platform/kube"
)

// Seed kinds, as the checkpoint records them.
const (
	SeedKindKind     = "kind"
	SeedKindExisting = "existing"
)

// Seed is the temporary cluster that runs Crossplane until AKS exists.
type Seed interface {
	// Kind is SeedKindKind or SeedKindExisting.
	Kind() string
	// Describe says which cluster this is, for plans and logs.
	Describe() string
	// Exists reports whether the cluster is there and reachable.
	Exists(ctx context.Context) (bool, error)
	// Ensure creates the cluster if it is absent and says how to reach it.
	Ensure(ctx context.Context, out *StepOutput) (ClusterRecord, error)
	// Owned reports whether the seed is idp's to delete whole (kind). An
	// existing cluster is not: the pipeline removes what it installed
	// there instead, or leaves it and says so.
	Owned() bool
	// Delete removes an owned seed; it is not called for others.
	Delete(ctx context.Context, out *StepOutput) error
}

// ExistingSeed is a cluster the user already has (--seed-kubeconfig).
type ExistingSeed struct {
	Kubeconfig string
	Context    string
	// Keep leaves everything idp installed on the cluster when the
	// bootstrap ends; otherwise the last step removes it.
	Keep bool
}

func (s ExistingSeed) Kind() string { return SeedKindExisting }

func (s ExistingSeed) Describe() string {
	d := "the existing cluster of kubeconfig " + s.Kubeconfig
	if s.Context != "" {
		d += " (context " + s.Context + ")"
	}
	return d
}

func (s ExistingSeed) record() ClusterRecord {
	return ClusterRecord{Kubeconfig: s.Kubeconfig, Context: s.Context}
}

func (s ExistingSeed) Exists(ctx context.Context) (bool, error) {
	c, err := connect("seed", s.record(), DefaultFieldManager)
	if err != nil {
		return false, err
	}
	if err := c.reachable(ctx); err != nil {
		return false, err
	}
	return true, nil
}

func (s ExistingSeed) Ensure(ctx context.Context, out *StepOutput) (ClusterRecord, error) {
	target, _, err := kube.Resolve(s.Kubeconfig, s.Context)
	if err != nil {
		return ClusterRecord{}, fmt.Errorf("seed kubeconfig: %w", err)
	}
	if _, err := s.Exists(ctx); err != nil {
		return ClusterRecord{}, err
	}
	out.Logf("using %s: context %s, server %s", s.Describe(), target.Context, target.Server)
	// The context is pinned so a later change of current-context in the
	// file cannot point a resumed run at another cluster.
	return ClusterRecord{Kubeconfig: s.Kubeconfig, Context: target.Context}, nil
}

func (s ExistingSeed) Owned() bool { return false }

func (s ExistingSeed) Delete(context.Context, *StepOutput) error {
	return fmt.Errorf("bootstrap: %s is not idp's to delete", s.Describe())
}
