package testworld

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

var (
	sharedMu      sync.Mutex
	sharedCluster *Cluster
	sharedErr     error
	cleanups      []func()
)

// Main runs a package's tests and then stops everything the testworld
// started for them. Use it from TestMain: func TestMain(m *testing.M) { testworld.Main(m) }.
func Main(m *testing.M) {
	code := m.Run()
	sharedMu.Lock()
	for i := len(cleanups) - 1; i >= 0; i-- {
		cleanups[i]()
	}
	sharedMu.Unlock()
	os.Exit(code)
}

// AtExit registers fn to run when Main ends, after the package's tests and
// before the shared cluster stops: for what a package starts of its own
// (a second cluster, stand-in controllers).
func AtExit(fn func()) {
	sharedMu.Lock()
	defer sharedMu.Unlock()
	cleanups = append(cleanups, fn)
}

// SharedCluster returns the test process's one Kubernetes API server,
// starting it (and building its binaries) on first use. Tests share it, so
// each should work in its own namespace (see Namespace). It needs Main in
// TestMain to be stopped at the end; without it the processes still die with
// the test process.
func SharedCluster(t testing.TB) *Cluster {
	t.Helper()
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if sharedCluster == nil && sharedErr == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 25*time.Minute)
		defer cancel()
		bins, err := EnsureBinaries(ctx, os.Stderr)
		if err == nil {
			sharedCluster, err = StartCluster(ctx, bins)
		}
		sharedErr = err
		if err == nil {
			cleanups = append(cleanups, sharedCluster.Stop)
		}
	}
	if sharedErr != nil {
		t.Fatalf("testworld: no Kubernetes API server: %v", sharedErr)
	}
	return sharedCluster
}

// Clientset is a typed client for the cluster.
func (c *Cluster) Clientset(t testing.TB) kubernetes.Interface {
	t.Helper()
	cs, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

var nsUnsafe = regexp.MustCompile(`[^a-z0-9-]+`)

// Namespace creates a namespace of the test's own. Without
// kube-controller-manager a deleted namespace stays Terminating forever, so it
// is left in place; the cluster's data goes when the cluster stops.
func (c *Cluster) Namespace(t testing.TB) string {
	t.Helper()
	base := strings.Trim(nsUnsafe.ReplaceAllString(strings.ToLower(t.Name()), "-"), "-")
	if len(base) > 40 {
		base = strings.Trim(base[:40], "-")
	}
	name := fmt.Sprintf("%s-%s", base, randomHex(3))
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := c.Clientset(t).CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		t.Fatalf("testworld: creating namespace %s: %v", name, err)
	}
	return name
}
