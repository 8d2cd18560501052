package environment

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/back-stack/idp/platform/config"
	"github.com/back-stack/idp/platform/kube"
)

const kubeconfigYAML = `apiVersion: v1
kind: Config
current-context: dev
clusters:
- name: dev
  cluster:
    server: https://127.0.0.1:6443
users:
- name: dev
  user:
    token: x
contexts:
- name: dev
  context:
    cluster: dev
    user: dev
`

func TestResolve(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	t.Setenv("KUBECONFIG", "")
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(path, []byte(kubeconfigYAML), 0o600); err != nil {
		t.Fatal(err)
	}
	env := Resolve(config.Config{Kubeconfig: path, GitOps: "/src/gitops"})
	if env.KubeErr != nil || env.Rest == nil {
		t.Fatalf("KubeErr = %v, Rest = %v", env.KubeErr, env.Rest)
	}
	if env.Kube.Context != "dev" || env.Kube.Server != "https://127.0.0.1:6443" || env.GitOps() != "/src/gitops" {
		t.Fatalf("env = %+v", env)
	}

	env = Resolve(config.Config{Kubeconfig: path, Context: "nope"})
	if !errors.Is(env.KubeErr, kube.ErrContextNotFound) || env.Rest != nil {
		t.Fatalf("KubeErr = %v", env.KubeErr)
	}
	if env.Kube.Context != "nope" {
		t.Fatalf("partial target lost: %+v", env.Kube)
	}
}
