package bootstrap

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"slices"
	"sort"
	"strings"

	"github.com/Masterminds/semver/v3"
	"helm.sh/helm/v4/pkg/chart/common"
	"helm.sh/helm/v4/pkg/chart/common/util"
	chartv2 "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	chartutil "helm.sh/helm/v4/pkg/chart/v2/util"
	"helm.sh/helm/v4/pkg/engine"
	"helm.sh/helm/v4/pkg/registry"
	release "helm.sh/helm/v4/pkg/release/v1"
	releaseutil "helm.sh/helm/v4/pkg/release/v1/util"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"sigs.k8s.io/yaml"
)

// renderedChart is a chart rendered for one revision of a release.
type renderedChart struct {
	crds    []renderedObject // the chart's crds/ directory
	hooks   []renderedHook   // by weight, then Helm's install order
	objects []renderedObject // Helm's install order
}

type renderedObject struct {
	source string // the template it came from
	obj    *unstructured.Unstructured
	ref    ObjectRef // with the namespace the object goes to
}

type renderedHook struct {
	renderedObject
	events   []release.HookEvent
	weight   int
	policies []release.HookDeletePolicy
}

const (
	hookPreInstall  = release.HookPreInstall
	hookPostInstall = release.HookPostInstall
	hookPreUpgrade  = release.HookPreUpgrade
	hookPostUpgrade = release.HookPostUpgrade
)

// load finds the chart: a local path, an oci:// reference, or a chart
// repository's index.
func (h *helmClient) load(ctx context.Context) (*chartv2.Chart, error) {
	var (
		c   *chartv2.Chart
		err error
	)
	switch {
	case h.chart.Path != "":
		c, err = loader.Load(h.chart.Path)
	case isOCI(h.chart.Chart):
		c, err = pullOCI(h.chart.Chart, h.chart.Version)
	default:
		c, err = fromRepository(ctx, http.DefaultClient, h.chart.RepoURL, h.chart.Chart, h.chart.Version)
	}
	if err != nil {
		return nil, fmt.Errorf("loading chart %s: %w", h.chart.Source(), err)
	}
	if c.Metadata == nil {
		return nil, fmt.Errorf("chart %s has no Chart.yaml", h.chart.Source())
	}
	return c, nil
}

func pullOCI(ref, version string) (*chartv2.Chart, error) {
	rc, err := registry.NewClient(registry.ClientOptWriter(io.Discard))
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(ref)
	if err != nil {
		return nil, err
	}
	_, u, err = rc.ValidateReference(ref, version, u)
	if err != nil {
		return nil, err
	}
	res, err := rc.Pull(strings.TrimPrefix(u.String(), registry.OCIScheme+"://"))
	if err != nil {
		return nil, err
	}
	return loader.LoadArchive(bytes.NewReader(res.Chart.Data))
}

// repoIndex is the part of a chart repository's index.yaml a download needs.
type repoIndex struct {
	Entries map[string][]struct {
		Version string   `json:"version"`
		URLs    []string `json:"urls"`
		Digest  string   `json:"digest"`
	} `json:"entries"`
}

// fromRepository downloads a chart from a chart repository: the version
// that matches (an exact version, a semver range, or the newest stable one
// when empty), checked against the index's digest.
func fromRepository(ctx context.Context, client *http.Client, repoURL, name, version string) (*chartv2.Chart, error) {
	base, err := url.Parse(strings.TrimSuffix(repoURL, "/") + "/")
	if err != nil {
		return nil, fmt.Errorf("repository URL %q: %w", repoURL, err)
	}
	data, err := download(ctx, client, base.JoinPath("index.yaml").String())
	if err != nil {
		return nil, err
	}
	var idx repoIndex
	if err := yaml.Unmarshal(data, &idx); err != nil {
		return nil, fmt.Errorf("the index of %s: %w", repoURL, err)
	}
	entries := idx.Entries[name]
	if len(entries) == 0 {
		return nil, fmt.Errorf("repository %s has no chart %q", repoURL, name)
	}
	constraint := version
	if constraint == "" {
		constraint = "*"
	}
	cons, consErr := semver.NewConstraint(constraint)
	best, bestVersion := -1, (*semver.Version)(nil)
	for i, e := range entries {
		if e.Version == version {
			best = i
			break
		}
		v, err := semver.NewVersion(e.Version)
		if err != nil || consErr != nil || !cons.Check(v) {
			continue
		}
		if bestVersion == nil || v.GreaterThan(bestVersion) {
			best, bestVersion = i, v
		}
	}
	if best < 0 || len(entries[best].URLs) == 0 {
		return nil, fmt.Errorf("repository %s has no version %q of chart %s", repoURL, version, name)
	}
	e := entries[best]
	ref, err := url.Parse(e.URLs[0])
	if err != nil {
		return nil, err
	}
	archive, err := download(ctx, client, base.ResolveReference(ref).String())
	if err != nil {
		return nil, err
	}
	if e.Digest != "" {
		sum := sha256.Sum256(archive)
		if got := hex.EncodeToString(sum[:]); got != e.Digest {
			return nil, fmt.Errorf("chart %s %s: the archive's sha256 is %s, the index says %s", name, e.Version, got, e.Digest)
		}
	}
	return loader.LoadArchive(bytes.NewReader(archive))
}

func download(ctx context.Context, client *http.Client, u string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", "idp")
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	return io.ReadAll(resp.Body)
}

// render runs Helm's template engine on the chart as `helm install` or
// `helm upgrade` would for this revision: the cluster's capabilities, the
// chart's dependencies' conditions, its values schema, `lookup` against the
// cluster. NOTES.txt and test hooks are left out.
func (h *helmClient) render(ctx context.Context, chrt *chartv2.Chart, revision int, install bool) (*renderedChart, error) {
	caps, err := capabilities(h.c.kube.Discovery())
	if err != nil {
		return nil, fmt.Errorf("the %s cluster's API versions: %w", h.c.name, err)
	}
	if kv := chrt.Metadata.KubeVersion; kv != "" && !chartutil.IsCompatibleRange(kv, caps.KubeVersion.String()) {
		return nil, fmt.Errorf("chart %s requires Kubernetes %s; the %s cluster runs %s", chrt.Name(), kv, h.c.name, caps.KubeVersion.Version)
	}
	if err := chartutil.ProcessDependencies(chrt, h.chart.Values); err != nil {
		return nil, fmt.Errorf("chart %s's dependencies: %w", chrt.Name(), err)
	}
	opts := common.ReleaseOptions{Name: h.chart.Release, Namespace: h.chart.Namespace, Revision: revision, IsInstall: install, IsUpgrade: !install}
	vals, err := util.ToRenderValuesWithSchemaValidation(chrt, h.chart.Values, opts, caps, false)
	if err != nil {
		return nil, fmt.Errorf("chart %s's values: %w", chrt.Name(), err)
	}
	files, err := engine.New(h.c.cfg).RenderWithContext(ctx, chrt, vals)
	if err != nil {
		return nil, fmt.Errorf("rendering chart %s: %w", chrt.Name(), err)
	}
	for name := range files {
		if strings.HasSuffix(name, "NOTES.txt") {
			delete(files, name)
		}
	}
	hooks, manifests, err := releaseutil.SortManifests(files, caps.APIVersions, releaseutil.InstallOrder)
	if err != nil {
		return nil, fmt.Errorf("chart %s rendered invalid YAML: %w", chrt.Name(), err)
	}
	out := &renderedChart{}
	for _, crd := range chrt.CRDObjects() {
		objs, err := decode(crd.Filename, string(crd.File.Data))
		if err != nil {
			return nil, err
		}
		out.crds = append(out.crds, objs...)
	}
	for _, m := range manifests {
		objs, err := decode(m.Name, m.Content)
		if err != nil {
			return nil, err
		}
		out.objects = append(out.objects, objs...)
	}
	for _, hk := range hooks {
		if slices.Contains(hk.Events, release.HookTest) {
			continue
		}
		objs, err := decode(hk.Path, hk.Manifest)
		if err != nil {
			return nil, err
		}
		for _, o := range objs {
			out.hooks = append(out.hooks, renderedHook{renderedObject: o, events: hk.Events, weight: hk.Weight, policies: hk.DeletePolicies})
		}
	}
	sort.SliceStable(out.hooks, func(i, j int) bool { return out.hooks[i].weight < out.hooks[j].weight })
	if err := h.setNamespaces(ctx, out); err != nil {
		return nil, err
	}
	return out, nil
}

// decode turns one rendered document (a List is flattened) into objects.
func decode(source, doc string) ([]renderedObject, error) {
	var m map[string]any
	if err := yaml.Unmarshal([]byte(doc), &m); err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	if len(m) == 0 {
		return nil, nil
	}
	u := &unstructured.Unstructured{Object: m}
	items := []*unstructured.Unstructured{u}
	if u.IsList() {
		l, err := u.ToList()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", source, err)
		}
		items = items[:0]
		for i := range l.Items {
			items = append(items, &l.Items[i])
		}
	}
	var out []renderedObject
	for _, o := range items {
		if o.GetKind() == "" || o.GetAPIVersion() == "" || o.GetName() == "" {
			return nil, fmt.Errorf("%s: an object without apiVersion, kind or metadata.name", source)
		}
		out = append(out, renderedObject{source: source, obj: o})
	}
	return out, nil
}

// setNamespaces gives namespaced objects without a namespace the
// release's, as Helm does, and takes it off cluster-scoped ones. A kind the
// cluster does not serve yet has its scope from the chart's own CRD.
func (h *helmClient) setNamespaces(ctx context.Context, r *renderedChart) error {
	scopes := map[schema.GroupKind]bool{} // namespaced, by the chart's CRDs
	all := [][]renderedObject{r.crds, r.objects}
	for i := range r.hooks {
		all = append(all, []renderedObject{r.hooks[i].renderedObject})
	}
	for _, objs := range all {
		for _, o := range objs {
			if o.obj.GetKind() == "CustomResourceDefinition" {
				group, _, _ := unstructured.NestedString(o.obj.Object, "spec", "group")
				kind, _, _ := unstructured.NestedString(o.obj.Object, "spec", "names", "kind")
				scope, _, _ := unstructured.NestedString(o.obj.Object, "spec", "scope")
				scopes[schema.GroupKind{Group: group, Kind: kind}] = scope != "Cluster"
			}
		}
	}
	set := func(o *renderedObject) error {
		gvk := o.obj.GroupVersionKind()
		_, namespaced, err := h.c.pool.Resource(ctx, gvk)
		if err != nil {
			ok, known := scopes[gvk.GroupKind()]
			if served, serr := h.c.served(ctx, gvk); serr != nil || served || !known {
				if serr == nil && !served {
					return fmt.Errorf("%s: the %s cluster does not serve %s and the chart does not define it", o.source, h.c.name, gvk.Kind+"."+gvk.Group)
				}
				return fmt.Errorf("%s: %w", o.source, err)
			}
			namespaced = ok
		}
		switch {
		case !namespaced:
			o.obj.SetNamespace("")
		case o.obj.GetNamespace() == "":
			o.obj.SetNamespace(h.chart.Namespace)
		}
		o.ref = refOf(o.obj)
		return nil
	}
	for _, objs := range [][]renderedObject{r.crds, r.objects} {
		for i := range objs {
			if err := set(&objs[i]); err != nil {
				return err
			}
		}
	}
	for i := range r.hooks {
		if err := set(&r.hooks[i].renderedObject); err != nil {
			return err
		}
	}
	return nil
}

// capabilities are what `helm install` tells templates about the cluster
// (.Capabilities): its version and every served group/version and
// group/version/kind.
func capabilities(dc discovery.DiscoveryInterface) (*common.Capabilities, error) {
	sv, err := dc.ServerVersion()
	if err != nil {
		return nil, err
	}
	groups, resources, err := dc.ServerGroupsAndResources()
	if err != nil && !discovery.IsGroupDiscoveryFailedError(err) {
		return nil, err
	}
	seen := map[string]bool{}
	var versions common.VersionSet
	add := func(v string) {
		if !seen[v] {
			seen[v] = true
			versions = append(versions, v)
		}
	}
	for _, g := range groups {
		for _, gv := range g.Versions {
			add(gv.GroupVersion)
		}
	}
	for _, r := range resources {
		for _, res := range r.APIResources {
			add(path.Join(r.GroupVersion, res.Kind))
		}
	}
	return &common.Capabilities{
		APIVersions: versions,
		KubeVersion: common.KubeVersion{Version: sv.GitVersion, Major: sv.Major, Minor: sv.Minor},
		HelmVersion: common.DefaultCapabilities.HelmVersion,
	}, nil
}
