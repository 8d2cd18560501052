package testworld

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
)

// startRealCluster starts a cluster of the test's own for real controllers,
// which act on every namespace and must not see other tests' objects.
func startRealCluster(t *testing.T, ctx context.Context) *Cluster {
	t.Helper()
	bins, err := EnsureBinaries(ctx, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	c, err := StartCluster(ctx, bins)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Stop)
	return c
}

// The real application controller and repo-server sync an Application whose
// source is a repository on the test git server (behind basic auth, so
// git's askpass goes through the argocd binary) onto the test apiserver.
func TestArgoCDSyncsFromTestGitServer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	c := startRealCluster(t, ctx)
	argo, err := StartArgoCD(ctx, c, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(argo.Stop)
	t.Logf("real Argo CD %s (application-controller, repo-server)", argo.Version)

	git := StartGitServer(t)
	git.CreateRepo(t, "gitops")
	work := t.TempDir()
	Git(t, "", "clone", "--quiet", git.AuthURL("gitops"), work)
	if err := os.MkdirAll(filepath.Join(work, "apps", "hello"), 0o755); err != nil {
		t.Fatal(err)
	}
	manifest := `apiVersion: v1
kind: ConfigMap
metadata:
  name: hello-config
data:
  greeting: hello from git
---
apiVersion: v1
kind: Service
metadata:
  name: hello
spec:
  ports:
  - port: 80
`
	if err := os.WriteFile(filepath.Join(work, "apps", "hello", "hello.yaml"), []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
	Git(t, work, "add", ".")
	Git(t, work, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "--quiet", "-m", "hello")
	Git(t, work, "push", "--quiet", "origin", "HEAD:main")

	if err := argo.AddRepository(ctx, c, git, "gitops"); err != nil {
		t.Fatal(err)
	}
	dyn := dynamic.NewForConfigOrDie(c.Config)
	if _, err := c.Clientset(t).CoreV1().Namespaces().Create(ctx, namespaceObject("hello"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	app := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
		"metadata": map[string]any{"name": "hello", "namespace": argo.Namespace},
		"spec": map[string]any{
			"project":     "default",
			"source":      map[string]any{"repoURL": git.RepoURL("gitops"), "path": "apps/hello", "targetRevision": "main"},
			"destination": map[string]any{"server": "https://kubernetes.default.svc", "namespace": "hello"},
			"syncPolicy":  map[string]any{"automated": map[string]any{}},
		},
	}}
	if _, err := dyn.Resource(applicationGVR).Namespace(argo.Namespace).Create(ctx, app, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	deadline := time.Now().Add(3 * time.Minute)
	var sync, health, revision string
	for time.Now().Before(deadline) {
		got, err := dyn.Resource(applicationGVR).Namespace(argo.Namespace).Get(ctx, "hello", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		sync, _, _ = unstructured.NestedString(got.Object, "status", "sync", "status")
		health, _, _ = unstructured.NestedString(got.Object, "status", "health", "status")
		revision, _, _ = unstructured.NestedString(got.Object, "status", "sync", "revision")
		if sync == "Synced" && health == "Healthy" {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	if sync != "Synced" || health != "Healthy" {
		t.Fatalf("Application hello: sync %q health %q, want Synced Healthy\n%s", sync, health, argo.Logs(40))
	}
	head := Git(t, work, "rev-parse", "HEAD")
	if revision != head {
		t.Errorf("synced revision %q, want the pushed commit %q", revision, head)
	}
	cm, err := c.Clientset(t).CoreV1().ConfigMaps("hello").Get(ctx, "hello-config", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the ConfigMap from git is not on the cluster: %v", err)
	}
	if cm.Data["greeting"] != "hello from git" {
		t.Errorf("ConfigMap data %v", cm.Data)
	}
	if cm.Annotations["argocd.argoproj.io/tracking-id"] == "" && cm.Labels["app.kubernetes.io/instance"] == "" {
		t.Errorf("the ConfigMap carries no Argo CD tracking: %v %v", cm.Annotations, cm.Labels)
	}
}

func namespaceObject(name string) *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
}

// kube-controller-manager, kube-scheduler and kwok roll a Deployment out to
// Ready pods on fake nodes.
func TestDeploymentRollsOutOnKwok(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	c := startRealCluster(t, ctx)
	w, err := StartWorkloads(ctx, c, 2, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
	cs := c.Clientset(t)
	replicas := int32(3)
	labels := map[string]string{"app": "web"}
	dep := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "example.com/web:1"}}},
			},
		},
	}
	if _, err := cs.AppsV1().Deployments("default").Create(ctx, dep, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	var got *appsv1.Deployment
	for time.Now().Before(deadline) {
		got, err = cs.AppsV1().Deployments("default").Get(ctx, "web", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got.Status.ObservedGeneration == got.Generation && got.Status.UpdatedReplicas == replicas && got.Status.AvailableReplicas == replicas {
			break
		}
		time.Sleep(300 * time.Millisecond)
	}
	if got.Status.AvailableReplicas != replicas {
		t.Fatalf("Deployment status %+v, want %d available\n%s", got.Status, replicas, w.Logs(30))
	}
	pods, err := cs.CoreV1().Pods("default").List(ctx, metav1.ListOptions{LabelSelector: "app=web"})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pods.Items {
		if p.Spec.NodeName == "" || p.Status.Phase != corev1.PodRunning || p.Status.PodIP == "" {
			t.Errorf("pod %s: node %q phase %s ip %q", p.Name, p.Spec.NodeName, p.Status.Phase, p.Status.PodIP)
		}
	}
}
