// Package testworld starts the real components that idp's tests talk to: a
// Kubernetes API server (etcd + kube-apiserver built from the Go module proxy),
// the upstream Argo CD and Crossplane CRDs, a git smart-HTTP server and the idp
// binary in a tmux terminal. Nothing here is used by the idp binary itself.
package testworld

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"
)

// KubernetesVersion and EtcdVersion are the versions the build module in
// tools/kube pins; they name the cache folder together with a hash of that
// module, so a change to it builds anew.
const (
	KubernetesVersion = "v1.37.2"
	EtcdVersion       = "v3.7.0"
)

// Binaries are paths to the control-plane executables.
type Binaries struct {
	Etcd          string
	KubeAPIServer string
}

// Dir is the folder holding the binaries, in the layout envtest expects for
// KUBEBUILDER_ASSETS.
func (b Binaries) Dir() string { return filepath.Dir(b.KubeAPIServer) }

// RepoRoot is the root of the idp source tree, found from this file's path:
// tests run from source, so it is always there.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// EnsureBinaries returns etcd and kube-apiserver, building them into the user
// cache dir when they are not there yet. A cold build takes several minutes;
// progress goes to log. Concurrent callers (go test runs packages as separate
// processes) wait on a file lock, so the build happens once.
func EnsureBinaries(ctx context.Context, log io.Writer) (Binaries, error) {
	if dir := os.Getenv("KUBEBUILDER_ASSETS"); dir != "" {
		b := Binaries{Etcd: filepath.Join(dir, "etcd"), KubeAPIServer: filepath.Join(dir, "kube-apiserver")}
		if IsExecutable(b.Etcd) && IsExecutable(b.KubeAPIServer) {
			return b, nil
		}
	}
	mod := filepath.Join(RepoRoot(), "tools", "kube")
	key, err := buildKey(mod)
	if err != nil {
		return Binaries{}, err
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return Binaries{}, fmt.Errorf("testworld: no user cache dir: %w", err)
	}
	dir := filepath.Join(cache, "idp", "testworld", fmt.Sprintf("kube-%s-etcd-%s-%s", KubernetesVersion, EtcdVersion, key))
	b := Binaries{Etcd: filepath.Join(dir, "etcd"), KubeAPIServer: filepath.Join(dir, "kube-apiserver")}
	if IsExecutable(b.Etcd) && IsExecutable(b.KubeAPIServer) {
		return b, nil
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return Binaries{}, err
	}
	unlock, err := LockFile(dir + ".lock")
	if err != nil {
		return Binaries{}, err
	}
	defer unlock()
	if IsExecutable(b.Etcd) && IsExecutable(b.KubeAPIServer) { // built while we waited
		return b, nil
	}
	if err := build(ctx, mod, dir, log); err != nil {
		return Binaries{}, err
	}
	return b, nil
}

// build compiles both binaries into a temporary folder beside dir and renames
// it into place, so an interrupted build never leaves half a cache entry.
func build(ctx context.Context, mod, dir string, log io.Writer) error {
	tmp, err := os.MkdirTemp(filepath.Dir(dir), ".build-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	ldflags := strings.Join([]string{
		"-X k8s.io/component-base/version.gitVersion=" + KubernetesVersion,
		"-X k8s.io/component-base/version.gitMajor=1",
		"-X k8s.io/component-base/version.gitMinor=" + minor(KubernetesVersion),
		"-X k8s.io/component-base/version.gitTreeState=clean",
		"-X k8s.io/client-go/pkg/version.gitVersion=" + KubernetesVersion,
	}, " ")
	steps := []struct{ name, pkg string }{
		{"etcd", "go.etcd.io/etcd/server/v3"},
		{"kube-apiserver", "k8s.io/kubernetes/cmd/kube-apiserver"},
	}
	for _, s := range steps {
		fmt.Fprintf(log, "testworld: building %s (cold: minutes, then cached in %s)\n", s.name, dir)
		start := time.Now()
		cmd := exec.CommandContext(ctx, "go", "build", "-buildvcs=false", "-ldflags", ldflags,
			"-o", filepath.Join(tmp, s.name), s.pkg)
		cmd.Dir = mod
		cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		done := progress(log, s.name, start)
		err := cmd.Run()
		close(done)
		if err != nil {
			return fmt.Errorf("testworld: building %s in %s: %w\n%s", s.name, mod, err, out.String())
		}
		fmt.Fprintf(log, "testworld: built %s in %s\n", s.name, time.Since(start).Round(time.Second))
	}
	return os.Rename(tmp, dir)
}

// progress prints a line every 30 seconds while a long build runs, so a
// cold CI run never looks hung.
func progress(log io.Writer, name string, start time.Time) chan struct{} {
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(30 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				fmt.Fprintf(log, "testworld: still building %s (%s)\n", name, time.Since(start).Round(time.Second))
			}
		}
	}()
	return done
}

// buildKey hashes what decides the binaries: the build module and the Go
// toolchain.
func buildKey(mod string) (string, error) {
	h := sha256.New()
	for _, f := range []string{"go.mod", "go.sum"} {
		data, err := os.ReadFile(filepath.Join(mod, f))
		if err != nil {
			return "", fmt.Errorf("testworld: reading build module: %w", err)
		}
		h.Write(data)
	}
	h.Write([]byte(runtime.Version()))
	return hex.EncodeToString(h.Sum(nil))[:12], nil
}

func minor(v string) string {
	parts := strings.Split(strings.TrimPrefix(v, "v"), ".")
	if len(parts) < 2 {
		return "0"
	}
	return parts[1]
}

// IsExecutable reports whether path is a regular file with an execute bit.
func IsExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// LockFile takes an exclusive flock on path, blocking until it is free, so
// test processes build a cached binary once; call the returned func to unlock.
func LockFile(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, errors.Join(fmt.Errorf("testworld: locking %s", path), err)
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}
