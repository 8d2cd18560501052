// Package environment answers "what is idp pointed at?": the configuration
// file, the Kubernetes target and the GitOps repository, resolved together so
// the command line and the TUI show the same thing.
package environment

import (
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
}

// Resolve reads the kubeconfig named by cfg (kubectl's rules). It reads files
// only and never contacts the cluster.
func Resolve(cfg config.Config) Environment {
	target, rc, err := kube.Resolve(cfg.Kubeconfig, cfg.Context)
	return Environment{Config: cfg, Kube: target, Rest: rc, KubeErr: err}
}

// GitOps is the GitOps repository path or URL, or "" when none is set.
func (e Environment) GitOps() string { return e.Config.GitOps }
