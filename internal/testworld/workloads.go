package testworld

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// KwokVersion is the kwok release tools/kwok builds.
const KwokVersion = "v0.8.0"

// KubeControllersComponent is kube-controller-manager and kube-scheduler of
// the same Kubernetes release as the apiserver (tools/kube-controllers): the
// Deployment, ReplicaSet, namespace, garbage-collector... controllers, and
// the scheduler that places their pods on kwok's nodes.
var KubeControllersComponent = Component{
	Name: "kube-controllers", Version: KubernetesVersion, Module: "kube-controllers",
	Programs: []Program{
		{Name: "kube-controller-manager", Package: "k8s.io/kubernetes/cmd/kube-controller-manager", LDFlags: kubeLDFlags()},
		{Name: "kube-scheduler", Package: "k8s.io/kubernetes/cmd/kube-scheduler", LDFlags: kubeLDFlags()},
	},
}

// KwokComponent is kwok (tools/kwok): fake nodes and the kubelet's part of
// a pod's life (Pending -> Running -> Ready), played by its upstream stages.
var KwokComponent = Component{
	Name: "kwok", Version: KwokVersion, Module: "kwok",
	Programs: []Program{{Name: "kwok", Package: "sigs.k8s.io/kwok/cmd/kwok",
		LDFlags: "-X sigs.k8s.io/kwok/pkg/consts.Version=" + strings.TrimPrefix(KwokVersion, "v")}},
}

func kubeLDFlags() string {
	return strings.Join([]string{
		"-X k8s.io/component-base/version.gitVersion=" + KubernetesVersion,
		"-X k8s.io/component-base/version.gitMajor=1",
		"-X k8s.io/component-base/version.gitMinor=" + minor(KubernetesVersion),
		"-X k8s.io/component-base/version.gitTreeState=clean",
		"-X k8s.io/client-go/pkg/version.gitVersion=" + KubernetesVersion,
	}, " ")
}

// Workloads is kube-controller-manager, kube-scheduler and kwok running
// against one cluster, so Deployments roll out to pods on fake nodes.
type Workloads struct {
	dir   string
	procs []*process
}

// KwokNodeLabel marks the nodes kwok manages.
const KwokNodeLabel = "type"

// StartWorkloads starts the controllers and kwok against c and registers
// nodes fake nodes (kwok makes them Ready). The processes die with the test
// process; call Stop to end them sooner.
func StartWorkloads(ctx context.Context, c *Cluster, nodes int, log io.Writer) (*Workloads, error) {
	kube, err := KubeControllersComponent.Ensure(ctx, log)
	if err != nil {
		return nil, err
	}
	kwok, err := KwokComponent.Ensure(ctx, log)
	if err != nil {
		return nil, err
	}
	src, err := buildModuleDir(ctx, KwokComponent, "sigs.k8s.io/kwok")
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", fmt.Sprintf("idp-testworld-%d-workloads-", os.Getpid()))
	if err != nil {
		return nil, err
	}
	w := &Workloads{dir: dir}
	if err := w.start(ctx, c, kube, filepath.Join(kwok, "kwok"), src, nodes); err != nil {
		w.Stop()
		return nil, err
	}
	return w, nil
}

func (w *Workloads) start(ctx context.Context, c *Cluster, kube, kwok, src string, nodes int) error {
	ports, err := freePorts(2)
	if err != nil {
		return err
	}
	run := func(name, bin string, args ...string) error {
		env := append(os.Environ(), "HOME="+w.dir)
		p, err := startProcessEnv(name, bin, filepath.Join(w.dir, name+".log"), env, args...)
		if err != nil {
			return err
		}
		w.procs = append(w.procs, p)
		return nil
	}
	auth := []string{
		"--kubeconfig=" + c.Kubeconfig,
		"--authentication-kubeconfig=" + c.Kubeconfig,
		"--authorization-kubeconfig=" + c.Kubeconfig,
		"--bind-address=127.0.0.1",
		"--leader-elect=false",
	}
	if err := run("kube-controller-manager", filepath.Join(kube, "kube-controller-manager"), append(auth,
		"--secure-port="+strconv.Itoa(ports[0]),
		"--cert-dir="+filepath.Join(w.dir, "kcm-certs"),
		"--controllers=*",
		"--use-service-account-credentials=false",
		"--service-account-private-key-file="+filepath.Join(c.dir, "sa.key"),
		"--root-ca-file="+filepath.Join(c.dir, "certs", "apiserver.crt"),
	)...); err != nil {
		return err
	}
	if err := run("kube-scheduler", filepath.Join(kube, "kube-scheduler"), append(auth,
		"--secure-port="+strconv.Itoa(ports[1]),
		"--cert-dir="+filepath.Join(w.dir, "scheduler-certs"),
	)...); err != nil {
		return err
	}
	// kwok's upstream "fast" stages: nodes Ready with a lease heartbeat, pods
	// Running and Ready as soon as they are scheduled, deleted pods gone.
	var stages []string
	for _, sub := range []string{"node/fast", "node/heartbeat-with-lease", "pod/fast"} {
		files, err := filepath.Glob(filepath.Join(src, "kustomize", "stage", sub, "*.yaml"))
		if err != nil {
			return err
		}
		for _, f := range files {
			if filepath.Base(f) != "kustomization.yaml" {
				stages = append(stages, f)
			}
		}
	}
	if len(stages) == 0 {
		return fmt.Errorf("testworld: no kwok stages in %s", src)
	}
	if err := run("kwok", kwok,
		"--kubeconfig="+c.Kubeconfig,
		"--config="+strings.Join(stages, ","),
		"--manage-all-nodes=false",
		"--manage-nodes-with-label-selector="+KwokNodeLabel+"=kwok",
		"--cidr=10.244.0.0/16",
		"--node-ip=127.0.0.1",
		"--node-lease-duration-seconds=40",
	); err != nil {
		return err
	}
	cs, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		return err
	}
	for i := range nodes {
		node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{
			Name:        fmt.Sprintf("kwok-node-%d", i),
			Labels:      map[string]string{KwokNodeLabel: "kwok", "kubernetes.io/os": "linux", "kubernetes.io/hostname": fmt.Sprintf("kwok-node-%d", i)},
			Annotations: map[string]string{"node.alpha.kubernetes.io/ttl": "0", "kwok.x-k8s.io/node": "fake"},
		}, Status: corev1.NodeStatus{
			Allocatable: corev1.ResourceList{"cpu": resource.MustParse("32"), "memory": resource.MustParse("256Gi"), "pods": resource.MustParse("110")},
			Capacity:    corev1.ResourceList{"cpu": resource.MustParse("32"), "memory": resource.MustParse("256Gi"), "pods": resource.MustParse("110")},
		}}
		if _, err := cs.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return err
		}
	}
	return w.waitNodesReady(ctx, cs, nodes)
}

func (w *Workloads) waitNodesReady(ctx context.Context, cs kubernetes.Interface, n int) error {
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		for _, p := range w.procs {
			select {
			case <-p.done:
				return fmt.Errorf("testworld: %s exited while starting:\n%s", p.name, tail(p.log, 30))
			default:
			}
		}
		list, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: KwokNodeLabel + "=kwok"})
		if err != nil {
			return err
		}
		ready := 0
		for _, node := range list.Items {
			for _, cond := range node.Status.Conditions {
				if cond.Type == corev1.NodeReady && cond.Status == corev1.ConditionTrue {
					ready++
				}
			}
		}
		if ready >= n {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	return fmt.Errorf("testworld: kwok nodes not Ready after 2m:\n%s", w.Logs(20))
}

// Logs returns the last lines of each process's log, for a failing test.
func (w *Workloads) Logs(lines int) string {
	var b strings.Builder
	for _, p := range w.procs {
		fmt.Fprintf(&b, "--- %s\n%s\n", p.name, tail(p.log, lines))
	}
	return b.String()
}

// Stop ends the processes and removes their files; safe to call twice.
func (w *Workloads) Stop() {
	for i := len(w.procs) - 1; i >= 0; i-- {
		w.procs[i].stop()
	}
	w.procs = nil
	os.RemoveAll(w.dir)
}
