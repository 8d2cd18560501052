package bootstrap

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/back-stack/idp/platform/kube"
	"github.com/back-stack/idp/platform/watch"
)

// DefaultFieldManager is the server-side apply field manager of everything
// the pipeline applies.
const DefaultFieldManager = "idp-bootstrap"

// cluster is one of the two clusters the pipeline talks to.
type cluster struct {
	name    string // "seed" or "AKS", for messages
	rec     ClusterRecord
	cfg     *rest.Config
	pool    *watch.Pool
	dyn     dynamic.Interface
	kube    kubernetes.Interface
	manager string
}

func connect(name string, rec ClusterRecord, manager string) (*cluster, error) {
	if rec.Kubeconfig == "" {
		return nil, fmt.Errorf("no kubeconfig recorded for the %s cluster", name)
	}
	_, cfg, err := kube.Resolve(rec.Kubeconfig, rec.Context)
	if err != nil {
		return nil, fmt.Errorf("%s cluster: %w", name, err)
	}
	cfg = rest.CopyConfig(cfg)
	cfg.WarningHandler = rest.NoWarnings{}
	if cfg.QPS == 0 {
		cfg.QPS, cfg.Burst = 50, 100
	}
	pool, err := watch.NewPoolForConfig(cfg)
	if err != nil {
		return nil, err
	}
	kc, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	return &cluster{name: name, rec: rec, cfg: cfg, pool: pool, dyn: pool.Dynamic(), kube: kc, manager: manager}, nil
}

// reachable asks the API server for its version.
func (c *cluster) reachable(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := c.kube.Discovery().RESTClient().Get().AbsPath("/version").Do(ctx).Error(); err != nil {
		return fmt.Errorf("the %s cluster (%s) does not answer: %w", c.name, c.cfg.Host, err)
	}
	return nil
}

// resource is the dynamic client of obj's kind and namespace.
func (c *cluster) resource(ctx context.Context, gvk schema.GroupVersionKind, namespace string) (dynamic.ResourceInterface, error) {
	gvr, namespaced, err := c.pool.Resource(ctx, gvk)
	if err != nil {
		return nil, fmt.Errorf("%s on the %s cluster: %w", gvk.Kind, c.name, err)
	}
	if !namespaced {
		return c.dyn.Resource(gvr), nil
	}
	if namespace == "" {
		namespace = metav1.NamespaceDefault
	}
	return c.dyn.Resource(gvr).Namespace(namespace), nil
}

// served reports whether the cluster serves a kind (its CRD is established).
func (c *cluster) served(ctx context.Context, gvk schema.GroupVersionKind) (bool, error) {
	_, _, err := c.pool.Resource(ctx, gvk)
	switch {
	case err == nil:
		return true, nil
	case watch.Classify(err) == watch.NotInstalled:
		return false, nil
	}
	return false, err
}

// apply server-side applies obj with the pipeline's field manager; applying
// the same object again changes nothing.
func (c *cluster) apply(ctx context.Context, obj *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	ri, err := c.resource(ctx, obj.GroupVersionKind(), obj.GetNamespace())
	if err != nil {
		return nil, err
	}
	out, err := ri.Apply(ctx, obj.GetName(), obj, metav1.ApplyOptions{FieldManager: c.manager, Force: true})
	if err != nil {
		return nil, fmt.Errorf("applying %s on the %s cluster: %w", refOf(obj), c.name, err)
	}
	return out, nil
}

// patchMerge sends a JSON merge patch.
func (c *cluster) patchMerge(ctx context.Context, ref ObjectRef, patch []byte) error {
	ri, err := c.resource(ctx, ref.gvk(), ref.Namespace)
	if err != nil {
		return err
	}
	if _, err := ri.Patch(ctx, ref.Name, types.MergePatchType, patch, metav1.PatchOptions{FieldManager: c.manager}); err != nil {
		return fmt.Errorf("patching %s on the %s cluster: %w", ref, c.name, err)
	}
	return nil
}

// get reads an object; a missing object is (nil, nil).
func (c *cluster) get(ctx context.Context, ref ObjectRef) (*unstructured.Unstructured, error) {
	ri, err := c.resource(ctx, ref.gvk(), ref.Namespace)
	if err != nil {
		if watch.Classify(err) == watch.NotInstalled {
			return nil, nil
		}
		return nil, err
	}
	u, err := ri.Get(ctx, ref.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s on the %s cluster: %w", ref, c.name, err)
	}
	return u, nil
}

// remove deletes an object if it is there.
func (c *cluster) remove(ctx context.Context, ref ObjectRef) (bool, error) {
	ri, err := c.resource(ctx, ref.gvk(), ref.Namespace)
	if watch.Classify(err) == watch.NotInstalled {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	bg := metav1.DeletePropagationBackground
	err = ri.Delete(ctx, ref.Name, metav1.DeleteOptions{PropagationPolicy: &bg})
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("deleting %s on the %s cluster: %w", ref, c.name, err)
	}
	return true, nil
}

// poll calls fn every interval until it reports done, fails, or ctx ends.
// On ctx's end the error says what was last seen.
func poll(ctx context.Context, interval time.Duration, fn func(ctx context.Context) (done bool, status string, err error)) error {
	if interval <= 0 {
		interval = 2 * time.Second
	}
	var status string
	for {
		done, st, err := fn(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return errors.Join(ctx.Err(), err)
			}
			return err
		}
		if done {
			return nil
		}
		status = st
		select {
		case <-ctx.Done():
			if status != "" {
				return fmt.Errorf("%w; last seen: %s", ctx.Err(), status)
			}
			return ctx.Err()
		case <-time.After(interval):
		}
	}
}

// waitServed waits until the cluster serves every kind in gvks.
func (c *cluster) waitServed(ctx context.Context, out *StepOutput, interval time.Duration, why string, gvks ...schema.GroupVersionKind) error {
	logged := false
	return poll(ctx, interval, func(ctx context.Context) (bool, string, error) {
		var missing []string
		for _, gvk := range gvks {
			ok, err := c.served(ctx, gvk)
			if err != nil {
				return false, "", err
			}
			if !ok {
				missing = append(missing, gvk.Kind+"."+gvk.Group)
			}
		}
		if len(missing) == 0 {
			return true, "", nil
		}
		slices.Sort(missing)
		missing = slices.Compact(missing)
		status := fmt.Sprintf("the %s cluster does not serve %s yet (%s)", c.name, strings.Join(missing, ", "), why)
		if !logged {
			out.Logf("waiting: %s", status)
			logged = true
		}
		return false, status, nil
	})
}

func refOf(u *unstructured.Unstructured) ObjectRef {
	return ObjectRef{APIVersion: u.GetAPIVersion(), Kind: u.GetKind(), Namespace: u.GetNamespace(), Name: u.GetName()}
}

func (r ObjectRef) gvk() schema.GroupVersionKind {
	return schema.FromAPIVersionAndKind(r.APIVersion, r.Kind)
}

// conditionTrue reports whether status.conditions has cond=True. Crossplane's
// package and XRD conditions (Installed, Healthy, Established, Offered) are
// not among the Synced and Ready that crossplane.FromUnstructured reads.
func conditionTrue(u *unstructured.Unstructured, cond string) (bool, string) {
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		m, ok := c.(map[string]any)
		if !ok || m["type"] != cond {
			continue
		}
		msg, _ := m["message"].(string)
		if msg == "" {
			msg, _ = m["reason"].(string)
		}
		return m["status"] == "True", msg
	}
	return false, ""
}
