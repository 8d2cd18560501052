package bootstrap

import (
	"context"
	"fmt"
	"slices"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	release "helm.sh/helm/v4/pkg/release/v1"
	releaseutil "helm.sh/helm/v4/pkg/release/v1/util"
)

// resourcePolicyKeep on an object keeps it when Helm would delete it.
const resourcePolicyKeep = "keep"

// applyObject server-side applies a rendered object with the pipeline's
// field manager. A kind whose CRD the chart has just applied is waited
// for until the API server serves it.
func (h *helmClient) applyObject(ctx context.Context, o renderedObject) error {
	gvk := o.obj.GroupVersionKind()
	served, err := h.c.served(ctx, gvk)
	if err != nil {
		return err
	}
	if !served {
		if err := h.c.waitServed(ctx, h.out, pollEvery, "the chart's CRD defines it", gvk); err != nil {
			return fmt.Errorf("%s: %w", o.source, err)
		}
	}
	if _, err := h.c.apply(ctx, o.obj.DeepCopy()); err != nil {
		return fmt.Errorf("chart %s, %s: %w", h.chart.Release, o.source, err)
	}
	return nil
}

const pollEvery = 500 * time.Millisecond

// applyCRDs applies the chart's crds/ directory first and waits until each
// CRD is Established, as `helm install` does. Unlike Helm, an upgrade
// applies them too (as Argo CD does); like Helm, they are never deleted.
func (h *helmClient) applyCRDs(ctx context.Context, crds []renderedObject) error {
	for _, o := range crds {
		if err := h.applyObject(ctx, o); err != nil {
			return err
		}
	}
	for _, o := range crds {
		if err := poll(ctx, pollEvery, func(ctx context.Context) (bool, string, error) {
			u, err := h.c.get(ctx, o.ref)
			if err != nil || u == nil {
				return false, o.ref.String() + " is not there yet", err
			}
			ok, msg := conditionTrue(u, "Established")
			return ok, o.ref.String() + " is not Established: " + msg, nil
		}); err != nil {
			return fmt.Errorf("chart %s's CRD %s: %w", h.chart.Release, o.ref.Name, err)
		}
	}
	if len(crds) > 0 {
		h.out.Logf("applied the chart's %d CRDs", len(crds))
	}
	return nil
}

// runHooks runs the chart's hooks for event, by weight, as Helm does: the
// previous hook object is deleted first (before-hook-creation, the default),
// the hook is applied, a Job is waited on until it completes and a Pod until
// it succeeds, and hook-succeeded / hook-failed delete it afterwards.
func (h *helmClient) runHooks(ctx context.Context, hooks []renderedHook, event release.HookEvent) error {
	for _, hk := range hooks {
		if !slices.Contains(hk.events, event) {
			continue
		}
		policies := hk.policies
		if len(policies) == 0 {
			policies = []release.HookDeletePolicy{release.HookBeforeHookCreation}
		}
		if slices.Contains(policies, release.HookBeforeHookCreation) {
			if err := h.deleteAndWait(ctx, hk.ref); err != nil {
				return err
			}
		}
		h.out.Logf("running the chart's %s hook %s", event, hk.ref)
		err := h.applyObject(ctx, hk.renderedObject)
		if err == nil {
			err = h.waitHook(ctx, hk.ref)
		}
		if err != nil {
			if slices.Contains(policies, release.HookFailed) {
				_, _ = h.c.remove(context.WithoutCancel(ctx), hk.ref)
			}
			return fmt.Errorf("chart %s's %s hook %s: %w", h.chart.Release, event, hk.ref, err)
		}
		if slices.Contains(policies, release.HookSucceeded) {
			if _, err := h.c.remove(ctx, hk.ref); err != nil {
				return err
			}
		}
	}
	return nil
}

// waitHook waits until a Job hook has completed or a Pod hook has
// succeeded; other kinds are done once applied.
func (h *helmClient) waitHook(ctx context.Context, ref ObjectRef) error {
	if ref.Kind != "Job" && ref.Kind != "Pod" {
		return nil
	}
	return poll(ctx, pollEvery, func(ctx context.Context) (bool, string, error) {
		u, err := h.c.get(ctx, ref)
		if err != nil {
			return false, "", err
		}
		if u == nil {
			return false, "", fmt.Errorf("%s was deleted while it ran", ref)
		}
		if ref.Kind == "Pod" {
			phase, _, _ := unstructured.NestedString(u.Object, "status", "phase")
			if phase == "Failed" {
				return false, "", fmt.Errorf("%s failed", ref)
			}
			return phase == "Succeeded", ref.String() + " is " + phase, nil
		}
		if failed, msg := conditionTrue(u, "Failed"); failed {
			return false, "", fmt.Errorf("%s failed: %s", ref, msg)
		}
		done, _ := conditionTrue(u, "Complete")
		return done, ref.String() + " has not completed", nil
	})
}

// deleteAndWait deletes an object and waits until it is gone.
func (h *helmClient) deleteAndWait(ctx context.Context, ref ObjectRef) error {
	removed, err := h.c.remove(ctx, ref)
	if err != nil || !removed {
		return err
	}
	return poll(ctx, pollEvery, func(ctx context.Context) (bool, string, error) {
		u, err := h.c.get(ctx, ref)
		return u == nil, ref.String() + " is still being deleted", err
	})
}

// deleteObjects deletes refs in Helm's uninstall order, leaving the ones
// marked helm.sh/resource-policy: keep. It does not wait: Helm's uninstall
// without --wait does not either.
func (h *helmClient) deleteObjects(ctx context.Context, refs []ObjectRef) error {
	order := map[string]int{}
	for i, k := range releaseutil.UninstallOrder {
		order[k] = i
	}
	rank := func(kind string) int {
		if i, ok := order[kind]; ok {
			return i
		}
		return len(order) // unknown kinds last, as Helm sorts them
	}
	refs = slices.Clone(refs)
	slices.SortStableFunc(refs, func(a, b ObjectRef) int { return rank(a.Kind) - rank(b.Kind) })
	for _, r := range refs {
		u, err := h.c.get(ctx, r)
		if err != nil {
			return err
		}
		if u == nil || u.GetAnnotations()["helm.sh/resource-policy"] == resourcePolicyKeep {
			continue
		}
		if _, err := h.c.remove(ctx, r); err != nil && !apierrors.IsNotFound(err) {
			return err
		}
		h.out.Logf("deleted %s (chart %s)", r, h.chart.Release)
	}
	return nil
}
