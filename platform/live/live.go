// Package live is what the live views and `idp status` read and do: Argo CD
// applications, the Crossplane tree and Kyverno results for the cluster an
// environment points at, through informers shared by every view of that
// cluster.
package live

import (
	"context"
	"fmt"

	"github.com/back-stack/idp/platform/argocd"
	"github.com/back-stack/idp/platform/crossplane"
	"github.com/back-stack/idp/platform/environment"
	"github.com/back-stack/idp/platform/kyverno"
	"github.com/back-stack/idp/platform/watch"
)

// Client opens watches and runs actions. It is safe for concurrent use; its
// methods do I/O or start goroutines, so a TUI calls them from commands.
type Client struct {
	hub *watch.Hub
}

// New returns a client with no connection yet: pools are made on first use,
// per cluster and user.
func New() *Client { return &Client{hub: watch.NewHub()} }

func (c *Client) pool(env environment.Environment) (*watch.Pool, error) {
	if in := env.InProcess; in != nil {
		return c.hub.Attach(in, in.Dynamic, in.Discovery), nil
	}
	if env.Rest == nil {
		if env.KubeErr != nil {
			return nil, env.KubeErr
		}
		return nil, fmt.Errorf("no Kubernetes target")
	}
	return c.hub.Pool(env.Rest)
}

// Apps streams every Application the user can list.
func (c *Client) Apps(ctx context.Context, env environment.Environment) (<-chan argocd.Event, error) {
	p, err := c.pool(env)
	if err != nil {
		return nil, err
	}
	return argocd.Watch(ctx, p, fallbackNamespaces(env)...), nil
}

// fallbackNamespaces are where to look for applications when listing them
// in every namespace is forbidden: the context's namespace and Argo CD's.
func fallbackNamespaces(env environment.Environment) []string {
	out := []string{"argocd"}
	if ns := env.Kube.Namespace; ns != "" && ns != "argocd" {
		out = append([]string{ns}, out...)
	}
	return out
}

// App streams one Application.
func (c *Client) App(ctx context.Context, env environment.Environment, namespace, name string) (<-chan argocd.Event, error) {
	p, err := c.pool(env)
	if err != nil {
		return nil, err
	}
	return argocd.WatchOne(ctx, p, namespace, name), nil
}

// AppEvents streams the Kubernetes Events recorded for one Application.
func (c *Client) AppEvents(ctx context.Context, env environment.Environment, namespace, name string) (<-chan watch.Event[argocd.KubeEvent], error) {
	p, err := c.pool(env)
	if err != nil {
		return nil, err
	}
	return argocd.WatchEvents(ctx, p, namespace, name), nil
}

// Refresh asks Argo CD to refresh an application (hard: regenerate manifests).
func (c *Client) Refresh(ctx context.Context, env environment.Environment, namespace, name string, hard bool) error {
	p, err := c.pool(env)
	if err != nil {
		return err
	}
	return argocd.Refresh(ctx, p.Dynamic(), namespace, name, hard)
}

// Sync requests a sync of an application, recorded as initiated by the
// kubeconfig user.
func (c *Client) Sync(ctx context.Context, env environment.Environment, namespace, name string) error {
	p, err := c.pool(env)
	if err != nil {
		return err
	}
	initiator := env.Kube.User
	if initiator == "" {
		initiator = "idp"
	}
	return argocd.Sync(ctx, p.Dynamic(), namespace, name, argocd.SyncOptions{Initiator: initiator})
}

// Reports streams Kyverno's PolicyReports and ClusterPolicyReports.
func (c *Client) Reports(ctx context.Context, env environment.Environment) (<-chan kyverno.Event, error) {
	p, err := c.pool(env)
	if err != nil {
		return nil, err
	}
	return kyverno.Watch(ctx, p), nil
}

// Crossplane streams the XRDs, claims, composites and the resources they
// are made of.
func (c *Client) Crossplane(ctx context.Context, env environment.Environment) (<-chan crossplane.Event, error) {
	p, err := c.pool(env)
	if err != nil {
		return nil, err
	}
	return crossplane.Watch(ctx, p), nil
}
