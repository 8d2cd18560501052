package argocd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
)

// RefreshAnnotation asks Argo CD's controller to compare an application
// with Git now; "normal" or "hard" (hard also regenerates the manifests).
const RefreshAnnotation = "argocd.argoproj.io/refresh"

// ErrOperationInProgress is returned by Sync while an operation is pending.
var ErrOperationInProgress = errors.New("another operation is already in progress")

// Refresh sets the refresh annotation with a merge patch, as `argocd app
// get --refresh` (or --hard-refresh) does.
func Refresh(ctx context.Context, dyn dynamic.Interface, namespace, name string, hard bool) error {
	kind := "normal"
	if hard {
		kind = "hard"
	}
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": map[string]string{RefreshAnnotation: kind}}})
	if err != nil {
		return err
	}
	if _, err := dyn.Resource(Applications).Namespace(namespace).Patch(ctx, name, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		return fmt.Errorf("refresh application %s/%s: %w", namespace, name, err)
	}
	return nil
}

// SyncOptions shape a sync request.
type SyncOptions struct {
	Prune  bool
	DryRun bool
	// Initiator is recorded as operation.initiatedBy.username.
	Initiator string
}

// Sync requests a sync by setting the application's .operation, as the
// argocd CLI does in core mode: the revision, sources, sync options and
// retry strategy come from the application's spec, and the controller
// carries it out. It fails with ErrOperationInProgress while another
// operation is pending, and retries on update conflicts.
func Sync(ctx context.Context, dyn dynamic.Interface, namespace, name string, opts SyncOptions) error {
	ri := dyn.Resource(Applications).Namespace(namespace)
	for {
		u, err := ri.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return fmt.Errorf("sync application %s/%s: %w", namespace, name, err)
		}
		if _, ok := u.Object["operation"]; ok {
			return fmt.Errorf("sync application %s/%s: %w", namespace, name, ErrOperationInProgress)
		}
		if u.GetDeletionTimestamp() != nil {
			return fmt.Errorf("sync application %s/%s: application is deleting", namespace, name)
		}
		u.Object["operation"] = syncOperation(u, opts)
		// The CLI clears the previous result so that a reader never takes
		// it for the outcome of this request.
		unstructured.RemoveNestedField(u.Object, "status", "operationState")
		_, err = ri.Update(ctx, u, metav1.UpdateOptions{})
		if err == nil {
			return nil
		}
		if !apierrors.IsConflict(err) {
			return fmt.Errorf("sync application %s/%s: %w", namespace, name, err)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
}

func syncOperation(u *unstructured.Unstructured, opts SyncOptions) map[string]any {
	spec, _ := u.Object["spec"].(map[string]any)
	sync := map[string]any{}
	if opts.Prune {
		sync["prune"] = true
	}
	if opts.DryRun {
		sync["dryRun"] = true
	}
	if srcs, ok := spec["sources"].([]any); ok && len(srcs) > 0 {
		sync["sources"] = srcs
	} else if src, ok := spec["source"].(map[string]any); ok {
		sync["source"] = src
	}
	if so, ok := get(spec, "syncPolicy", "syncOptions").([]any); ok {
		sync["syncOptions"] = so
	}
	op := map[string]any{
		"sync":        sync,
		"initiatedBy": map[string]any{"username": opts.Initiator},
	}
	if retry, ok := get(spec, "syncPolicy", "retry").(map[string]any); ok {
		op["retry"] = retry
	}
	return op
}
