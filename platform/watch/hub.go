package watch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sync"

	"github.com/go-logr/logr"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"
)

// Hub hands out one Pool per cluster identity, so that every view of the
// same cluster shares its informers. The zero value is not usable; use
// NewHub.
type Hub struct {
	mu    sync.Mutex
	pools map[string]*Pool
}

var quietOnce sync.Once

// NewHub returns an empty hub. It silences client-go's own logging: idp owns
// the terminal, and what the logs would say reaches the user as a Status.
func NewHub() *Hub {
	quietOnce.Do(func() { klog.SetLogger(logr.Discard()) })
	return &Hub{pools: map[string]*Pool{}}
}

// Pool returns the pool for cfg, creating its clients on first use (no
// request is made). Configs that reach the same server as the same user
// share a pool.
func (h *Hub) Pool(cfg *rest.Config) (*Pool, error) {
	if cfg == nil {
		return nil, fmt.Errorf("no Kubernetes client configuration")
	}
	id := identity(cfg)
	h.mu.Lock()
	defer h.mu.Unlock()
	if p, ok := h.pools[id]; ok {
		return p, nil
	}
	p, err := NewPoolForConfig(cfg)
	if err != nil {
		return nil, err
	}
	h.pools[id] = p
	return p, nil
}

// Attach returns the pool for clients that have no configuration (a cluster
// served in this process), creating it on first use; key identifies the
// cluster, and the same key gets the same pool.
func (h *Hub) Attach(key any, dyn dynamic.Interface, disco discovery.DiscoveryInterface) *Pool {
	id := fmt.Sprintf("in-process %p", key)
	h.mu.Lock()
	defer h.mu.Unlock()
	if p, ok := h.pools[id]; ok {
		return p
	}
	p := NewPool(dyn, disco)
	h.pools[id] = p
	return p
}

// NewPoolForConfig builds a pool and its discovery-backed resolver for cfg.
func NewPoolForConfig(cfg *rest.Config) (*Pool, error) {
	cfg = rest.CopyConfig(cfg)
	// Deprecation warnings from the server would be printed over the TUI.
	cfg.WarningHandler = rest.NoWarnings{}
	if cfg.QPS == 0 {
		cfg.QPS, cfg.Burst = 50, 100
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	disco, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, err
	}
	return NewPool(dyn, disco), nil
}

// identity is what makes two configs the same cluster and user.
func identity(cfg *rest.Config) string {
	h := sha256.New()
	for _, s := range []string{cfg.Host, cfg.APIPath, cfg.BearerToken, cfg.BearerTokenFile, cfg.Username, cfg.Password,
		cfg.CertFile, cfg.KeyFile, string(cfg.CertData), string(cfg.KeyData), cfg.Impersonate.UserName, fmt.Sprint(cfg.Impersonate.Groups)} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// resolver maps a kind to its resource with discovery of just that kind's
// group and version, never of every API group (providers install hundreds).
type resolver struct {
	disco discovery.DiscoveryInterface

	mu     sync.Mutex
	groups map[schema.GroupVersion]*metav1.APIResourceList
}

// Resource maps apiVersion and kind to the resource to list and watch, and
// whether it is namespaced. A kind the server does not serve is an error
// that Classify reports as NotInstalled; a group the user may not discover
// is Forbidden.
func (p *Pool) Resource(ctx context.Context, gvk schema.GroupVersionKind) (schema.GroupVersionResource, bool, error) {
	if p.res == nil {
		return schema.GroupVersionResource{}, false, fmt.Errorf("%s: %w", gvk, errNotServed)
	}
	return p.res.resource(ctx, gvk)
}

func (r *resolver) resource(_ context.Context, gvk schema.GroupVersionKind) (schema.GroupVersionResource, bool, error) {
	gv := gvk.GroupVersion()
	r.mu.Lock()
	list, ok := r.groups[gv]
	r.mu.Unlock()
	if !ok {
		var err error
		list, err = r.disco.ServerResourcesForGroupVersion(gv.String())
		if err != nil {
			if Classify(err) == NotInstalled {
				return schema.GroupVersionResource{}, false, fmt.Errorf("%s: %w", gvk, errNotServed)
			}
			return schema.GroupVersionResource{}, false, err
		}
		r.mu.Lock()
		r.groups[gv] = list
		r.mu.Unlock()
	}
	for _, res := range list.APIResources {
		if res.Kind == gvk.Kind && !isSubresource(res.Name) {
			return gv.WithResource(res.Name), res.Namespaced, nil
		}
	}
	// The group is served but not this kind: perhaps its CRD is new, so
	// look again next time.
	r.mu.Lock()
	delete(r.groups, gv)
	r.mu.Unlock()
	return schema.GroupVersionResource{}, false, fmt.Errorf("%s: %w", gvk, errNotServed)
}

func isSubresource(name string) bool {
	for i := range len(name) {
		if name[i] == '/' {
			return true
		}
	}
	return false
}
