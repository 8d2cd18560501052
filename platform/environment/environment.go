// Package environment answers "what is idp pointed at?": the configuration
// file, the Kubernetes target and the GitOps repository, resolved together so
// the command line and the TUI show the same thing.
package environment

import (
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"

	"github.com/back-stack/idp/platform/config"
	"github.com/back-stack/idp/platform/kube"
)

// Environment is the resolved target. KubeErr is kept rather than returned:
// a broken kubeconfig is something to show, not a reason to refuse to start.
type Environment struct {
	// Config is the file's settings with the command-line flags merged in.
	Config config.Config
	Kube   kube.Target
	// Rest is the client configuration for Kube; nil when KubeErr is set.
	Rest    *rest.Config
	KubeErr error
	// InProcess, when set, is a cluster served inside this process (the
	// demo's playground) instead of Rest.
	InProcess *InProcess
}

// InProcess is a Kubernetes API served in this process: the clients every
// view shares, in place of a client configuration.
type InProcess struct {
	Dynamic   dynamic.Interface
	Discovery discovery.DiscoveryInterface
}

// Resolve reads the kubeconfig named by cfg (kubectl's rules). It reads files
// only and never contacts the cluster.
func Resolve(cfg config.Config) Environment {
	target, rc, err := kube.Resolve(cfg.Kubeconfig, cfg.Context)
	return Environment{Config: cfg, Kube: target, Rest: rc, KubeErr: err}
}

// GitOps is the GitOps repository path or URL, or "" when none is set.
func (e Environment) GitOps() string { return e.Config.GitOps }
