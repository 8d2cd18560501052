// Package testenv holds fixed environments for TUI tests.
package testenv

import (
	"errors"

	"github.com/back-stack/idp/platform/config"
	"github.com/back-stack/idp/platform/environment"
	"github.com/back-stack/idp/platform/kube"
)

// Resolved is a fully resolved environment with stable paths.
func Resolved() environment.Environment {
	return environment.Environment{
		Config: config.Config{Path: "/home/dev/.config/idp/config.yaml", Found: true, GitOps: "/srv/gitops/platform"},
		Kube: kube.Target{
			Context: "kind-dev", Cluster: "kind-dev", Server: "https://127.0.0.1:6443",
			Namespace: "default", User: "kind-dev", KubeconfigPaths: []string{"/home/dev/.kube/config"},
		},
	}
}

// Broken is an environment whose context does not exist and with no GitOps repo.
func Broken() environment.Environment {
	env := Resolved()
	env.Config.GitOps, env.Config.Found = "", false
	env.Kube = kube.Target{Context: "staging", KubeconfigPaths: env.Kube.KubeconfigPaths}
	env.KubeErr = errors.New(`context "staging" not found in kubeconfig /home/dev/.kube/config (available: kind-dev): fix --context (or context: in the idp config)`)
	return env
}
