package bootstrap

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// Where the pipeline reads the rendered repository.
const (
	RootManifest       = "bootstrap/root.yaml"
	PlatformDir        = "platform/"
	InfrastructureDir  = "infrastructure/"
	crossplanePkgGroup = "pkg.crossplane.io"
	crossplaneXGroup   = "apiextensions.crossplane.io"
)

// manifest is one object of the rendered repository.
type manifest struct {
	File string
	Obj  *unstructured.Unstructured
}

func (m manifest) ref() ObjectRef { return refOf(m.Obj) }

// parsedManifests sorts the repository's objects by what the steps do with them.
type parsedManifests struct {
	// root is bootstrap/root.yaml: the app-of-apps.
	root []manifest
	// handover is bootstrap/infrastructure.yaml: the Application that
	// keeps infrastructure/ on AKS, applied after the adoption.
	handover []manifest
	// runtime are DeploymentRuntimeConfigs and ImageConfigs, applied
	// before the packages that use them.
	runtime []manifest
	// packages are Providers, Functions and Configurations.
	packages []manifest
	// providerConfigs are the providers' ProviderConfigs.
	providerConfigs []manifest
	// definitions are XRDs, Compositions and EnvironmentConfigs.
	definitions []manifest
	// infra is infrastructure/, namespaces first.
	infra []manifest
}

// seedPlatform is everything of platform/ the seed gets, in apply order.
func (m parsedManifests) seedPlatform() []manifest {
	return slices.Concat(m.runtime, m.packages, m.providerConfigs, m.definitions)
}

func parseManifests(files map[string][]byte) (parsedManifests, error) {
	var m parsedManifests
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	slices.Sort(names)
	var infraNS, infraRest []manifest
	for _, name := range names {
		clean := path.Clean(strings.TrimPrefix(name, "./"))
		switch path.Ext(clean) {
		case ".yaml", ".yml", ".json":
		default:
			continue
		}
		isRoot := clean == RootManifest
		isHandover := clean == HandoverManifest
		isPlatform := strings.HasPrefix(clean, PlatformDir)
		isInfra := strings.HasPrefix(clean, InfrastructureDir)
		if !isRoot && !isHandover && !isPlatform && !isInfra {
			continue
		}
		objs, err := decodeObjects(clean, files[name])
		if err != nil {
			return m, err
		}
		for _, o := range objs {
			mf := manifest{File: clean, Obj: o}
			gv, kind := o.GroupVersionKind().Group, o.GetKind()
			switch {
			case isRoot:
				m.root = append(m.root, mf)
			case isHandover:
				m.handover = append(m.handover, mf)
			case isInfra && gv == "" && kind == "Namespace":
				infraNS = append(infraNS, mf)
			case isInfra:
				infraRest = append(infraRest, mf)
			case gv == crossplanePkgGroup && (kind == "DeploymentRuntimeConfig" || kind == "ImageConfig"):
				m.runtime = append(m.runtime, mf)
			case gv == crossplanePkgGroup:
				m.packages = append(m.packages, mf)
			case strings.HasSuffix(kind, "ProviderConfig"):
				m.providerConfigs = append(m.providerConfigs, mf)
			case gv == crossplaneXGroup:
				m.definitions = append(m.definitions, mf)
			}
			// The rest of platform/ (Argo CD Applications of the
			// components, add-ons) is Argo CD's to sync on AKS.
		}
	}
	m.infra = append(infraNS, infraRest...)
	var errs []string
	if len(m.root) == 0 {
		errs = append(errs, RootManifest+" (the app-of-apps) is missing or empty")
	}
	if len(m.packages) == 0 {
		errs = append(errs, "platform/ has no Crossplane Provider or Function for the seed")
	}
	if len(m.providerConfigs) == 0 {
		errs = append(errs, "platform/ has no ProviderConfig: the seed's provider would have no Azure credentials")
	}
	if len(infraRest) == 0 {
		errs = append(errs, "infrastructure/ has nothing to create")
	}
	if len(errs) > 0 {
		return m, fmt.Errorf("bootstrap: the rendered manifests are incomplete: %s", strings.Join(errs, "; "))
	}
	return m, nil
}

func decodeObjects(name string, data []byte) ([]*unstructured.Unstructured, error) {
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var out []*unstructured.Unstructured
	for {
		var obj map[string]any
		err := dec.Decode(&obj)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("bootstrap: %s: %w", name, err)
		}
		if len(obj) == 0 {
			continue
		}
		u := &unstructured.Unstructured{Object: obj}
		if u.GetKind() == "" || u.GetAPIVersion() == "" {
			continue // a values file or another document that is not an object
		}
		if u.GetName() == "" {
			return nil, fmt.Errorf("bootstrap: %s: a %s without metadata.name", name, u.GetKind())
		}
		out = append(out, u)
	}
}

// toYAML renders an object for plans.
func toYAML(u *unstructured.Unstructured) string {
	b, err := yaml.Marshal(u.Object)
	if err != nil {
		return fmt.Sprintf("# %v\n", err)
	}
	return string(b)
}
