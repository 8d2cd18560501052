// Package argocd reads and acts on Argo CD Applications through the
// Kubernetes API, as the argocd CLI does in core mode: no argocd-server login.
package argocd

import (
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Applications is the resource Argo CD stores Applications as.
var Applications = schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "applications"}

// Sync and health values Argo CD writes, and the ones idp shows when a
// field is empty.
const (
	SyncSynced    = "Synced"
	SyncOutOfSync = "OutOfSync"
	StatusUnknown = "Unknown"

	HealthHealthy     = "Healthy"
	HealthProgressing = "Progressing"
	HealthDegraded    = "Degraded"
	HealthSuspended   = "Suspended"
	HealthMissing     = "Missing"
)

// App is what idp shows of one Application. Values are shared between
// watchers and must be treated as read-only.
type App struct {
	Namespace string            `json:"namespace"`
	Name      string            `json:"name"`
	Project   string            `json:"project"`
	Labels    map[string]string `json:"labels,omitempty"`
	Created   time.Time         `json:"created"`

	RepoURL        string `json:"repoURL,omitempty"`
	Path           string `json:"path,omitempty"`
	TargetRevision string `json:"targetRevision,omitempty"`
	DestServer     string `json:"destinationServer,omitempty"`
	DestNamespace  string `json:"destinationNamespace,omitempty"`
	AutoSync       bool   `json:"autoSync"`

	Sync          string `json:"sync"`
	Revision      string `json:"revision,omitempty"`
	Health        string `json:"health"`
	HealthMessage string `json:"healthMessage,omitempty"`

	Conditions []Condition `json:"conditions,omitempty"`
	// Operation is the last (or running) operation, from status.operationState.
	Operation *Operation `json:"operation,omitempty"`
	// PendingOperation is set while .operation holds a request the
	// controller has not picked up yet.
	PendingOperation bool       `json:"pendingOperation,omitempty"`
	Resources        []Resource `json:"resources,omitempty"`
	ReconciledAt     time.Time  `json:"reconciledAt,omitzero"`
}

// Condition is one of status.conditions.
type Condition struct {
	Type               string    `json:"type"`
	Message            string    `json:"message"`
	LastTransitionTime time.Time `json:"lastTransitionTime,omitzero"`
}

// IsError reports whether Argo CD counts the condition as an error (its
// types ending in "Error"); the others are warnings.
func (c Condition) IsError() bool { return strings.HasSuffix(c.Type, "Error") }

// Operation is status.operationState.
type Operation struct {
	Phase      string           `json:"phase"`
	Message    string           `json:"message,omitempty"`
	StartedAt  time.Time        `json:"startedAt,omitzero"`
	FinishedAt time.Time        `json:"finishedAt,omitzero"`
	Initiator  string           `json:"initiator,omitempty"`
	Automated  bool             `json:"automated,omitempty"`
	Revision   string           `json:"revision,omitempty"`
	Results    []ResourceResult `json:"results,omitempty"`
}

// Running reports whether the operation has not finished.
func (o *Operation) Running() bool {
	return o != nil && (o.Phase == "Running" || o.Phase == "Terminating")
}

// ResourceResult is one resource's outcome in a sync.
type ResourceResult struct {
	Group     string `json:"group,omitempty"`
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
	Status    string `json:"status,omitempty"`
	Message   string `json:"message,omitempty"`
	HookPhase string `json:"hookPhase,omitempty"`
	SyncPhase string `json:"syncPhase,omitempty"`
}

// Resource is one of status.resources: what the application manages.
type Resource struct {
	Group           string `json:"group,omitempty"`
	Version         string `json:"version"`
	Kind            string `json:"kind"`
	Namespace       string `json:"namespace,omitempty"`
	Name            string `json:"name"`
	Sync            string `json:"sync,omitempty"`
	Health          string `json:"health,omitempty"`
	HealthMessage   string `json:"healthMessage,omitempty"`
	Hook            bool   `json:"hook,omitempty"`
	RequiresPruning bool   `json:"requiresPruning,omitempty"`
}

// APIVersion is the resource's group/version as Kubernetes writes it.
func (r Resource) APIVersion() string {
	if r.Group == "" {
		return r.Version
	}
	return r.Group + "/" + r.Version
}

// Key is "namespace/name", the informer's key for an Application.
func (a App) Key() string { return a.Namespace + "/" + a.Name }

// ShortRevision is the first 7 characters of a commit SHA, or the whole
// revision when it is not one (a Helm chart version, a tag).
func (a App) ShortRevision() string {
	if len(a.Revision) == 40 && isHex(a.Revision) {
		return a.Revision[:7]
	}
	return a.Revision
}

// Problems counts the error and warning conditions.
func (a App) Problems() (errors, warnings int) {
	for _, c := range a.Conditions {
		if c.IsError() {
			errors++
		} else {
			warnings++
		}
	}
	return errors, warnings
}

func isHex(s string) bool {
	for _, r := range s {
		if !strings.ContainsRune("0123456789abcdef", r) {
			return false
		}
	}
	return true
}

// FromUnstructured reads an Application. Fields it cannot read are left
// empty; sync and health default to Unknown as Argo CD's UI shows them.
func FromUnstructured(u *unstructured.Unstructured) App {
	o := u.Object
	a := App{
		Namespace: u.GetNamespace(),
		Name:      u.GetName(),
		Labels:    u.GetLabels(),
		Created:   u.GetCreationTimestamp().Time,
		Project:   str(o, "spec", "project"),
		Sync:      orUnknown(str(o, "status", "sync", "status")),
		Revision:  str(o, "status", "sync", "revision"),
		Health:    orUnknown(str(o, "status", "health", "status")),

		HealthMessage: str(o, "status", "health", "message"),
		DestServer:    str(o, "spec", "destination", "server"),
		DestNamespace: str(o, "spec", "destination", "namespace"),
		ReconciledAt:  timeAt(o, "status", "reconciledAt"),
	}
	if a.DestServer == "" {
		a.DestServer = str(o, "spec", "destination", "name")
	}
	src, _ := get(o, "spec", "source").(map[string]any)
	if src == nil {
		if srcs, _ := get(o, "spec", "sources").([]any); len(srcs) > 0 {
			src, _ = srcs[0].(map[string]any)
		}
	}
	a.RepoURL, a.Path, a.TargetRevision = str(src, "repoURL"), str(src, "path"), str(src, "targetRevision")
	if a.Path == "" {
		a.Path = str(src, "chart")
	}
	if a.Revision == "" {
		if revs, _ := get(o, "status", "sync", "revisions").([]any); len(revs) > 0 {
			a.Revision, _ = revs[0].(string)
		}
	}
	_, a.AutoSync = get(o, "spec", "syncPolicy", "automated").(map[string]any)
	_, a.PendingOperation = o["operation"].(map[string]any)
	for _, c := range slice(o, "status", "conditions") {
		a.Conditions = append(a.Conditions, Condition{
			Type: str(c, "type"), Message: str(c, "message"), LastTransitionTime: timeAt(c, "lastTransitionTime"),
		})
	}
	if op, ok := get(o, "status", "operationState").(map[string]any); ok {
		a.Operation = operation(op)
	}
	for _, r := range slice(o, "status", "resources") {
		hook, _ := r["hook"].(bool)
		pruning, _ := r["requiresPruning"].(bool)
		a.Resources = append(a.Resources, Resource{
			Group: str(r, "group"), Version: str(r, "version"), Kind: str(r, "kind"),
			Namespace: str(r, "namespace"), Name: str(r, "name"), Sync: str(r, "status"),
			Health: str(r, "health", "status"), HealthMessage: str(r, "health", "message"),
			Hook: hook, RequiresPruning: pruning,
		})
	}
	return a
}

func operation(op map[string]any) *Operation {
	out := &Operation{
		Phase:      str(op, "phase"),
		Message:    str(op, "message"),
		StartedAt:  timeAt(op, "startedAt"),
		FinishedAt: timeAt(op, "finishedAt"),
		Initiator:  str(op, "operation", "initiatedBy", "username"),
		Revision:   str(op, "syncResult", "revision"),
	}
	out.Automated, _ = get(op, "operation", "initiatedBy", "automated").(bool)
	for _, r := range slice(op, "syncResult", "resources") {
		out.Results = append(out.Results, ResourceResult{
			Group: str(r, "group"), Kind: str(r, "kind"), Namespace: str(r, "namespace"), Name: str(r, "name"),
			Status: str(r, "status"), Message: str(r, "message"), HookPhase: str(r, "hookPhase"), SyncPhase: str(r, "syncPhase"),
		})
	}
	return out
}

func orUnknown(s string) string {
	if s == "" {
		return StatusUnknown
	}
	return s
}

// get walks nested maps; it returns nil when a step is missing.
func get(o map[string]any, path ...string) any {
	var cur any = o
	for _, p := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[p]
	}
	return cur
}

func str(o map[string]any, path ...string) string {
	s, _ := get(o, path...).(string)
	return s
}

func timeAt(o map[string]any, path ...string) time.Time {
	t, err := time.Parse(time.RFC3339, str(o, path...))
	if err != nil {
		return time.Time{}
	}
	return t
}

// slice returns the maps in a list field, skipping anything else.
func slice(o map[string]any, path ...string) []map[string]any {
	items, _ := get(o, path...).([]any)
	out := make([]map[string]any, 0, len(items))
	for _, it := range items {
		if m, ok := it.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}
