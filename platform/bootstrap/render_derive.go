package bootstrap

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/back-stack/idp/assets"
	"github.com/back-stack/idp/platform/platformconfig"
)

// What Render derives from the assets: the database API, its annotations,
// and the provider packages and activations the compositions need.

// databaseFiles are the platform's database API from assets/platform: the
// XRD in the configured Crossplane API style and, for v2, its Composition
// when assets has one; with the sync-wave annotations added.
func databaseFiles(cfg platformconfig.Config) (map[string][]byte, error) {
	src := assets.Platform()
	type item struct{ from, to, wave string }
	items := []item{{assets.DatabaseXRD, "platform/crossplane/xrds/postgresqlinstances.yaml", "xrds"}}
	if cfg.CrossplaneAPI() == platformconfig.CrossplaneV1 {
		items[0].from = assets.DatabaseClaimXRD
	} else if _, err := fs.Stat(src, "database/composition.yaml"); err == nil {
		items = append(items, item{"database/composition.yaml", compsDir + "postgresqlinstances.yaml", "compositions"})
	}
	out := map[string][]byte{}
	for _, it := range items {
		data, err := fs.ReadFile(src, it.from)
		if err != nil {
			return nil, err
		}
		data, err = setMetadata(data, "labels", map[string]string{
			"app.kubernetes.io/part-of":   "idp-platform",
			"idp.back-stack.io/component": "crossplane",
		})
		if err == nil {
			data, err = setMetadata(data, "annotations", map[string]string{
				"argocd.argoproj.io/sync-wave":    strconv.Itoa(syncWaves[it.wave]),
				"argocd.argoproj.io/sync-options": "SkipDryRunOnMissingResource=true",
			})
		}
		if err != nil {
			return nil, fmt.Errorf("bootstrap: %s: %w", it.from, err)
		}
		out[it.to] = data
	}
	return out, nil
}

// setMetadata sets entries of metadata.labels or metadata.annotations
// (field) of the one object in data, keeping its comments.
func setMetadata(data []byte, field string, ann map[string]string) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	if len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, errors.New("want one object")
	}
	meta := yamlMapValue(doc.Content[0], "metadata")
	if meta == nil {
		return nil, errors.New("no metadata")
	}
	anns := yamlMapValue(meta, field)
	if anns == nil {
		anns = &yaml.Node{Kind: yaml.MappingNode}
		meta.Content = append(meta.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: field}, anns)
	}
	keys := make([]string, 0, len(ann))
	for k := range ann {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if v := yamlMapValue(anns, k); v != nil {
			v.Value, v.Tag, v.Style = ann[k], "!!str", yaml.DoubleQuotedStyle
			continue
		}
		anns.Content = append(anns.Content,
			&yaml.Node{Kind: yaml.ScalarNode, Value: k},
			&yaml.Node{Kind: yaml.ScalarNode, Value: ann[k], Tag: "!!str", Style: yaml.DoubleQuotedStyle})
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, err
	}
	return buf.Bytes(), enc.Close()
}

func yamlMapValue(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// Provider-azure's v2 API groups: <service>.azure.m.upbound.io is the
// package provider-azure-<service>; azure.m.upbound.io (ResourceGroup) is
// the family provider's.
const (
	azureGroupSuffix = ".azure.m.upbound.io"
	azureFamilyGroup = "azure.m.upbound.io"
	packageRegistry  = "xpkg.upbound.io/upbound/"
	familyProvider   = "upbound-provider-family-azure"
)

// managedResources reads the composed resources of the rendered
// Compositions and returns the provider-azure packages and the managed
// resource definitions to activate for them, sorted: the compositions are
// the one list of what the platform creates in Azure.
func managedResources(files map[string][]byte) ([]providerPackage, []string, error) {
	services := map[string]bool{}
	mrds := map[string]bool{}
	for p, data := range files {
		if !strings.HasPrefix(p, compsDir) {
			continue
		}
		objs, err := decodeYAMLDocs(data)
		if err != nil {
			return nil, nil, fmt.Errorf("bootstrap: %s: %w", p, err)
		}
		for _, o := range objs {
			for _, gvk := range composedKinds(o) {
				group, _, _ := strings.Cut(gvk[0], "/")
				switch {
				case group == azureFamilyGroup:
				case strings.HasSuffix(group, azureGroupSuffix):
					services[strings.TrimSuffix(group, azureGroupSuffix)] = true
				default:
					return nil, nil, fmt.Errorf("bootstrap: %s composes %s %s, which is not a provider-azure v2 (*.azure.m.upbound.io) kind", p, gvk[0], gvk[1])
				}
				mrds[mrdPlural(gvk[1])+"."+group] = true
			}
		}
	}
	provs := []providerPackage{{Name: familyProvider, Package: packageRegistry + "provider-family-azure"}}
	for _, s := range sortedSet(services) {
		provs = append(provs, providerPackage{Name: "provider-azure-" + s, Package: packageRegistry + "provider-azure-" + s})
	}
	return provs, sortedSet(mrds), nil
}

// composedKinds lists [apiVersion, kind] of each function-patch-and-transform
// resource base in a Pipeline Composition.
func composedKinds(o map[string]any) [][2]string {
	if o["kind"] != "Composition" {
		return nil
	}
	spec, _ := o["spec"].(map[string]any)
	steps, _ := spec["pipeline"].([]any)
	var out [][2]string
	for _, s := range steps {
		step, _ := s.(map[string]any)
		input, _ := step["input"].(map[string]any)
		res, _ := input["resources"].([]any)
		for _, r := range res {
			rm, _ := r.(map[string]any)
			b, _ := rm["base"].(map[string]any)
			av, _ := b["apiVersion"].(string)
			k, _ := b["kind"].(string)
			if av != "" && k != "" {
				out = append(out, [2]string{av, k})
			}
		}
	}
	return out
}

// plural is the resource name controller-gen gives a kind, for the kinds
// provider-azure has (checked against its CRDs for those the platform uses).
func mrdPlural(kind string) string {
	k := strings.ToLower(kind)
	switch {
	case strings.HasSuffix(k, "y") && len(k) > 1 && !strings.ContainsRune("aeiou", rune(k[len(k)-2])):
		return k[:len(k)-1] + "ies"
	case strings.HasSuffix(k, "s"), strings.HasSuffix(k, "x"), strings.HasSuffix(k, "ch"), strings.HasSuffix(k, "sh"):
		return k + "es"
	}
	return k + "s"
}

func sortedSet(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// decodeAll parses every YAML document in data, skipping empty ones.
func decodeYAMLDocs(data []byte) ([]map[string]any, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var out []map[string]any
	for {
		var m map[string]any
		err := dec.Decode(&m)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		if len(m) > 0 {
			out = append(out, m)
		}
	}
}

// Objects returns every Kubernetes object in the rendered YAML files under
// dir ("" for all), by file.
func (files Files) Objects(dir string) (map[string][]map[string]any, error) {
	out := map[string][]map[string]any{}
	for _, f := range files {
		if !strings.HasSuffix(f.Path, ".yaml") || f.Path == platformconfig.Path {
			continue
		}
		if dir != "" && !strings.HasPrefix(f.Path, strings.TrimSuffix(dir, "/")+"/") {
			continue
		}
		objs, err := decodeYAMLDocs(f.Content)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.Path, err)
		}
		out[f.Path] = objs
	}
	return out, nil
}
