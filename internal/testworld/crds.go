package testworld

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
)

// The upstream releases whose CRDs the tests install, read from the modules'
// own files: never copies kept in this repository.
const (
	ArgoCDModule     = "github.com/argoproj/argo-cd/v3@v3.5.7"
	CrossplaneModule = "github.com/crossplane/crossplane/v2@v2.1.0"
)

var crdGVR = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

var (
	moduleMu   sync.Mutex
	moduleDirs = map[string]string{}
)

// ModuleDir downloads a module version through the Go module proxy (or finds
// it in the module cache) and returns its folder.
func ModuleDir(ctx context.Context, modVersion string) (string, error) {
	moduleMu.Lock()
	defer moduleMu.Unlock()
	if dir, ok := moduleDirs[modVersion]; ok {
		return dir, nil
	}
	cmd := exec.CommandContext(ctx, "go", "mod", "download", "-json", modVersion)
	cmd.Dir = os.TempDir() // outside any module, so the project's go.mod is not involved
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var info struct{ Dir, Error string }
	if jerr := json.Unmarshal(out, &info); jerr == nil && info.Error != "" {
		return "", fmt.Errorf("testworld: go mod download %s: %s", modVersion, info.Error)
	}
	if err != nil {
		return "", fmt.Errorf("testworld: go mod download %s: %w: %s", modVersion, err, stderr.String())
	}
	if info.Dir == "" {
		return "", fmt.Errorf("testworld: go mod download %s gave no folder", modVersion)
	}
	moduleDirs[modVersion] = info.Dir
	return info.Dir, nil
}

// ArgoCDCRDFiles are Argo CD's Application, ApplicationSet and AppProject CRDs.
func ArgoCDCRDFiles(ctx context.Context) ([]string, error) {
	return crdFiles(ctx, ArgoCDModule, "manifests/crds")
}

// CrossplaneCRDFiles are Crossplane's own CRDs (XRDs, Compositions, packages...).
func CrossplaneCRDFiles(ctx context.Context) ([]string, error) {
	return crdFiles(ctx, CrossplaneModule, "cluster/crds")
}

func crdFiles(ctx context.Context, mod, sub string) ([]string, error) {
	dir, err := ModuleDir(ctx, mod)
	if err != nil {
		return nil, err
	}
	files, err := filepath.Glob(filepath.Join(dir, sub, "*.yaml"))
	if err != nil {
		return nil, err
	}
	var crds []string
	for _, f := range files {
		if filepath.Base(f) != "kustomization.yaml" {
			crds = append(crds, f)
		}
	}
	if len(crds) == 0 {
		return nil, fmt.Errorf("testworld: no CRDs under %s in %s", sub, mod)
	}
	sort.Strings(crds)
	return crds, nil
}

// InstallCRDs applies the CRDs in files (server-side, as `kubectl apply
// --server-side` does; ApplicationSet's CRD is too large for client-side
// apply) and waits until each is Established.
func InstallCRDs(ctx context.Context, cfg *rest.Config, files ...string) error {
	var objs []*unstructured.Unstructured
	for _, f := range files {
		read, err := ReadObjects(f)
		if err != nil {
			return err
		}
		objs = append(objs, read...)
	}
	return InstallCRDObjects(ctx, cfg, objs...)
}

// InstallCRDObjects applies CRDs given as objects (those xcrdgen generates,
// say; their status is dropped) and waits until they are Established.
// Objects of other kinds are skipped.
func InstallCRDObjects(ctx context.Context, cfg *rest.Config, objs ...*unstructured.Unstructured) error {
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return err
	}
	var names []string
	for _, obj := range objs {
		if obj.GetKind() != "CustomResourceDefinition" {
			continue
		}
		obj = obj.DeepCopy()
		delete(obj.Object, "status")
		if _, err := dyn.Resource(crdGVR).Apply(ctx, obj.GetName(), obj, metav1.ApplyOptions{FieldManager: "testworld", Force: true}); err != nil {
			return fmt.Errorf("testworld: applying CRD %s: %w", obj.GetName(), err)
		}
		names = append(names, obj.GetName())
	}
	for _, name := range names {
		if err := waitEstablished(ctx, dyn, name); err != nil {
			return err
		}
	}
	return nil
}

// InstallPlatformCRDs installs the upstream CRDs the platform's objects
// are validated against: Argo CD's and Crossplane's.
func InstallPlatformCRDs(ctx context.Context, cfg *rest.Config) error {
	argo, err := ArgoCDCRDFiles(ctx)
	if err != nil {
		return err
	}
	xp, err := CrossplaneCRDFiles(ctx)
	if err != nil {
		return err
	}
	return InstallCRDs(ctx, cfg, append(argo, xp...)...)
}

func waitEstablished(ctx context.Context, dyn dynamic.Interface, name string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		obj, err := dyn.Resource(crdGVR).Get(ctx, name, metav1.GetOptions{})
		if err == nil && hasCondition(obj, "Established") {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("testworld: CRD %s not Established: %w", name, errors.Join(ctx.Err(), err))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func hasCondition(obj *unstructured.Unstructured, condType string) bool {
	conds, _, _ := unstructured.NestedSlice(obj.Object, "status", "conditions")
	for _, c := range conds {
		m, ok := c.(map[string]any)
		if ok && m["type"] == condType && m["status"] == "True" {
			return true
		}
	}
	return false
}

// ReadObjects decodes every object in a multi-document YAML or JSON file.
func ReadObjects(path string) ([]*unstructured.Unstructured, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	dec := utilyaml.NewYAMLOrJSONDecoder(f, 4096)
	var objs []*unstructured.Unstructured
	for {
		var m map[string]any
		if err := dec.Decode(&m); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, fmt.Errorf("testworld: decoding %s: %w", path, err)
		}
		if len(m) == 0 || strings.TrimSpace(fmt.Sprint(m["kind"])) == "" {
			continue
		}
		objs = append(objs, &unstructured.Unstructured{Object: m})
	}
	return objs, nil
}
