package testworld

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
)

func TestMain(m *testing.M) {
	if os.Getenv("TESTWORLD_ORPHAN_CHILD") != "" {
		orphanChild()
		return
	}
	Main(m)
}

var applicationGVR = schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "applications"}

// The real Application CRD, a real API server, and a status change seen
// through a dynamic informer: the path every live view of idp takes.
func TestApplicationStatusArrivesThroughInformer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := SharedCluster(t)
	files, err := ArgoCDCRDFiles(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := InstallCRDs(ctx, c.Config, files...); err != nil {
		t.Fatal(err)
	}
	ns := c.Namespace(t)
	dyn := dynamic.NewForConfigOrDie(c.Config)

	factory := dynamicinformer.NewFilteredDynamicSharedInformerFactory(dyn, 0, ns, nil)
	informer := factory.ForResource(applicationGVR).Informer()
	health := make(chan string, 10)
	informer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) { health <- healthOf(obj) },
		UpdateFunc: func(_, obj any) {
			health <- healthOf(obj)
		},
	})
	factory.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), informer.HasSynced) {
		t.Fatal("informer never synced")
	}

	app := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "argoproj.io/v1alpha1",
		"kind":       "Application",
		"metadata":   map[string]any{"name": "guestbook", "namespace": ns},
		"spec": map[string]any{
			"project":     "default",
			"source":      map[string]any{"repoURL": "https://example.com/guestbook.git", "path": "deploy", "targetRevision": "HEAD"},
			"destination": map[string]any{"server": "https://kubernetes.default.svc", "namespace": "guestbook"},
		},
	}}
	created, err := dyn.Resource(applicationGVR).Namespace(ns).Create(ctx, app, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("creating an Application against the real CRD: %v", err)
	}
	if got := waitHealth(t, ctx, health, ""); got != "" {
		t.Fatalf("new application health = %q", got)
	}
	// Argo CD's CRD has no status subresource: the controller writes status
	// with a plain update, and so does this test.
	unstructured.SetNestedField(created.Object, "Healthy", "status", "health", "status")
	unstructured.SetNestedField(created.Object, "Synced", "status", "sync", "status")
	if _, err := dyn.Resource(applicationGVR).Namespace(ns).Update(ctx, created, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitHealth(t, ctx, health, "Healthy")
}

func healthOf(obj any) string {
	s, _, _ := unstructured.NestedString(obj.(*unstructured.Unstructured).Object, "status", "health", "status")
	return s
}

func waitHealth(t *testing.T, ctx context.Context, ch <-chan string, want string) string {
	t.Helper()
	for {
		select {
		case got := <-ch:
			if got == want {
				return got
			}
		case <-ctx.Done():
			t.Fatalf("informer never reported health %q", want)
		}
	}
}

func TestClusterVersionAndKubeconfig(t *testing.T) {
	c := SharedCluster(t)
	cfg, err := clientcmd.BuildConfigFromFlags("", c.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	cs := kubernetes.NewForConfigOrDie(cfg)
	v, err := cs.Discovery().ServerVersion()
	if err != nil {
		t.Fatalf("the kubeconfig file does not reach the server: %v", err)
	}
	if v.GitVersion != KubernetesVersion {
		t.Errorf("server version %q, want %q (are the version ldflags set?)", v.GitVersion, KubernetesVersion)
	}
}

func TestCrossplaneCRDsInstall(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := SharedCluster(t)
	files, err := CrossplaneCRDFiles(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := InstallCRDs(ctx, c.Config, files...); err != nil {
		t.Fatal(err)
	}
	res, err := c.Clientset(t).Discovery().ServerResourcesForGroupVersion("apiextensions.crossplane.io/v1")
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, r := range res.APIResources {
		kinds = append(kinds, r.Kind)
	}
	if !strings.Contains(strings.Join(kinds, ","), "CompositeResourceDefinition") {
		t.Errorf("served kinds %v lack CompositeResourceDefinition", kinds)
	}
}

func TestGitServerPushAndCloneWithAuth(t *testing.T) {
	s := StartGitServer(t)
	s.CreateRepo(t, "gitops")
	work := filepath.Join(t.TempDir(), "work")
	Git(t, "", "clone", "--quiet", s.AuthURL("gitops"), work)
	if err := os.WriteFile(filepath.Join(work, "README.md"), []byte("hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	Git(t, work, "add", "README.md")
	Git(t, work, "commit", "--quiet", "-m", "first")
	Git(t, work, "push", "--quiet", "origin", "HEAD:main")

	back := filepath.Join(t.TempDir(), "back")
	Git(t, "", "clone", "--quiet", s.AuthURL("gitops"), back)
	data, err := os.ReadFile(filepath.Join(back, "README.md"))
	if err != nil || string(data) != "hello\n" {
		t.Fatalf("cloned README.md = %q, %v", data, err)
	}
	if got := Git(t, back, "log", "--format=%s"); got != "first" {
		t.Errorf("log = %q", got)
	}
	Git(t, "", "--git-dir", s.RepoPath("gitops"), "fsck", "--strict")
}

func TestGitServerRefusesWrongPassword(t *testing.T) {
	s := StartGitServer(t)
	s.CreateRepo(t, "gitops")
	bad := strings.Replace(s.RepoURL("gitops"), "http://", "http://idp:wrong@", 1)
	out, err := RunGit("", "clone", bad, filepath.Join(t.TempDir(), "x"))
	if err == nil {
		t.Fatal("clone with a wrong password succeeded")
	}
	if !strings.Contains(out, "Authentication failed") && !strings.Contains(out, "401") {
		t.Errorf("git said %q; want an authentication failure", out)
	}
	if _, err := RunGit("", "ls-remote", s.RepoURL("gitops")); err == nil {
		t.Fatal("anonymous ls-remote succeeded")
	}
}

func TestTerminalRunsAProgram(t *testing.T) {
	term := StartTerminal(t, TerminalOptions{}, "sh", "-c", `printf 'cols=%s ready\n' "$(tput cols)"; read line; echo "got $line"; exit 3`)
	term.WaitFor("cols=120 ready", 10*time.Second)
	term.SendKeys("hello", "Enter")
	term.WaitFor("got hello", 10*time.Second)
	if code := term.WaitExit(10 * time.Second); code != 3 {
		t.Errorf("exit status %d, want 3", code)
	}
}

// A test process that panics must not leave etcd or kube-apiserver behind.
func TestNoOrphansAfterPanic(t *testing.T) {
	SharedCluster(t) // make sure the binaries are built before the child needs them
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "TESTWORLD_ORPHAN_CHILD=1")
	out, _ := cmd.CombinedOutput()
	var pids []int
	for _, line := range strings.Split(string(out), "\n") {
		if rest, ok := strings.CutPrefix(line, "PIDS "); ok {
			if err := json.Unmarshal([]byte(rest), &pids); err != nil {
				t.Fatal(err)
			}
		}
	}
	if len(pids) != 2 || !strings.Contains(string(out), "panic: on purpose") {
		t.Fatalf("child did not start a cluster and panic:\n%s", out)
	}
	deadline := time.Now().Add(10 * time.Second)
	for _, pid := range pids {
		for alive(pid) {
			if time.Now().After(deadline) {
				t.Fatalf("process %d outlived the test process that started it", pid)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	sweepStale() // the dead child's data folder
}

func alive(pid int) bool {
	// A killed child of a dead parent is reaped by init; until then it is a
	// zombie, which counts as gone.
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	fields := strings.Fields(string(stat))
	return len(fields) > 2 && fields[2] != "Z" && syscall.Kill(pid, 0) == nil
}

func orphanChild() {
	bins, err := EnsureBinaries(context.Background(), os.Stderr)
	if err != nil {
		fmt.Println("ERROR", err)
		os.Exit(1)
	}
	c, err := StartCluster(context.Background(), bins)
	if err != nil {
		fmt.Println("ERROR", err)
		os.Exit(1)
	}
	pids, _ := json.Marshal([]int{c.etcd.cmd.Process.Pid, c.apiserver.cmd.Process.Pid})
	fmt.Println("PIDS " + string(pids))
	panic("on purpose: " + strconv.Itoa(len(pids)))
}
