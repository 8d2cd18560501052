package bootstrap

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Crossplane's own kinds, which its pod registers when it starts.
var crossplaneKinds = []schema.GroupVersionKind{
	{Group: crossplanePkgGroup, Version: "v1", Kind: "Provider"},
	{Group: crossplanePkgGroup, Version: "v1", Kind: "Function"},
	{Group: crossplaneXGroup, Version: "v1", Kind: "CompositeResourceDefinition"},
	{Group: crossplaneXGroup, Version: "v1", Kind: "Composition"},
}

// managedByLabel marks what idp creates that is not in Git.
const managedByLabel = "app.kubernetes.io/managed-by"

func (p *Pipeline) crossplaneStep() Step {
	const title = "Crossplane, provider-azure and functions on the seed"
	return Step{
		ID:    StepCrossplane,
		Title: title,
		Wait:  p.wait(StepCrossplane, "Crossplane's packages to be Healthy"),
		Check: func(ctx context.Context) (bool, error) {
			seed, err := p.seedCluster()
			if err != nil {
				return false, err
			}
			h, err := p.helm(seed, p.cfg.Crossplane, &StepOutput{})
			if err != nil {
				return false, err
			}
			rel, err := h.latest()
			if err != nil || !h.upToDate(rel) {
				return false, err
			}
			if ok, _, err := p.secretsPresent(ctx, seed); err != nil || !ok {
				return false, err
			}
			for _, m := range p.manifests.seedPlatform() {
				ok, _, err := seedObjectReady(ctx, seed, m.ref())
				if err != nil || !ok {
					return false, err
				}
			}
			p.recordRelease("seed", rel)
			return true, nil
		},
		Run: func(ctx context.Context, out *StepOutput) error {
			seed, err := p.seedCluster()
			if err != nil {
				return err
			}
			h, err := p.helm(seed, p.cfg.Crossplane, out)
			if err != nil {
				return err
			}
			rel, _, err := h.upgradeInstall(ctx)
			if err != nil {
				return err
			}
			p.recordRelease("seed", rel)
			if err := seed.waitServed(ctx, out, p.cfg.PollInterval, "Crossplane registers them when its pod starts", crossplaneKinds...); err != nil {
				return err
			}
			if err := p.applyAll(ctx, out, seed, slices.Concat(p.manifests.runtime, p.manifests.packages)); err != nil {
				return err
			}
			if err := p.waitSeedObjects(ctx, out, seed, p.manifests.packages, "Crossplane packages"); err != nil {
				return err
			}
			if err := p.ensureSecrets(ctx, out, seed); err != nil {
				return err
			}
			rest := slices.Concat(p.manifests.providerConfigs, p.manifests.definitions)
			if err := seed.waitServed(ctx, out, p.cfg.PollInterval, "the providers register them once Healthy", kindsOf(rest)...); err != nil {
				return err
			}
			if err := p.applyAll(ctx, out, seed, rest); err != nil {
				return err
			}
			return p.waitSeedObjects(ctx, out, seed, rest, "ProviderConfigs and composite resource definitions")
		},
		NextAction: func(err error) string {
			if strings.Contains(err.Error(), "credentials") {
				return "Pass the Azure credentials file again (idp never stores them), " + p.resumeSentence(3, title) + "."
			}
			return "Look at the package's message above (`kubectl get providers,functions` on the seed shows it too), " + p.resumeSentence(3, title) + "."
		},
	}
}

func kindsOf(ms []manifest) []schema.GroupVersionKind {
	var out []schema.GroupVersionKind
	for _, m := range ms {
		gvk := m.Obj.GroupVersionKind()
		if !slices.Contains(out, gvk) {
			out = append(out, gvk)
		}
	}
	return out
}

// applyAll applies manifests in order; objects on the seed are recorded so
// that removing what idp installed removes exactly them.
func (p *Pipeline) applyAll(ctx context.Context, out *StepOutput, c *cluster, ms []manifest) error {
	for _, m := range ms {
		if _, err := c.apply(ctx, m.Obj.DeepCopy()); err != nil {
			return fmt.Errorf("%s: %w", m.File, err)
		}
		out.Logf("applied %s (%s) on the %s cluster", m.ref(), m.File, c.name)
		if c.name == "seed" {
			p.state().addSeedObject(m.ref())
		}
	}
	return nil
}

// seedObjectReady tells whether a platform object on the seed is there and
// ready: packages Installed and Healthy, XRDs Established (and Offered when
// they define a claim), the rest present.
func seedObjectReady(ctx context.Context, c *cluster, ref ObjectRef) (bool, string, error) {
	u, err := c.get(ctx, ref)
	if err != nil {
		return false, "", err
	}
	if u == nil {
		return false, ref.String() + " is not there", nil
	}
	return objectReady(u)
}

func objectReady(u *unstructured.Unstructured) (bool, string, error) {
	var want []string
	switch gk := u.GroupVersionKind().GroupKind(); {
	case gk.Group == crossplanePkgGroup && (gk.Kind == "Provider" || gk.Kind == "Function" || gk.Kind == "Configuration"):
		want = []string{"Installed", "Healthy"}
	case gk.Group == crossplaneXGroup && gk.Kind == "CompositeResourceDefinition":
		want = []string{"Established"}
		if _, ok, _ := unstructured.NestedMap(u.Object, "spec", "claimNames"); ok {
			want = append(want, "Offered")
		}
	}
	for _, cond := range want {
		if ok, msg := conditionTrue(u, cond); !ok {
			s := fmt.Sprintf("%s is not %s", refOf(u), cond)
			if msg != "" {
				s += ": " + msg
			}
			return false, s, nil
		}
	}
	return true, "", nil
}

// waitSeedObjects waits until every object of ms is ready, logging each
// change of what it waits on.
func (p *Pipeline) waitSeedObjects(ctx context.Context, out *StepOutput, c *cluster, ms []manifest, what string) error {
	last := ""
	err := poll(ctx, p.cfg.PollInterval, func(ctx context.Context) (bool, string, error) {
		var pending []string
		ready := 0
		for _, m := range ms {
			ok, msg, err := seedObjectReady(ctx, c, m.ref())
			if err != nil {
				return false, "", err
			}
			if ok {
				ready++
			} else {
				pending = append(pending, msg)
			}
		}
		status := fmt.Sprintf("%d/%d %s ready", ready, len(ms), what)
		if len(pending) > 0 {
			status += "; " + strings.Join(pending, "; ")
		}
		out.Progress(Progress{Summary: status})
		if status != last {
			out.Logf("%s", status)
			last = status
		}
		return len(pending) == 0, status, nil
	})
	return err
}
