package bootstrap

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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
	// Version is the chart version (or a semver range); empty takes the
	// repository's latest.
	Version string `json:"version,omitempty"`
	// Path is a local chart directory or archive; it wins over Chart.
	Path   string         `json:"path,omitempty"`
	Values map[string]any `json:"values,omitempty"`
	// Timeout bounds one install or upgrade; zero means 5 minutes.
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
	case h.Path == "" && h.RepoURL == "" && !isOCI(h.Chart):
		return fmt.Errorf("%s chart %q: give its repository URL, an oci:// reference or a local path", what, h.Chart)
	}
	return nil
}

func isOCI(ref string) bool { return strings.HasPrefix(ref, "oci://") }

// ReleaseLabel marks the chart releases idp installed, with the platform's
// name: removing what idp installed on an existing seed uninstalls exactly
// those. It is kept across upgrades.
const ReleaseLabel = "idp.back-stack.io/bootstrap"

// A chart is installed the way Argo CD installs one: Helm's chart loader and
// template engine render it, and the objects are applied server-side with
// the pipeline's field manager, in Helm's install order, with the chart's
// hooks run around them. What Helm's release storage gave the bootstrap
// (is this chart at this version with these values installed? which objects
// does it own, to prune on upgrade and delete on uninstall? did idp install
// it?) is a release record: one Secret in the release's namespace.
const (
	releaseSecretPrefix = "idp-release."
	releaseSecretType   = corev1.SecretType("idp.back-stack.io/release.v1")
	releaseNameLabel    = "idp.back-stack.io/release"
	releaseDataKey      = "release"
)

type releaseStatus string

const (
	statusPendingInstall releaseStatus = "pending-install"
	statusPendingUpgrade releaseStatus = "pending-upgrade"
	statusDeployed       releaseStatus = "deployed"
)

// chartRelease is a release record.
type chartRelease struct {
	Name       string         `json:"name"`
	Namespace  string         `json:"namespace"`
	Chart      string         `json:"chart"`
	Version    string         `json:"version"`
	AppVersion string         `json:"appVersion,omitempty"`
	Revision   int            `json:"revision"`
	Status     releaseStatus  `json:"status"`
	Values     map[string]any `json:"values,omitempty"`
	// Objects are what the chart's templates rendered (hooks and crds/
	// excluded, as Helm keeps them out of a release); while an install or
	// upgrade is pending, also what the previous revision had, so that an
	// interrupted run never loses track of an object.
	Objects []ObjectRef `json:"objects"`
	Updated time.Time   `json:"updated"`

	// platform is the ReleaseLabel of the record: the platform that
	// installed it, empty when idp took over someone else's release.
	platform string
}

// helmClient installs one chart on one cluster.
type helmClient struct {
	c        *cluster
	chart    HelmChart
	out      *StepOutput
	platform string
}

// helm is a chart client for chart on c.
func (p *Pipeline) helm(c *cluster, chart HelmChart, out *StepOutput) (*helmClient, error) {
	if c == nil {
		return nil, fmt.Errorf("no cluster for chart %s", chart.Release)
	}
	return &helmClient{c: c, chart: chart, out: out, platform: p.cfg.Platform}, nil
}

// installedByIdp reports whether idp installed rel for platform.
func installedByIdp(rel *chartRelease, platform string) bool {
	return rel != nil && rel.platform == platform
}

// recordRelease notes a release in the checkpoint.
func (p *Pipeline) recordRelease(clusterName string, rel *chartRelease) {
	if rel == nil {
		return
	}
	p.state().setRelease(ReleaseRecord{Cluster: clusterName, Namespace: rel.Namespace, Name: rel.Name,
		Chart: rel.Chart, Version: rel.Version, Revision: rel.Revision, Created: installedByIdp(rel, p.cfg.Platform)})
}

func (h *helmClient) secretName() string { return releaseSecretPrefix + h.chart.Release }

// latest is the chart's release record, nil when there is none.
func (h *helmClient) latest() (*chartRelease, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := h.c.kube.CoreV1().Secrets(h.chart.Namespace).Get(ctx, h.secretName(), metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the release record of %s/%s on the %s cluster: %w", h.chart.Namespace, h.chart.Release, h.c.name, err)
	}
	var rel chartRelease
	if err := json.Unmarshal(s.Data[releaseDataKey], &rel); err != nil {
		return nil, fmt.Errorf("release record %s/%s on the %s cluster is not readable (%v): delete the Secret to install the chart afresh",
			h.chart.Namespace, h.secretName(), h.c.name, err)
	}
	rel.platform = s.Labels[ReleaseLabel]
	return &rel, nil
}

// save writes the release record.
func (h *helmClient) save(ctx context.Context, rel *chartRelease) error {
	data, err := json.Marshal(rel)
	if err != nil {
		return err
	}
	labels := map[string]string{managedByLabel: "idp", releaseNameLabel: rel.Name}
	if rel.platform != "" {
		labels[ReleaseLabel] = rel.platform
	}
	s := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: h.secretName(), Namespace: rel.Namespace, Labels: labels},
		Type:       releaseSecretType,
		Data:       map[string][]byte{releaseDataKey: data},
	}
	secrets := h.c.kube.CoreV1().Secrets(rel.Namespace)
	cur, err := secrets.Get(ctx, s.Name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		_, err = secrets.Create(ctx, s, metav1.CreateOptions{FieldManager: h.c.manager})
	case err == nil:
		s.ResourceVersion = cur.ResourceVersion
		_, err = secrets.Update(ctx, s, metav1.UpdateOptions{FieldManager: h.c.manager})
	}
	if err != nil {
		return fmt.Errorf("writing the release record of %s/%s on the %s cluster: %w", rel.Namespace, rel.Name, h.c.name, err)
	}
	return nil
}

// upToDate reports whether rel is deployed with the chart's version and values.
func (h *helmClient) upToDate(rel *chartRelease) bool {
	if rel == nil || rel.Status != statusDeployed {
		return false
	}
	if h.chart.Version != "" && rel.Version != h.chart.Version {
		return false
	}
	if h.chart.Path == "" && rel.Chart != chartName(h.chart.Chart) {
		return false
	}
	return sameValues(rel.Values, h.chart.Values)
}

// upgradeInstall is `helm upgrade --install`: install when absent, upgrade
// when the chart or values differ, nothing when the release is up to date.
// installed reports whether this call installed the release.
func (h *helmClient) upgradeInstall(ctx context.Context) (rel *chartRelease, installed bool, err error) {
	cur, err := h.latest()
	if err != nil {
		return nil, false, err
	}
	if h.upToDate(cur) {
		h.out.Logf("chart release %s/%s revision %d is deployed with chart %s %s: nothing to do",
			cur.Namespace, cur.Name, cur.Revision, cur.Chart, cur.Version)
		return cur, false, nil
	}
	timeout := h.chart.Timeout
	if timeout == 0 {
		timeout = 5 * time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	// An install is a release without a record, or whose first revision
	// never finished; anything else is an upgrade.
	installed = cur == nil || (cur.Status == statusPendingInstall && cur.Revision <= 1)
	next := &chartRelease{Name: h.chart.Release, Namespace: h.chart.Namespace, Revision: 1, Status: statusPendingInstall}
	switch {
	case cur == nil:
		owned, err := h.helmOwned(ctx)
		if err != nil {
			return nil, false, err
		}
		if owned == "" {
			next.platform = h.platform
		} else {
			// Someone installed this release with Helm: take it over as
			// `helm upgrade` would, and never uninstall it.
			h.out.Logf("%s/%s was installed with Helm (%s): idp applies the chart over it and will leave it installed", h.chart.Namespace, h.chart.Release, owned)
		}
	default:
		next.platform, next.Revision = cur.platform, cur.Revision+1
		if !installed {
			next.Status = statusPendingUpgrade
		}
		if cur.Status != statusDeployed {
			h.out.Logf("chart release %s/%s revision %d was left %s by an interrupted run; applying it again", cur.Namespace, cur.Name, cur.Revision, cur.Status)
		}
	}
	if installed {
		h.out.Logf("installing chart %s as release %s/%s", h.chart.Source(), h.chart.Namespace, h.chart.Release)
	} else {
		h.out.Logf("upgrading release %s/%s (revision %d, %s) to %s", cur.Namespace, cur.Name, cur.Revision, cur.Status, h.chart.Source())
	}

	if err := h.ensureNamespace(ctx); err != nil {
		return nil, false, err
	}
	chrt, err := h.load(ctx)
	if err != nil {
		return nil, false, err
	}
	r, err := h.render(ctx, chrt, next.Revision, installed)
	if err != nil {
		return nil, false, err
	}
	next.Chart, next.Version, next.AppVersion = chrt.Metadata.Name, chrt.Metadata.Version, chrt.Metadata.AppVersion
	next.Values = h.chart.Values
	var previous []ObjectRef
	if cur != nil {
		previous = cur.Objects
	}
	rendered := make([]ObjectRef, 0, len(r.objects))
	for _, o := range r.objects {
		rendered = append(rendered, o.ref)
	}
	// Pending: the record names every object this run may create.
	next.Objects, next.Updated = unionRefs(previous, rendered), time.Now().UTC()
	if err := h.save(ctx, next); err != nil {
		return nil, false, err
	}

	if err := h.applyCRDs(ctx, r.crds); err != nil {
		return nil, false, err
	}
	pre, post := hookPreUpgrade, hookPostUpgrade
	if installed {
		pre, post = hookPreInstall, hookPostInstall
	}
	if err := h.runHooks(ctx, r.hooks, pre); err != nil {
		return nil, false, err
	}
	for _, o := range r.objects {
		if err := h.applyObject(ctx, o); err != nil {
			return nil, false, err
		}
	}
	if err := h.runHooks(ctx, r.hooks, post); err != nil {
		return nil, false, err
	}
	if err := h.prune(ctx, previous, rendered); err != nil {
		return nil, false, err
	}
	next.Objects, next.Status, next.Updated = rendered, statusDeployed, time.Now().UTC()
	if err := h.save(ctx, next); err != nil {
		return nil, false, err
	}
	h.out.Logf("chart release %s/%s revision %d deployed: %d objects applied server-side as %s", next.Namespace, next.Name, next.Revision, len(rendered), h.c.manager)
	return next, installed, nil
}

// uninstall deletes what the release's record names (in Helm's uninstall
// order; objects marked helm.sh/resource-policy: keep stay) and the record;
// a missing release is not an error.
func (h *helmClient) uninstall(ctx context.Context) (bool, error) {
	cur, err := h.latest()
	if err != nil || cur == nil {
		return false, err
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	if err := h.deleteObjects(ctx, cur.Objects); err != nil {
		return false, err
	}
	err = h.c.kube.CoreV1().Secrets(cur.Namespace).Delete(ctx, h.secretName(), metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return false, fmt.Errorf("deleting the release record of %s/%s on the %s cluster: %w", cur.Namespace, cur.Name, h.c.name, err)
	}
	return true, nil
}

// prune deletes what the previous revision had and this one no longer renders.
func (h *helmClient) prune(ctx context.Context, previous, rendered []ObjectRef) error {
	var gone []ObjectRef
	for _, r := range previous {
		if !slices.Contains(rendered, r) {
			gone = append(gone, r)
		}
	}
	return h.deleteObjects(ctx, gone)
}

// helmOwned names the Helm release of the same name in the namespace, if
// there is one (Helm's own storage: Secrets labelled owner=helm).
func (h *helmClient) helmOwned(ctx context.Context) (string, error) {
	l, err := h.c.kube.CoreV1().Secrets(h.chart.Namespace).List(ctx, metav1.ListOptions{LabelSelector: "owner=helm,name=" + h.chart.Release})
	if apierrors.IsNotFound(err) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("looking for a Helm release %s/%s on the %s cluster: %w", h.chart.Namespace, h.chart.Release, h.c.name, err)
	}
	for _, s := range l.Items {
		if st := s.Labels["status"]; st != "uninstalled" && st != "" {
			return "revision " + s.Labels["version"] + ", " + st, nil
		}
	}
	return "", nil
}

// ensureNamespace creates the release's namespace when it is missing, as
// `helm install --create-namespace` does; it is never deleted.
func (h *helmClient) ensureNamespace(ctx context.Context) error {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: h.chart.Namespace}}
	_, err := h.c.kube.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{FieldManager: h.c.manager})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating namespace %s on the %s cluster: %w", h.chart.Namespace, h.c.name, err)
	}
	return nil
}

func unionRefs(a, b []ObjectRef) []ObjectRef {
	out := slices.Clone(a)
	for _, r := range b {
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out
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
