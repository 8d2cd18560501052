package bootstrap

import (
	"fmt"
	"sort"
)

// HelmRelease is a Helm chart the platform's Argo CD Applications install.
// The bootstrap installs some of them itself before Argo CD runs (Crossplane
// on the seed, Argo CD on AKS); it must use exactly these, so that Argo CD
// finds its own release already in the state Git describes.
type HelmRelease struct {
	// Application is the Argo CD Application's name; File where it is.
	Application, File string
	RepoURL, Chart    string
	Version           string
	ReleaseName       string
	Namespace         string
	// Values are the Application's helm.valuesObject (nil: the chart's own).
	Values map[string]any
}

// HelmReleases lists the Helm charts of the Applications in the rendered
// files, by Application name.
func HelmReleases(files Files) (map[string]HelmRelease, error) {
	objs, err := files.Objects("platform")
	if err != nil {
		return nil, err
	}
	paths := make([]string, 0, len(objs))
	for p := range objs {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	out := map[string]HelmRelease{}
	for _, p := range paths {
		for _, o := range objs[p] {
			if o["kind"] != "Application" || o["apiVersion"] != "argoproj.io/v1alpha1" {
				continue
			}
			meta, _ := o["metadata"].(map[string]any)
			spec, _ := o["spec"].(map[string]any)
			src, _ := spec["source"].(map[string]any)
			chart, _ := src["chart"].(string)
			if chart == "" {
				continue
			}
			dest, _ := spec["destination"].(map[string]any)
			helm, _ := src["helm"].(map[string]any)
			r := HelmRelease{File: p, Chart: chart}
			r.Application, _ = meta["name"].(string)
			r.RepoURL, _ = src["repoURL"].(string)
			r.Version, _ = src["targetRevision"].(string)
			r.Namespace, _ = dest["namespace"].(string)
			r.ReleaseName, _ = helm["releaseName"].(string)
			r.Values, _ = helm["valuesObject"].(map[string]any)
			if r.ReleaseName == "" {
				r.ReleaseName = r.Application
			}
			if _, dup := out[r.Application]; dup {
				return nil, fmt.Errorf("bootstrap: two Applications named %s", r.Application)
			}
			out[r.Application] = r
		}
	}
	return out, nil
}
