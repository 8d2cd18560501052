// Package xcrdgen turns a CompositeResourceDefinition into the
// CustomResourceDefinitions Crossplane would create for it, with
// Crossplane's own code: the files of its internal/xcrd package are read
// from the Crossplane module (the version the test world installs) and
// built into a small generator, cached like the test world's binaries.
// Tests use it to dry-run XRs and claims against the real schema; nothing
// in the idp binary does.
package xcrdgen

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/back-stack/idp/internal/testworld"
)

// generatorMain reads one XRD (apiextensions.crossplane.io/v1, as the API
// server serves it) as JSON and writes the XR CRD and, for an XRD with
// claimNames, the claim CRD.
const generatorMain = `package main

import (
	"encoding/json"
	"fmt"
	"os"

	v1 "github.com/crossplane/crossplane/v2/apis/apiextensions/v1"
	extv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"

	"xcrdgen/xcrd"
)

func main() {
	var xrd v1.CompositeResourceDefinition
	if err := json.NewDecoder(os.Stdin).Decode(&xrd); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var out []*extv1.CustomResourceDefinition
	crd, err := xcrd.ForCompositeResource(&xrd)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	out = append(out, crd)
	if xrd.Spec.ClaimNames != nil {
		claim, err := xcrd.ForCompositeResourceClaim(&xrd)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		out = append(out, claim)
	}
	for _, c := range out {
		c.APIVersion, c.Kind = "apiextensions.k8s.io/v1", "CustomResourceDefinition"
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		os.Exit(1)
	}
}
`

var (
	once    sync.Once
	binPath string
	binErr  error
)

// Binary builds the generator once per process (and once per machine,
// cached under the user cache dir) and returns its path.
func Binary(ctx context.Context, log io.Writer) (string, error) {
	once.Do(func() { binPath, binErr = ensure(ctx, log) })
	return binPath, binErr
}

func ensure(ctx context.Context, log io.Writer) (string, error) {
	src, err := testworld.ModuleDir(ctx, testworld.CrossplaneModule)
	if err != nil {
		return "", err
	}
	xcrdDir := filepath.Join(src, "internal", "xcrd")
	files, err := filepath.Glob(filepath.Join(xcrdDir, "*.go"))
	if err != nil {
		return "", err
	}
	h := sha256.New()
	h.Write([]byte(generatorMain + testworld.CrossplaneModule + runtime.Version()))
	var sources []string
	for _, f := range files {
		if !strings.HasSuffix(f, "_test.go") {
			sources = append(sources, f)
		}
	}
	if len(sources) == 0 {
		return "", fmt.Errorf("xcrdgen: no Go files in %s", xcrdDir)
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(cache, "idp", "testworld")
	bin := filepath.Join(dir, "xcrdgen-"+hex.EncodeToString(h.Sum(nil))[:12])
	if testworld.IsExecutable(bin) {
		return bin, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	unlock, err := testworld.LockFile(bin + ".lock")
	if err != nil {
		return "", err
	}
	defer unlock()
	if testworld.IsExecutable(bin) {
		return bin, nil
	}
	fmt.Fprintf(log, "xcrdgen: building Crossplane's CRD generator from %s (cold: a minute or two)\n", testworld.CrossplaneModule)
	mod, err := os.MkdirTemp(dir, ".xcrdgen-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(mod)
	version := testworld.CrossplaneModule[strings.LastIndex(testworld.CrossplaneModule, "@")+1:]
	path := strings.TrimSuffix(testworld.CrossplaneModule, "@"+version)
	gomod := fmt.Sprintf("module xcrdgen\n\ngo 1.24.0\n\nrequire %s %s\n", path, version)
	if err := os.MkdirAll(filepath.Join(mod, "xcrd"), 0o755); err != nil {
		return "", err
	}
	write := map[string]string{"go.mod": gomod, "main.go": generatorMain}
	for _, f := range sources {
		data, err := os.ReadFile(f)
		if err != nil {
			return "", err
		}
		write[filepath.Join("xcrd", filepath.Base(f))] = string(data)
	}
	for name, content := range write {
		if err := os.WriteFile(filepath.Join(mod, name), []byte(content), 0o644); err != nil {
			return "", err
		}
	}
	tmp := bin + ".tmp"
	cmd := exec.CommandContext(ctx, "go", "build", "-buildvcs=false", "-o", tmp, ".")
	cmd.Dir = mod
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("xcrdgen: building the generator: %w\n%s", err, out.String())
	}
	return bin, os.Rename(tmp, bin)
}

// CRDs returns the CRDs Crossplane generates for xrd, which must be the
// XRD as the API server returns it at apiextensions.crossplane.io/v1.
func CRDs(ctx context.Context, xrd *unstructured.Unstructured) ([]*unstructured.Unstructured, error) {
	bin, err := Binary(ctx, os.Stderr)
	if err != nil {
		return nil, err
	}
	in, err := json.Marshal(xrd.Object)
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, bin)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("xcrdgen: %w: %s", err, stderr.String())
	}
	var objs []map[string]any
	if err := json.Unmarshal(out, &objs); err != nil {
		return nil, err
	}
	crds := make([]*unstructured.Unstructured, len(objs))
	for i, o := range objs {
		crds[i] = &unstructured.Unstructured{Object: o}
	}
	return crds, nil
}

var xrdV1 = schema.GroupVersionResource{Group: "apiextensions.crossplane.io", Version: "v1", Resource: "compositeresourcedefinitions"}

// Generate applies xrd to the API server (server-side, at its own
// apiVersion), so that Crossplane's own XRD schema checks it, reads it back
// as served at v1 and returns the CRDs Crossplane generates for it.
func Generate(ctx context.Context, dyn dynamic.Interface, xrd *unstructured.Unstructured) ([]*unstructured.Unstructured, error) {
	gv, err := schema.ParseGroupVersion(xrd.GetAPIVersion())
	if err != nil {
		return nil, err
	}
	if _, err := dyn.Resource(gv.WithResource("compositeresourcedefinitions")).Apply(ctx, xrd.GetName(), xrd,
		metav1.ApplyOptions{FieldManager: "xcrdgen", Force: true}); err != nil {
		return nil, fmt.Errorf("xcrdgen: the API server refuses XRD %s: %w", xrd.GetName(), err)
	}
	stored, err := dyn.Resource(xrdV1).Get(ctx, xrd.GetName(), metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	return CRDs(ctx, stored)
}
