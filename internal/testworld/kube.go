package testworld

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// Cluster is a running etcd + kube-apiserver pair on 127.0.0.1.
type Cluster struct {
	// Config reaches the API server as a member of system:masters.
	Config *rest.Config
	// Kubeconfig is a kubeconfig file for the same user, context "testworld".
	Kubeconfig string
	// URL is the API server's https address.
	URL string

	dir       string
	bins      Binaries
	token     string
	etcd      *process
	apiserver *process
	apiArgs   []string
}

type process struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{}
}

// StartCluster starts etcd and kube-apiserver, waits until /readyz answers,
// and returns the cluster. The processes die with the test process even when
// it panics (Pdeathsig); call Stop to end them sooner and remove their data.
func StartCluster(ctx context.Context, bins Binaries) (*Cluster, error) {
	sweepStale()
	dir, err := os.MkdirTemp("", fmt.Sprintf("idp-testworld-%d-", os.Getpid()))
	if err != nil {
		return nil, err
	}
	c := &Cluster{dir: dir, bins: bins, token: randomHex(16)}
	if err := c.start(ctx); err != nil {
		c.Stop()
		return nil, err
	}
	return c, nil
}

func (c *Cluster) start(ctx context.Context) error {
	ports, err := freePorts(3)
	if err != nil {
		return err
	}
	clientURL := fmt.Sprintf("http://127.0.0.1:%d", ports[0])
	peerURL := fmt.Sprintf("http://127.0.0.1:%d", ports[1])
	c.etcd, err = startProcess("etcd", c.bins.Etcd, filepath.Join(c.dir, "etcd.log"),
		"--name=default",
		"--data-dir="+filepath.Join(c.dir, "etcd"),
		"--listen-client-urls="+clientURL,
		"--advertise-client-urls="+clientURL,
		"--listen-peer-urls="+peerURL,
		"--initial-advertise-peer-urls="+peerURL,
		"--initial-cluster=default="+peerURL,
		"--unsafe-no-fsync=true",
		"--log-level=warn",
	)
	if err != nil {
		return err
	}
	if err := c.writeCredentials(); err != nil {
		return err
	}
	c.URL = fmt.Sprintf("https://127.0.0.1:%d", ports[2])
	c.apiArgs = []string{
		"--etcd-servers=" + clientURL,
		"--cert-dir=" + filepath.Join(c.dir, "certs"),
		"--bind-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(ports[2]),
		"--advertise-address=127.0.0.1",
		"--endpoint-reconciler-type=none",
		"--service-cluster-ip-range=10.0.0.0/24",
		"--service-account-issuer=https://kubernetes.default.svc",
		"--service-account-key-file=" + filepath.Join(c.dir, "sa.pub"),
		"--service-account-signing-key-file=" + filepath.Join(c.dir, "sa.key"),
		"--token-auth-file=" + filepath.Join(c.dir, "tokens.csv"),
		"--authorization-mode=RBAC",
		"--allow-privileged=true",
		// No controller-manager makes service-account tokens, so pods would
		// be refused by this admission plugin; envtest disables it too.
		"--disable-admission-plugins=ServiceAccount",
	}
	return c.startAPIServer(ctx)
}

func (c *Cluster) startAPIServer(ctx context.Context) error {
	var err error
	c.apiserver, err = startProcess("kube-apiserver", c.bins.KubeAPIServer, filepath.Join(c.dir, "apiserver.log"), c.apiArgs...)
	if err != nil {
		return err
	}
	if err := c.waitReady(ctx); err != nil {
		return err
	}
	ca, err := os.ReadFile(filepath.Join(c.dir, "certs", "apiserver.crt"))
	if err != nil {
		return fmt.Errorf("testworld: reading the apiserver's serving certificate: %w", err)
	}
	c.Config = &rest.Config{
		Host:            c.URL,
		BearerToken:     c.token,
		TLSClientConfig: rest.TLSClientConfig{CAData: ca},
		QPS:             200,
		Burst:           400,
	}
	c.Kubeconfig = filepath.Join(c.dir, "kubeconfig")
	return writeKubeconfig(c.Kubeconfig, c.URL, ca, c.token)
}

// RestartAPIServer stops kube-apiserver and starts it again on the same
// address with the same data, for tests of watches that must reconnect.
func (c *Cluster) RestartAPIServer(ctx context.Context) error {
	if c.apiserver != nil {
		c.apiserver.stop()
	}
	return c.startAPIServer(ctx)
}

// StopAPIServer stops kube-apiserver and leaves etcd running, so a test can
// look at what a client does while the server is away.
func (c *Cluster) StopAPIServer() {
	if c.apiserver != nil {
		c.apiserver.stop()
	}
}

// Stop ends both processes and removes their data. It is safe to call twice.
func (c *Cluster) Stop() {
	if c.apiserver != nil {
		c.apiserver.stop()
	}
	if c.etcd != nil {
		c.etcd.stop()
	}
	os.RemoveAll(c.dir)
}

func (c *Cluster) waitReady(ctx context.Context) error {
	client := &http.Client{
		Timeout:   2 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}, // only the readiness poll; real clients verify
	}
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-c.apiserver.done:
			return fmt.Errorf("testworld: kube-apiserver exited while starting:\n%s", tail(c.apiserver.log, 30))
		case <-c.etcd.done:
			return fmt.Errorf("testworld: etcd exited:\n%s", tail(c.etcd.log, 30))
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, c.URL+"/readyz", nil)
		req.Header.Set("Authorization", "Bearer "+c.token)
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("testworld: kube-apiserver not ready after 90s:\n%s", tail(c.apiserver.log, 30))
}

func (c *Cluster) writeCredentials() error {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return err
	}
	files := map[string][]byte{
		"sa.key":     pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}),
		"sa.pub":     pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}),
		"tokens.csv": []byte(fmt.Sprintf("%s,testworld-admin,testworld-admin,\"system:masters\"\n", c.token)),
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(c.dir, name), data, 0o600); err != nil {
			return err
		}
	}
	return nil
}

func writeKubeconfig(path, server string, ca []byte, token string) error {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["testworld"] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: ca}
	cfg.AuthInfos["testworld-admin"] = &clientcmdapi.AuthInfo{Token: token}
	cfg.Contexts["testworld"] = &clientcmdapi.Context{Cluster: "testworld", AuthInfo: "testworld-admin", Namespace: "default"}
	cfg.CurrentContext = "testworld"
	return clientcmd.WriteToFile(*cfg, path)
}

// startProcess starts bin with the test process's directory and
// environment, its output in logPath.
func startProcess(name, bin, logPath string, args ...string) (*process, error) {
	return startProcessIn(processSpec{name: name, bin: bin, log: logPath, args: args})
}

// startProcessEnv is startProcess with its own environment.
func startProcessEnv(name, bin, logPath string, env []string, args ...string) (*process, error) {
	return startProcessIn(processSpec{name: name, bin: bin, log: logPath, args: args, env: env})
}

// processSpec is a child process with its own working directory and
// environment (nil: the test process's own).
type processSpec struct {
	name, bin, dir, log string
	args, env           []string
}

func startProcessIn(s processSpec) (*process, error) {
	logf, err := os.Create(s.log)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(s.bin, s.args...)
	cmd.Dir, cmd.Env = s.dir, s.env
	cmd.Stdout, cmd.Stderr = logf, logf
	// Pdeathsig: the kernel kills the child when the test process dies, so a
	// panicking or timed-out test leaves no orphan behind.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("testworld: starting %s: %w", s.name, err)
	}
	p := &process{name: s.name, cmd: cmd, log: s.log, done: make(chan struct{})}
	go func() {
		cmd.Wait()
		logf.Close()
		close(p.done)
	}()
	return p, nil
}

func (p *process) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
	}
}

// sweepStale removes data folders left by test processes that died without
// cleaning up (their children died with them through Pdeathsig).
func sweepStale() {
	matches, _ := filepath.Glob(filepath.Join(os.TempDir(), "idp-testworld-*-*"))
	for _, m := range matches {
		parts := strings.Split(filepath.Base(m), "-")
		if len(parts) < 4 {
			continue
		}
		pid, err := strconv.Atoi(parts[2])
		if err != nil || pid == os.Getpid() {
			continue
		}
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			os.RemoveAll(m)
		}
	}
}

func freePorts(n int) ([]int, error) {
	var ports []int
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func tail(path string, lines int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	all := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return strings.Join(all, "\n")
}
