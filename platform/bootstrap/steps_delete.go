package bootstrap

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

var unpausePatch = []byte(`{"metadata":{"annotations":{"` + PausedAnnotation + `":null}}}`)

func (p *Pipeline) deleteSeedStep() Step {
	const title = "Delete the seed"
	return Step{
		ID:    StepDeleteSeed,
		Title: title,
		Wait:  p.wait(StepDeleteSeed, "the seed to be gone"),
		Check: func(ctx context.Context) (bool, error) {
			switch s := p.cfg.Seed.(type) {
			case ExistingSeed:
				if s.Keep {
					return false, nil // running it only says what was left
				}
				return p.seedClean(ctx)
			}
			exists, err := p.cfg.Seed.Exists(ctx)
			return !exists && err == nil, err
		},
		Run: func(ctx context.Context, out *StepOutput) error {
			if p.cfg.Seed.Owned() {
				if err := p.cfg.Seed.Delete(ctx, out); err != nil {
					return err
				}
				p.forgetClusters()
				if kind, ok := p.cfg.Seed.(KindSeed); ok {
					if err := removeFile(kind.Kubeconfig); err != nil {
						return err
					}
				}
				out.Logf("the seed is gone; AKS runs the platform, and Argo CD manages it from Git")
				return nil
			}
			if s, ok := p.cfg.Seed.(ExistingSeed); ok && s.Keep {
				st := p.state()
				out.Logf("left %s as it was: %d objects idp applied (Crossplane's paused; they will not touch Azure) and the Helm releases %s",
					s.Describe(), len(st.SeedObjects), releaseNames(st.Releases, "seed"))
				out.Logf("to remove them later, run the bootstrap again without keeping the seed, or uninstall Crossplane from that cluster")
				return nil
			}
			return p.cleanSeed(ctx, out)
		},
		NextAction: func(err error) string {
			if strings.Contains(err.Error(), "not orphaned") {
				return "Nothing was deleted. Check the managed resources on the seed, then " + p.resumeSentence(8, title) + "."
			}
			return "AKS runs the platform already; only the seed's clean-up is left: " + p.resumeSentence(8, title) + "."
		},
	}
}

func releaseNames(rels []ReleaseRecord, clusterName string) string {
	var names []string
	for _, r := range rels {
		if r.Cluster == clusterName {
			names = append(names, r.Namespace+"/"+r.Name)
		}
	}
	if len(names) == 0 {
		return "(none)"
	}
	return strings.Join(names, ", ")
}

// seedClean reports whether nothing idp installed is left on an existing seed.
func (p *Pipeline) seedClean(ctx context.Context) (bool, error) {
	seed, err := p.seedCluster()
	if err != nil {
		return false, err
	}
	st := p.state()
	for _, r := range p.seedRemovals() {
		u, err := seed.get(ctx, r)
		if err != nil || u != nil {
			return false, err
		}
	}
	for _, r := range st.Releases {
		if r.Cluster != "seed" || !r.Created {
			continue
		}
		h, err := p.helm(seed, HelmChart{Release: r.Name, Namespace: r.Namespace}, &StepOutput{})
		if err != nil {
			return false, err
		}
		if rel, err := h.latest(); err != nil || rel != nil {
			return false, err
		}
	}
	return true, nil
}

// seedRemovals are what idp put on the seed, in the order to delete them:
// managed resources and composites first (their Azure resources are
// orphaned), then definitions, configs and packages, then the credentials.
// Namespaces stay: they may have been there before.
func (p *Pipeline) seedRemovals() []ObjectRef {
	st := p.state()
	var out []ObjectRef
	for _, a := range st.Adopted {
		out = append(out, a.ObjectRef)
	}
	objs := slices.Clone(st.SeedObjects)
	slices.Reverse(objs) // infrastructure was applied last
	for _, o := range objs {
		if o.Kind != "Namespace" && !slices.Contains(out, o) {
			out = append(out, o)
		}
	}
	return out
}

// cleanSeed removes what idp installed on an existing seed, never deleting
// a managed resource that would delete its Azure resource.
func (p *Pipeline) cleanSeed(ctx context.Context, out *StepOutput) error {
	seed, err := p.seedCluster()
	if err != nil {
		return err
	}
	st := p.state()
	adopted := map[ObjectRef]bool{}
	for _, a := range st.Adopted {
		u, err := seed.get(ctx, a.ObjectRef)
		if err != nil {
			return err
		}
		if u != nil && !orphaned(u) {
			return fmt.Errorf("%s on the seed is not orphaned: deleting it would delete its Azure resource", a.ObjectRef)
		}
		adopted[a.ObjectRef] = true
	}
	removals := p.seedRemovals()
	// Composites before their resources (Crossplane would compose a
	// deleted resource again), resources before the providers that hold
	// their finalizers, and everything unpaused so Crossplane can finish
	// the deletion; orphaned resources leave Azure alone.
	infra := map[ObjectRef]bool{}
	for _, m := range p.manifests.infra {
		infra[m.ref()] = true
	}
	var composites, resources, rest []ObjectRef
	for _, r := range removals {
		switch {
		case !adopted[r] && isCompositeRef(p, r):
			composites = append(composites, r)
		case adopted[r] || infra[r]:
			resources = append(resources, r)
		default:
			rest = append(rest, r)
		}
	}
	for _, group := range [][]ObjectRef{composites, resources, rest} {
		for _, r := range group {
			u, err := seed.get(ctx, r)
			if err != nil {
				return err
			}
			if u == nil {
				continue
			}
			if _, paused := u.GetAnnotations()[PausedAnnotation]; paused {
				if err := seed.patchMerge(ctx, r, unpausePatch); err != nil {
					return err
				}
			}
			if _, err := seed.remove(ctx, r); err != nil {
				return err
			}
			out.Logf("deleted %s from the seed", r)
		}
		if err := poll(ctx, p.cfg.PollInterval, func(ctx context.Context) (bool, string, error) {
			for _, r := range group {
				u, err := seed.get(ctx, r)
				if err != nil {
					return false, "", err
				}
				if u != nil {
					return false, r.String() + " is still being deleted", nil
				}
			}
			return true, "", nil
		}); err != nil {
			return err
		}
	}
	for _, r := range st.Releases {
		if r.Cluster != "seed" || !r.Created {
			continue
		}
		h, err := p.helm(seed, HelmChart{Release: r.Name, Namespace: r.Namespace}, out)
		if err != nil {
			return err
		}
		if removed, err := h.uninstall(ctx); err != nil {
			return err
		} else if removed {
			out.Logf("uninstalled Helm release %s/%s from the seed", r.Namespace, r.Name)
		}
	}
	out.Logf("removed what idp installed on the seed; the cluster itself is yours and stays")
	return nil
}

func isCompositeRef(p *Pipeline, r ObjectRef) bool {
	kinds := compositeKinds(p.manifests.definitions)
	gk := r.gvk().GroupKind()
	return kinds.Composites[gk] || kinds.Claims[gk]
}
