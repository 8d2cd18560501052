package bootstrap

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/chart/loader"
	chartv2 "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/cli"
	"helm.sh/helm/v4/pkg/kube"
	"helm.sh/helm/v4/pkg/registry"
	ri "helm.sh/helm/v4/pkg/release"
	rcommon "helm.sh/helm/v4/pkg/release/common"
	release "helm.sh/helm/v4/pkg/release/v1"
	"helm.sh/helm/v4/pkg/storage/driver"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// HelmChart is a chart the pipeline installs, from a chart repository, an
// OCI reference or a local path.
type HelmChart struct {
	Release   string `json:"release"`
	Namespace string `json:"namespace"`
	// RepoURL is the chart repository (https://charts.crossplane.io/stable);
	// empty for an oci:// Chart or a local Path.
	RepoURL string `json:"repoURL,omitempty"`
	// Chart is the chart's name in RepoURL, or an oci:// reference.
	Chart string `json:"chart,omitempty"`
	// Version is the chart version; empty takes the repository's latest.
	Version string `json:"version,omitempty"`
	// Path is a local chart directory or archive; it wins over Chart.
	Path   string         `json:"path,omitempty"`
	Values map[string]any `json:"values,omitempty"`
	// Timeout bounds one Helm operation; zero means 5 minutes.
	Timeout time.Duration `json:"timeout,omitempty"`
}

// Default charts; their versions belong in the platform configuration.
var (
	DefaultCrossplaneChart = HelmChart{Release: "crossplane", Namespace: "crossplane-system",
		RepoURL: "https://charts.crossplane.io/stable", Chart: "crossplane", Version: "2.1.0"}
	DefaultArgoCDChart = HelmChart{Release: "argocd", Namespace: "argocd",
		RepoURL: "https://argoproj.github.io/argo-helm", Chart: "argo-cd"}
)

// ChartFor is the chart the pipeline installs for a release the platform's
// Argo CD Applications describe (HelmReleases): the same chart, version,
// release name, namespace and values, so that Argo CD finds the release in
// the state Git describes. Argo CD names an OCI repository without a scheme.
func ChartFor(r HelmRelease) HelmChart {
	h := HelmChart{Release: r.ReleaseName, Namespace: r.Namespace, RepoURL: r.RepoURL, Chart: r.Chart, Version: r.Version, Values: r.Values}
	if r.RepoURL != "" && !strings.Contains(r.RepoURL, "://") {
		h.RepoURL, h.Chart = "", "oci://"+strings.TrimSuffix(r.RepoURL, "/")+"/"+r.Chart
	}
	return h
}

// Source says where the chart comes from, for plans and logs.
func (h HelmChart) Source() string {
	switch {
	case h.Path != "":
		return h.Path
	case h.RepoURL != "":
		v := h.Version
		if v == "" {
			v = "latest"
		}
		return fmt.Sprintf("%s %s from %s", h.Chart, v, h.RepoURL)
	}
	return strings.TrimSpace(h.Chart + " " + h.Version)
}

func (h HelmChart) validate(what string) error {
	switch {
	case h.Release == "" || h.Namespace == "":
		return fmt.Errorf("%s chart: release and namespace are required", what)
	case h.Path == "" && h.Chart == "":
		return fmt.Errorf("%s chart: a chart name (with a repository URL or oci://) or a local path is required", what)
	case h.Path == "" && h.RepoURL == "" && !registry.IsOCI(h.Chart):
		return fmt.Errorf("%s chart %q: give its repository URL, an oci:// reference or a local path", what, h.Chart)
	}
	return nil
}

// ReleaseLabel marks the Helm releases idp installed, with the platform's
// name: removing what idp installed on an existing seed uninstalls exactly
// those. Helm keeps a release's labels across upgrades.
const ReleaseLabel = "idp.back-stack.io/bootstrap"

// helmClient runs Helm actions against one cluster and namespace.
type helmClient struct {
	cfg      *action.Configuration
	chart    HelmChart
	out      *StepOutput
	platform string
}

// installedByIdp reports whether idp installed rel for platform.
func installedByIdp(rel *release.Release, platform string) bool {
	return rel != nil && rel.Labels[ReleaseLabel] == platform
}

func newHelmClient(c *cluster, chart HelmChart, out *StepOutput) (*helmClient, error) {
	ac := action.NewConfiguration(action.ConfigurationSetLogger(&helmLog{out: out}))
	getter := &restGetter{cfg: c.cfg, rec: c.rec, namespace: chart.Namespace}
	if err := ac.Init(getter, chart.Namespace, "secret"); err != nil {
		return nil, fmt.Errorf("helm on the %s cluster: %w", c.name, err)
	}
	return &helmClient{cfg: ac, chart: chart, out: out}, nil
}

// latest is the newest revision of the chart's release, nil when there is none.
func (h *helmClient) latest() (*release.Release, error) {
	hist := action.NewHistory(h.cfg)
	hist.Max = 1
	rels, err := hist.Run(h.chart.Release)
	if errors.Is(err, driver.ErrReleaseNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading Helm release %s/%s: %w", h.chart.Namespace, h.chart.Release, err)
	}
	var newest *release.Release
	for _, r := range rels {
		rel, err := asV1(r)
		if err != nil {
			return nil, err
		}
		if newest == nil || rel.Version > newest.Version {
			newest = rel
		}
	}
	return newest, nil
}

// upToDate reports whether rel is deployed with the chart's version and values.
func (h *helmClient) upToDate(rel *release.Release) bool {
	if rel == nil || rel.Info == nil || rel.Info.Status != rcommon.StatusDeployed || rel.Chart == nil || rel.Chart.Metadata == nil {
		return false
	}
	if h.chart.Version != "" && rel.Chart.Metadata.Version != h.chart.Version {
		return false
	}
	if h.chart.Path == "" && rel.Chart.Metadata.Name != chartName(h.chart.Chart) {
		return false
	}
	return sameValues(rel.Config, h.chart.Values)
}

// upgradeInstall is `helm upgrade --install`: install when absent, upgrade
// when the chart or values differ, nothing when the release is up to date.
// installed reports whether this call installed the release.
func (h *helmClient) upgradeInstall(ctx context.Context) (rel *release.Release, installed bool, err error) {
	cur, err := h.latest()
	if err != nil {
		return nil, false, err
	}
	if h.upToDate(cur) {
		h.out.Logf("Helm release %s/%s revision %d is deployed with chart %s %s: nothing to do",
			cur.Namespace, cur.Name, cur.Version, cur.Chart.Metadata.Name, cur.Chart.Metadata.Version)
		return cur, false, nil
	}
	if cur != nil && cur.Info != nil && cur.Info.Status.IsPending() {
		// A run that died during an install or upgrade leaves the release
		// pending, and Helm refuses to touch a pending release. Nothing
		// else works on it (idp holds the bootstrap lock), so mark it
		// failed and upgrade it, as `helm rollback` advice would.
		h.out.Logf("Helm release %s/%s revision %d was left %s by an interrupted run; marking it failed to continue",
			cur.Namespace, cur.Name, cur.Version, cur.Info.Status)
		cur.SetStatus(rcommon.StatusFailed, "interrupted; idp bootstrap continues with an upgrade")
		if err := h.cfg.Releases.Update(cur); err != nil {
			return nil, false, fmt.Errorf("marking Helm release %s failed: %w", cur.Name, err)
		}
	}
	chrt, err := h.load()
	if err != nil {
		return nil, false, err
	}
	timeout := h.chart.Timeout
	if timeout == 0 {
		timeout = 5 * time.Minute
	}
	var res ri.Releaser
	installed = cur == nil || cur.Info == nil || cur.Info.Status == rcommon.StatusUninstalled
	if installed {
		h.out.Logf("installing Helm release %s/%s from %s", h.chart.Namespace, h.chart.Release, h.chart.Source())
		in := action.NewInstall(h.cfg)
		in.ReleaseName, in.Namespace, in.CreateNamespace = h.chart.Release, h.chart.Namespace, true
		in.Replace = cur != nil
		in.Labels = map[string]string{ReleaseLabel: h.platform}
		in.Timeout = timeout
		// The pipeline waits on what the chart's controllers do
		// (CRDs served, packages Healthy, the app-of-apps Synced), which
		// says more than Deployments being available.
		in.WaitStrategy = kube.HookOnlyStrategy
		res, err = in.RunWithContext(ctx, chrt, h.chart.Values)
	} else {
		h.out.Logf("upgrading Helm release %s/%s (revision %d, %s) to %s", cur.Namespace, cur.Name, cur.Version, cur.Info.Status, h.chart.Source())
		up := action.NewUpgrade(h.cfg)
		up.Install, up.Namespace, up.Timeout = true, h.chart.Namespace, timeout
		up.WaitStrategy = kube.HookOnlyStrategy
		up.MaxHistory = 10
		res, err = up.RunWithContext(ctx, h.chart.Release, chrt, h.chart.Values)
	}
	if err != nil {
		return nil, false, fmt.Errorf("helm upgrade --install %s/%s: %w", h.chart.Namespace, h.chart.Release, err)
	}
	if rel, err = asV1(res); err != nil {
		return nil, false, err
	}
	h.out.Logf("Helm release %s/%s revision %d %s", rel.Namespace, rel.Name, rel.Version, rel.Info.Status)
	return rel, installed, nil
}

// recordRelease notes a release in the checkpoint.
func (p *Pipeline) recordRelease(clusterName string, rel *release.Release) {
	if rel == nil || rel.Chart == nil || rel.Chart.Metadata == nil {
		return
	}
	p.state().setRelease(ReleaseRecord{Cluster: clusterName, Namespace: rel.Namespace, Name: rel.Name,
		Chart: rel.Chart.Metadata.Name, Version: rel.Chart.Metadata.Version, Revision: rel.Version,
		Created: installedByIdp(rel, p.cfg.Platform)})
}

// helm is a Helm client for chart on c.
func (p *Pipeline) helm(c *cluster, chart HelmChart, out *StepOutput) (*helmClient, error) {
	h, err := newHelmClient(c, chart, out)
	if err != nil {
		return nil, err
	}
	h.platform = p.cfg.Platform
	return h, nil
}

// uninstall removes the release; a missing release is not an error.
func (h *helmClient) uninstall(ctx context.Context) (bool, error) {
	cur, err := h.latest()
	if err != nil || cur == nil {
		return false, err
	}
	un := action.NewUninstall(h.cfg)
	un.IgnoreNotFound, un.WaitStrategy, un.Timeout = true, kube.HookOnlyStrategy, 5*time.Minute
	if _, err := un.Run(h.chart.Release); err != nil {
		return false, fmt.Errorf("helm uninstall %s/%s: %w", h.chart.Namespace, h.chart.Release, err)
	}
	return true, nil
}

func (h *helmClient) load() (*chartv2.Chart, error) {
	name := h.chart.Chart
	// Install carries the registry client LocateChart needs for oci://.
	locate := action.NewInstall(h.cfg)
	locate.RepoURL, locate.Version = h.chart.RepoURL, h.chart.Version
	if h.chart.Path != "" {
		name, locate.RepoURL, locate.Version = h.chart.Path, "", ""
	}
	settings := cli.New()
	if registry.IsOCI(name) {
		rc, err := registry.NewClient(registry.ClientOptWriter(io.Discard))
		if err != nil {
			return nil, err
		}
		locate.SetRegistryClient(rc)
	}
	path, err := locate.LocateChart(name, settings)
	if err != nil {
		return nil, fmt.Errorf("finding chart %s: %w", h.chart.Source(), err)
	}
	c, err := loader.Load(path)
	if err != nil {
		return nil, fmt.Errorf("loading chart %s: %w", path, err)
	}
	chrt, ok := c.(*chartv2.Chart)
	if !ok {
		return nil, fmt.Errorf("chart %s: unsupported chart API (%T)", path, c)
	}
	return chrt, nil
}

func asV1(r ri.Releaser) (*release.Release, error) {
	switch rel := r.(type) {
	case *release.Release:
		return rel, nil
	case release.Release:
		return &rel, nil
	}
	return nil, fmt.Errorf("unsupported Helm release type %T", r)
}

func chartName(ref string) string {
	ref = strings.TrimSuffix(ref, "/")
	if i := strings.LastIndex(ref, "/"); i >= 0 {
		ref = ref[i+1:]
	}
	if i := strings.Index(ref, ":"); i >= 0 {
		ref = ref[:i]
	}
	return ref
}

func sameValues(a, b map[string]any) bool {
	if len(a) == 0 && len(b) == 0 {
		return true
	}
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(ja) == string(jb)
}

// restGetter hands Helm the pipeline's own connection, with an in-memory
// discovery cache (kubectl's on-disk one would go stale while CRDs appear).
type restGetter struct {
	cfg       *rest.Config
	rec       ClusterRecord
	namespace string
}

func (g *restGetter) ToRESTConfig() (*rest.Config, error) { return rest.CopyConfig(g.cfg), nil }

func (g *restGetter) ToDiscoveryClient() (discovery.CachedDiscoveryInterface, error) {
	dc, err := discovery.NewDiscoveryClientForConfig(rest.CopyConfig(g.cfg))
	if err != nil {
		return nil, err
	}
	return memory.NewMemCacheClient(dc), nil
}

func (g *restGetter) ToRESTMapper() (meta.RESTMapper, error) {
	dc, err := g.ToDiscoveryClient()
	if err != nil {
		return nil, err
	}
	return restmapper.NewShortcutExpander(restmapper.NewDeferredDiscoveryRESTMapper(dc), dc, nil), nil
}

func (g *restGetter) ToRawKubeConfigLoader() clientcmd.ClientConfig {
	rules := &clientcmd.ClientConfigLoadingRules{ExplicitPath: g.rec.Kubeconfig}
	return clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules,
		&clientcmd.ConfigOverrides{CurrentContext: g.rec.Context, Context: clientcmdapi.Context{Namespace: g.namespace}})
}

// helmLog turns Helm's slog records into step log lines; debug is dropped.
type helmLog struct {
	out   *StepOutput
	attrs []slog.Attr
}

func (l *helmLog) Enabled(_ context.Context, lvl slog.Level) bool { return lvl >= slog.LevelInfo }

func (l *helmLog) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString("helm: ")
	b.WriteString(r.Message)
	add := func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
		return true
	}
	for _, a := range l.attrs {
		add(a)
	}
	r.Attrs(add)
	l.out.Logf("%s", b.String())
	return nil
}

func (l *helmLog) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &helmLog{out: l.out, attrs: append(append([]slog.Attr(nil), l.attrs...), attrs...)}
}

func (l *helmLog) WithGroup(string) slog.Handler { return l }
