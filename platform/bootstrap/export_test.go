package bootstrap

import "context"

// ChartClient drives the chart installer in tests, on the cluster a
// kubeconfig names, with the pipeline's field manager.
type ChartClient struct{ h *helmClient }

func NewChartClient(kubeconfig, platform string, chart HelmChart, logf func(string)) (*ChartClient, error) {
	c, err := connect("test", ClusterRecord{Kubeconfig: kubeconfig}, DefaultFieldManager)
	if err != nil {
		return nil, err
	}
	out := &StepOutput{emit: func(ev Event) { logf(ev.Line) }}
	return &ChartClient{h: &helmClient{c: c, chart: chart, out: out, platform: platform}}, nil
}

// Install is upgradeInstall; it returns the record's revision.
func (c *ChartClient) Install(ctx context.Context) (revision int, installed bool, err error) {
	rel, installed, err := c.h.upgradeInstall(ctx)
	if err != nil {
		return 0, false, err
	}
	return rel.Revision, installed, nil
}

func (c *ChartClient) Uninstall(ctx context.Context) (bool, error) { return c.h.uninstall(ctx) }

// ChartReleaseState is what a release record says.
type ChartReleaseState struct {
	Revision     int
	Status       string
	Chart        string
	Version      string
	CreatedByIdp bool
	Objects      []ObjectRef
}

// Release reads the release record; nil when there is none.
func (c *ChartClient) Release() (*ChartReleaseState, error) {
	rel, err := c.h.latest()
	if err != nil || rel == nil {
		return nil, err
	}
	return &ChartReleaseState{Revision: rel.Revision, Status: string(rel.Status), Chart: rel.Chart, Version: rel.Version,
		CreatedByIdp: installedByIdp(rel, c.h.platform), Objects: rel.Objects}, nil
}

// UpToDate is the check a step makes before it installs.
func (c *ChartClient) UpToDate() (bool, error) {
	rel, err := c.h.latest()
	return c.h.upToDate(rel), err
}
