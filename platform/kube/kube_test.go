package kube

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// kubeconfig writes a kubeconfig with one cluster, user and context per name.
func kubeconfig(t *testing.T, dir, file, current string, names ...string) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: Config\n")
	if current != "" {
		fmt.Fprintf(&b, "current-context: %s\n", current)
	}
	b.WriteString("clusters:\n")
	for i, n := range names {
		fmt.Fprintf(&b, "- name: %s-cluster\n  cluster:\n    server: https://%s.example.com:%d\n", n, n, 6443+i)
	}
	b.WriteString("users:\n")
	for _, n := range names {
		fmt.Fprintf(&b, "- name: %s-user\n  user:\n    token: t-%s\n", n, n)
	}
	b.WriteString("contexts:\n")
	for _, n := range names {
		fmt.Fprintf(&b, "- name: %s\n  context:\n    cluster: %s-cluster\n    user: %s-user\n", n, n, n)
		if n == "prod" {
			b.WriteString("    namespace: payments\n")
		}
	}
	path := filepath.Join(dir, file)
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// isolate points HOME and KUBECONFIG away from the real user's files.
func isolate(t *testing.T) string {
	t.Helper()
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("KUBECONFIG", "")
	return home
}

func TestResolveExplicitFile(t *testing.T) {
	isolate(t)
	path := kubeconfig(t, t.TempDir(), "config", "dev", "dev", "prod")
	target, cfg, err := Resolve(path, "")
	if err != nil {
		t.Fatal(err)
	}
	want := Target{Context: "dev", Cluster: "dev-cluster", Server: "https://dev.example.com:6443", Namespace: "default", User: "dev-user", KubeconfigPaths: []string{path}}
	if !reflect.DeepEqual(target, want) {
		t.Fatalf("target = %+v\nwant     %+v", target, want)
	}
	if cfg == nil || cfg.Host != want.Server || cfg.BearerToken != "t-dev" {
		t.Fatalf("rest config = %+v", cfg)
	}
}

func TestResolveContextOverride(t *testing.T) {
	isolate(t)
	path := kubeconfig(t, t.TempDir(), "config", "dev", "dev", "prod")
	target, cfg, err := Resolve(path, "prod")
	if err != nil {
		t.Fatal(err)
	}
	if target.Context != "prod" || target.Namespace != "payments" || target.Server != "https://prod.example.com:6444" {
		t.Fatalf("target = %+v", target)
	}
	if cfg.BearerToken != "t-prod" {
		t.Fatalf("rest config uses %q, want prod's token", cfg.BearerToken)
	}
}

func TestResolveDefaultHomeFile(t *testing.T) {
	home := isolate(t)
	if err := os.MkdirAll(filepath.Join(home, ".kube"), 0o700); err != nil {
		t.Fatal(err)
	}
	path := kubeconfig(t, filepath.Join(home, ".kube"), "config", "dev", "dev")
	target, _, err := Resolve("", "")
	if err != nil {
		t.Fatal(err)
	}
	if target.Context != "dev" || !slices.Equal(target.KubeconfigPaths, []string{path}) {
		t.Fatalf("target = %+v", target)
	}
}

func TestResolveKUBECONFIGMergesFiles(t *testing.T) {
	isolate(t)
	dir := t.TempDir()
	first := kubeconfig(t, dir, "a", "dev", "dev")
	second := kubeconfig(t, dir, "b", "prod", "prod")
	missing := filepath.Join(dir, "missing")
	t.Setenv("KUBECONFIG", strings.Join([]string{first, missing, second}, string(os.PathListSeparator)))

	// The first file's current-context wins; the second file's contexts are usable.
	target, _, err := Resolve("", "")
	if err != nil {
		t.Fatal(err)
	}
	if target.Context != "dev" || target.Server != "https://dev.example.com:6443" {
		t.Fatalf("target = %+v", target)
	}
	if !slices.Equal(target.KubeconfigPaths, []string{first, second}) {
		t.Fatalf("paths = %v, want the two existing files", target.KubeconfigPaths)
	}
	target, _, err = Resolve("", "prod")
	if err != nil {
		t.Fatal(err)
	}
	if target.Cluster != "prod-cluster" || target.Namespace != "payments" {
		t.Fatalf("target = %+v", target)
	}
}

func TestResolveUnknownContext(t *testing.T) {
	isolate(t)
	path := kubeconfig(t, t.TempDir(), "config", "dev", "dev", "prod")
	target, cfg, err := Resolve(path, "staging")
	if !errors.Is(err, ErrContextNotFound) {
		t.Fatalf("err = %v, want ErrContextNotFound", err)
	}
	for _, want := range []string{`context "staging" not found in kubeconfig`, path, "available: dev, prod"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
	if cfg != nil || target.Context != "staging" || len(target.KubeconfigPaths) != 1 {
		t.Fatalf("target = %+v, cfg = %v", target, cfg)
	}
}

func TestResolveNoKubeconfig(t *testing.T) {
	home := isolate(t)
	_, _, err := Resolve("", "")
	if !errors.Is(err, ErrNoKubeconfig) {
		t.Fatalf("err = %v, want ErrNoKubeconfig", err)
	}
	for _, want := range []string{"no kubeconfig found: set --kubeconfig or KUBECONFIG", filepath.Join(home, ".kube", "config")} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}

	_, _, err = Resolve(filepath.Join(home, "absent"), "")
	if !errors.Is(err, ErrNoKubeconfig) || !strings.Contains(err.Error(), "absent does not exist") {
		t.Fatalf("explicit missing file: err = %v", err)
	}

	t.Setenv("KUBECONFIG", filepath.Join(home, "x")+string(os.PathListSeparator)+filepath.Join(home, "y"))
	if _, _, err = Resolve("", ""); !errors.Is(err, ErrNoKubeconfig) || !strings.Contains(err.Error(), "KUBECONFIG=") {
		t.Fatalf("KUBECONFIG of missing files: err = %v", err)
	}
}

func TestResolveNoCurrentContext(t *testing.T) {
	isolate(t)
	path := kubeconfig(t, t.TempDir(), "config", "", "dev", "prod")
	_, _, err := Resolve(path, "")
	if !errors.Is(err, ErrNoContext) || !strings.Contains(err.Error(), "one of: dev, prod") {
		t.Fatalf("err = %v", err)
	}
}

func TestResolveMalformed(t *testing.T) {
	isolate(t)
	path := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(path, []byte("clusters: [\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, _, err := Resolve(path, "")
	if !errors.Is(err, ErrInvalidKubeconfig) || !strings.Contains(err.Error(), path) {
		t.Fatalf("err = %v", err)
	}
}

func TestContextNames(t *testing.T) {
	isolate(t)
	dir := t.TempDir()
	t.Setenv("KUBECONFIG", kubeconfig(t, dir, "a", "dev", "dev", "prod")+string(os.PathListSeparator)+kubeconfig(t, dir, "b", "", "aks"))
	names, err := ContextNames("")
	if err != nil || !slices.Equal(names, []string{"aks", "dev", "prod"}) {
		t.Fatalf("ContextNames = %v, %v", names, err)
	}
	if _, err := ContextNames(filepath.Join(dir, "missing")); err == nil {
		t.Fatal("missing explicit kubeconfig: no error")
	}
}
