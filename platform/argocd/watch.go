package argocd

import (
	"context"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/back-stack/idp/platform/watch"
)

// Event is a change to the Applications being watched.
type Event = watch.Event[App]

// Spec is the informer for Applications in namespace, "" for every
// namespace.
func Spec(namespace string) watch.Spec {
	return watch.Spec{
		Resource:    Applications,
		Namespace:   namespace,
		ConvertName: "argocd.App",
		Convert:     func(u *unstructured.Unstructured) any { return FromUnstructured(u) },
	}
}

// Watch streams the Applications of every namespace the pool's user can
// list, until ctx ends; the channel is then closed. When listing them across
// all namespaces is forbidden, it falls back to the namespaces given (say,
// the kubeconfig context's and Argo CD's own), each its own source.
func Watch(ctx context.Context, pool *watch.Pool, fallback ...string) <-chan Event {
	s := watch.NewStream[App](ctx, pool, 1024)
	all := Spec("").String()
	s.OnStatus = func(source string, st watch.Status) {
		if source == all && st.State == watch.Forbidden {
			for _, ns := range fallback {
				if ns != "" {
					s.Add(Spec(ns))
				}
			}
		}
	}
	s.Add(Spec(""))
	return s.Events()
}

// Overall sums up the sources of a Watch: the all-namespaces source, or,
// when that is forbidden and namespace fallbacks answered, the fallbacks'
// state with the namespaces they cover.
func Overall(sources map[string]watch.Status) (watch.Status, []string) {
	allName := Spec("").String()
	all, ok := sources[allName]
	if !ok {
		return watch.Status{State: watch.Loading}, nil
	}
	if all.State != watch.Forbidden {
		return all, nil
	}
	var live []string
	worst := watch.Status{State: watch.Forbidden, Err: all.Err}
	rank := map[watch.State]int{watch.Forbidden: 0, watch.NotInstalled: 0, watch.Failed: 1, watch.Live: 2, watch.Loading: 3, watch.Reconnecting: 4}
	best := -1
	for name, st := range sources {
		ns, isNS := strings.CutPrefix(name, allName+" in ")
		if !isNS {
			continue
		}
		if st.State == watch.Live {
			live = append(live, ns)
		}
		if r := rank[st.State]; st.State != watch.Forbidden && r > best {
			best, worst = r, st
		}
	}
	slices.Sort(live)
	if best < 0 {
		return watch.Status{State: watch.Forbidden, Err: all.Err, Since: all.Since}, nil
	}
	return worst, live
}

// WatchOne streams a single Application (for a detail view).
func WatchOne(ctx context.Context, pool *watch.Pool, namespace, name string) <-chan Event {
	spec := Spec(namespace)
	spec.FieldSelector = fields.OneTermEqualSelector("metadata.name", name).String()
	return watch.Watch[App](ctx, pool, 64, spec)
}

// KubeEvent is a Kubernetes Event recorded for an Application (Argo CD's
// controller records sync starts, results and health changes).
type KubeEvent struct {
	Type    string    `json:"type"`
	Reason  string    `json:"reason"`
	Message string    `json:"message"`
	Count   int64     `json:"count"`
	Last    time.Time `json:"last"`
	Source  string    `json:"source,omitempty"`
}

var eventsResource = schema.GroupVersionResource{Version: "v1", Resource: "events"}

// EventSpec is the informer for the Events about one Application.
func EventSpec(namespace, name string) watch.Spec {
	return watch.Spec{
		Resource:  eventsResource,
		Namespace: namespace,
		FieldSelector: fields.AndSelectors(
			fields.OneTermEqualSelector("involvedObject.kind", "Application"),
			fields.OneTermEqualSelector("involvedObject.name", name),
		).String(),
		ConvertName: "argocd.KubeEvent",
		Convert:     func(u *unstructured.Unstructured) any { return eventFromUnstructured(u) },
	}
}

// WatchEvents streams the Events about one Application.
func WatchEvents(ctx context.Context, pool *watch.Pool, namespace, name string) <-chan watch.Event[KubeEvent] {
	return watch.Watch[KubeEvent](ctx, pool, 64, EventSpec(namespace, name))
}

func eventFromUnstructured(u *unstructured.Unstructured) KubeEvent {
	o := u.Object
	ev := KubeEvent{
		Type: str(o, "type"), Reason: str(o, "reason"), Message: str(o, "message"),
		Source: str(o, "source", "component"),
	}
	if ev.Source == "" {
		ev.Source = str(o, "reportingComponent")
	}
	switch n := o["count"].(type) {
	case int64:
		ev.Count = n
	case float64:
		ev.Count = int64(n)
	}
	for _, f := range []string{"lastTimestamp", "eventTime", "firstTimestamp"} {
		if t := timeAt(o, f); !t.IsZero() {
			ev.Last = t
			break
		}
	}
	if ev.Last.IsZero() {
		ev.Last = u.GetCreationTimestamp().Time
	}
	return ev
}
