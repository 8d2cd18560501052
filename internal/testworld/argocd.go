package testworld

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
)

// ArgoCDVersion is the Argo CD release tools/argocd builds.
const ArgoCDVersion = "v3.6.1"

// ArgoCDComponent is Argo CD's application controller, repo-server and git
// askpass helper in one binary (tools/argocd), with miniredis for its cache.
var ArgoCDComponent = Component{
	Name: "argocd", Version: ArgoCDVersion, Module: "argocd",
	// Argo CD 3.6 requires Go 1.27; the go command fetches it from the proxy.
	Toolchain: "go1.27.0",
	Programs: []Program{{
		Name: "argocd", Package: ".",
		LDFlags: "-X github.com/argoproj/argo-cd/v3/common.version=" + strings.TrimPrefix(ArgoCDVersion, "v") +
			" -X github.com/argoproj/argo-cd/v3/common.gitTreeState=clean",
	}},
}

// ArgoCDNamespace is where the controller runs and reads its settings and
// Applications, as in Argo CD's own install.
const ArgoCDNamespace = "argocd"

// ArgoCD is a running Argo CD control loop: Redis, repo-server and
// application controller as separate processes, against one test cluster.
type ArgoCD struct {
	// Namespace holds argocd-cm, argocd-secret, the default AppProject and
	// the Applications the controller reconciles.
	Namespace string
	// Version is the version the binary reports.
	Version string

	dir   string
	procs []*process
}

// StartArgoCD builds (or finds cached) Argo CD, installs its CRDs (from the
// same module version) and minimal settings into c, and starts Redis, the
// repo-server and the application controller. The controller deploys to c
// itself as https://kubernetes.default.svc (ARGOCD_FAKE_IN_CLUSTER). Logs
// go to files whose tails Stop's callers can read with Logs.
func StartArgoCD(ctx context.Context, c *Cluster, log io.Writer) (*ArgoCD, error) {
	bin, err := ArgoCDComponent.Ensure(ctx, log)
	if err != nil {
		return nil, err
	}
	src, err := buildModuleDir(ctx, ArgoCDComponent, "github.com/argoproj/argo-cd/v3")
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", fmt.Sprintf("idp-testworld-%d-argocd-", os.Getpid()))
	if err != nil {
		return nil, err
	}
	a := &ArgoCD{Namespace: ArgoCDNamespace, Version: ArgoCDVersion, dir: dir}
	if err := a.start(ctx, c, filepath.Join(bin, "argocd"), src); err != nil {
		a.Stop()
		return nil, err
	}
	return a, nil
}

func (a *ArgoCD) start(ctx context.Context, c *Cluster, bin, src string) error {
	crds, err := filepath.Glob(filepath.Join(src, "manifests", "crds", "*-crd.yaml"))
	if err != nil || len(crds) == 0 {
		return fmt.Errorf("testworld: no Argo CD CRDs in %s", src)
	}
	if err := InstallCRDs(ctx, c.Config, crds...); err != nil {
		return err
	}
	if err := a.settings(ctx, c); err != nil {
		return fmt.Errorf("testworld: Argo CD settings: %w", err)
	}
	// PATH: the binary as "argocd" (git runs it as GIT_ASKPASS) and Argo CD's
	// git-verify-wrapper.sh, which the repo-server calls by name.
	path := filepath.Join(a.dir, "bin")
	if err := os.MkdirAll(path, 0o755); err != nil {
		return err
	}
	if err := os.Symlink(bin, filepath.Join(path, "argocd")); err != nil {
		return err
	}
	wrapper, err := os.ReadFile(filepath.Join(src, "hack", "git-verify-wrapper.sh"))
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(path, "git-verify-wrapper.sh"), wrapper, 0o755); err != nil {
		return err
	}
	ports, err := freePorts(5)
	if err != nil {
		return err
	}
	redis := fmt.Sprintf("127.0.0.1:%d", ports[0])
	repo := fmt.Sprintf("127.0.0.1:%d", ports[1])
	home := filepath.Join(a.dir, "home")
	tmp := filepath.Join(a.dir, "tmp")
	for _, d := range []string{home, tmp} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	env := func(name string) []string {
		return append(os.Environ(),
			"ARGOCD_BINARY_NAME="+name,
			"PATH="+path+string(os.PathListSeparator)+os.Getenv("PATH"),
			"HOME="+home, "TMPDIR="+tmp,
			"KUBECONFIG="+c.Kubeconfig,
			"ARGOCD_FAKE_IN_CLUSTER=true",
			"ARGOCD_GPG_ENABLED=false",
			"GIT_CONFIG_NOSYSTEM=1",
		)
	}
	start := func(name string, args ...string) error {
		p, err := startProcessEnv(name, bin, filepath.Join(a.dir, name+".log"), env(name), args...)
		if err != nil {
			return err
		}
		a.procs = append(a.procs, p)
		return nil
	}
	if err := start("argocd-redis", redis); err != nil {
		return err
	}
	if err := waitListening(ctx, redis, a.procs[0], 30*time.Second); err != nil {
		return err
	}
	if err := start("argocd-repo-server",
		"--address=127.0.0.1", "--port="+strconv.Itoa(ports[1]),
		"--metrics-address=127.0.0.1", "--metrics-port="+strconv.Itoa(ports[2]),
		"--redis="+redis, "--disable-tls", "--client-ca-path=",
		"--logformat=text", "--loglevel=info",
	); err != nil {
		return err
	}
	if err := waitListening(ctx, repo, a.procs[1], 60*time.Second); err != nil {
		return err
	}
	return start("argocd-application-controller",
		"--kubeconfig="+c.Kubeconfig, "--namespace="+a.Namespace,
		"--repo-server="+repo, "--repo-server-plaintext",
		"--redis="+redis,
		"--metrics-port="+strconv.Itoa(ports[3]),
		// Periodic refresh every 30s (Argo CD's default is 120s); idp's
		// refresh and sync are annotations and .operation, which the
		// controller sees through its watch at once.
		"--app-resync=30",
		"--logformat=text", "--loglevel=info",
	)
}

// settings writes what Argo CD's install manifests would: the namespace,
// argocd-cm, argocd-secret and the default AppProject (which the API server,
// not run here, would otherwise create).
func (a *ArgoCD) settings(ctx context.Context, c *Cluster) error {
	cs, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		return err
	}
	create := func(err error) error {
		if apierrors.IsAlreadyExists(err) {
			return nil
		}
		return err
	}
	labels := map[string]string{"app.kubernetes.io/part-of": "argocd"}
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: a.Namespace}}, metav1.CreateOptions{}); create(err) != nil {
		return err
	}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "argocd-cm", Namespace: a.Namespace, Labels: labels}}
	if _, err := cs.CoreV1().ConfigMaps(a.Namespace).Create(ctx, cm, metav1.CreateOptions{}); create(err) != nil {
		return err
	}
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "argocd-secret", Namespace: a.Namespace, Labels: labels},
		StringData: map[string]string{"server.secretkey": randomHex(16)}}
	if _, err := cs.CoreV1().Secrets(a.Namespace).Create(ctx, secret, metav1.CreateOptions{}); create(err) != nil {
		return err
	}
	dyn, err := dynamic.NewForConfig(c.Config)
	if err != nil {
		return err
	}
	project := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "argoproj.io/v1alpha1", "kind": "AppProject",
		"metadata": map[string]any{"name": "default", "namespace": a.Namespace},
		"spec": map[string]any{
			"sourceRepos":              []any{"*"},
			"destinations":             []any{map[string]any{"server": "*", "namespace": "*"}},
			"clusterResourceWhitelist": []any{map[string]any{"group": "*", "kind": "*"}},
		},
	}}
	_, err = dyn.Resource(appProjectGVR).Namespace(a.Namespace).Create(ctx, project, metav1.CreateOptions{})
	return create(err)
}

var appProjectGVR = schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "appprojects"}

// AddRepository gives Argo CD the credentials for a repository on the test
// git server, as a declarative repository Secret.
func (a *ArgoCD) AddRepository(ctx context.Context, c *Cluster, g *GitServer, name string) error {
	cs, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		return err
	}
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "repo-" + name, Namespace: a.Namespace,
			Labels: map[string]string{"argocd.argoproj.io/secret-type": "repository"}},
		StringData: map[string]string{"type": "git", "url": g.RepoURL(name), "username": g.User, "password": g.Password},
	}
	_, err = cs.CoreV1().Secrets(a.Namespace).Create(ctx, secret, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	return err
}

// Logs returns the last lines of each process's log, for a failing test.
func (a *ArgoCD) Logs(lines int) string {
	var b strings.Builder
	for _, p := range a.procs {
		fmt.Fprintf(&b, "--- %s\n%s\n", p.name, tail(p.log, lines))
	}
	return b.String()
}

// Stop ends the processes and removes their files; safe to call twice.
func (a *ArgoCD) Stop() {
	for i := len(a.procs) - 1; i >= 0; i-- {
		a.procs[i].stop()
	}
	a.procs = nil
	os.RemoveAll(a.dir)
}

// buildModuleDir is the folder of module path as the component's build
// module resolves it (so files read from it match the binary built).
func buildModuleDir(ctx context.Context, comp Component, path string) (string, error) {
	cmd := exec.CommandContext(ctx, "go", "list", "-m", "-f", "{{.Dir}}", path)
	cmd.Dir = filepath.Join(RepoRoot(), "tools", comp.Module)
	cmd.Env = comp.env()
	out, err := cmd.Output()
	if err != nil {
		msg := ""
		if ee, ok := err.(*exec.ExitError); ok {
			msg = string(ee.Stderr)
		}
		return "", fmt.Errorf("testworld: locating %s in tools/%s: %w %s", path, comp.Module, err, msg)
	}
	dir := strings.TrimSpace(string(out))
	if dir == "" {
		return "", fmt.Errorf("testworld: %s is not downloaded for tools/%s", path, comp.Module)
	}
	return dir, nil
}

// waitListening waits until addr accepts TCP connections, or p exits.
func waitListening(ctx context.Context, addr string, p *process, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			return fmt.Errorf("testworld: %s exited while starting:\n%s", p.name, tail(p.log, 30))
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		if conn, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			conn.Close()
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("testworld: %s not listening on %s after %s:\n%s", p.name, addr, limit, tail(p.log, 30))
}
