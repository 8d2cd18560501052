package scaffold

import (
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/back-stack/idp/platform/platformconfig"
	"github.com/back-stack/idp/platform/templates"
)

func TestApplicationManifest(t *testing.T) {
	got, err := ApplicationManifest(&templates.ApplicationRequest{
		Name: "pay", RepoURL: "https://git.example.com/acme/pay.git", Path: "deploy", Revision: "main",
		Namespace: "pay", Project: "default", Automated: true, Prune: true, SelfHeal: false, CreateNamespace: true,
	}, "go-service", Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := `apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: pay
  namespace: argocd
  labels:
    app.kubernetes.io/part-of: pay
    idp.back-stack.io/service: pay
    idp.back-stack.io/template: go-service
  finalizers:
    - resources-finalizer.argocd.argoproj.io
spec:
  project: default
  source:
    repoURL: https://git.example.com/acme/pay.git
    path: deploy
    targetRevision: main
  destination:
    server: https://kubernetes.default.svc
    namespace: pay
  syncPolicy:
    automated:
      prune: true
      selfHeal: false
    syncOptions:
      - CreateNamespace=true
`
	if string(got) != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	manual, _ := ApplicationManifest(&templates.ApplicationRequest{Name: "pay", Namespace: "pay"}, "", Options{})
	if strings.Contains(string(manual), "syncPolicy") {
		t.Errorf("a manual Application without options has a syncPolicy:\n%s", manual)
	}
}

// Values that look like YAML stay values: the encoder quotes them.
func TestManifestsKeepHostileValuesAsValues(t *testing.T) {
	evil := "https://x/y.git#\"x\"{a:[b]}"
	got, err := ApplicationManifest(&templates.ApplicationRequest{Name: "pay", RepoURL: evil, Path: "deploy", Revision: "main:x", Namespace: "pay", Project: "team.a"}, "t", Options{})
	if err != nil {
		t.Fatal(err)
	}
	var back struct {
		Spec struct {
			Project string
			Source  struct {
				RepoURL        string `yaml:"repoURL"`
				TargetRevision string `yaml:"targetRevision"`
			}
		}
	}
	if err := yaml.Unmarshal(got, &back); err != nil {
		t.Fatal(err)
	}
	if back.Spec.Source.RepoURL != evil || back.Spec.Project != "team.a" || back.Spec.Source.TargetRevision != "main:x" {
		t.Errorf("values changed on the way through YAML: %+v\n%s", back, got)
	}
}

// Values Argo CD or Kubernetes cannot use are refused before anything is
// written (a project with a newline used to be committed).
func TestManifestsRefuseNamesArgoCDCannotUse(t *testing.T) {
	ok := templates.ApplicationRequest{Name: "pay", RepoURL: "https://x/y.git", Path: "deploy", Revision: "main", Namespace: "pay", Project: "default"}
	for name, tc := range map[string]struct {
		mod  func(*templates.ApplicationRequest)
		want string
	}{
		"project newline":  {func(a *templates.ApplicationRequest) { a.Project = "default\nevil" }, "not an Argo CD project name"},
		"project wildcard": {func(a *templates.ApplicationRequest) { a.Project = "*" }, "not an Argo CD project name"},
		"namespace":        {func(a *templates.ApplicationRequest) { a.Namespace = "Pay" }, "not a Kubernetes name"},
		"repo newline":     {func(a *templates.ApplicationRequest) { a.RepoURL = "https://x/y.git\n  project: admin" }, "repoUrl"},
		"revision space":   {func(a *templates.ApplicationRequest) { a.Revision = "main x" }, "revision"},
		"path escapes":     {func(a *templates.ApplicationRequest) { a.Path = "../other" }, "path"},
	} {
		a := ok
		tc.mod(&a)
		if _, err := ApplicationManifest(&a, "t", Options{}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", name, err, tc.want)
		}
	}
	if _, err := ApplicationManifest(&ok, "Bad Template!", Options{}); err == nil || !strings.Contains(err.Error(), "label value") {
		t.Errorf("a template name that cannot be a label value: %v", err)
	}
	d := &templates.DatabaseRequest{Name: "pay_db", Namespace: "pay"}
	if _, err := DatabaseManifest(d, "pay", Options{}); err == nil {
		t.Error("a database name that is not a Kubernetes name was accepted")
	}
}

func TestDatabaseManifest(t *testing.T) {
	d := &templates.DatabaseRequest{Name: "pay-db", Namespace: "pay", Engine: "postgresql", Size: "small", Version: "16", StorageGB: 32}
	v2, err := DatabaseManifest(d, "pay", Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"apiVersion: platform.back-stack.io/v1alpha1", "kind: PostgreSQLInstance", "namespace: pay", "connectionSecretName: pay-db", "argocd.argoproj.io/sync-wave: \"-1\"", "storageGB: 32"} {
		if !strings.Contains(string(v2), want) {
			t.Errorf("v2 XR lacks %q:\n%s", want, v2)
		}
	}
	v1, err := DatabaseManifest(d, "pay", Options{CrossplaneAPI: platformconfig.CrossplaneV1})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(v1), "writeConnectionSecretToRef:\n    name: pay-db") || strings.Contains(string(v1), "connectionSecretName") {
		t.Errorf("v1 claim:\n%s", v1)
	}
	if _, err := DatabaseManifest(d, "pay", Options{CrossplaneAPI: "v3"}); err == nil {
		t.Error("an unknown Crossplane API was accepted")
	}
	ns, _ := NamespaceManifest("pay", "pay")
	if !strings.Contains(string(ns), "kind: Namespace") || !strings.Contains(string(ns), `sync-wave: "-2"`) {
		t.Errorf("namespace:\n%s", ns)
	}
}
