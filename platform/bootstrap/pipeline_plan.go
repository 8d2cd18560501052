package bootstrap

import (
	"errors"
	"fmt"
	"strings"
)

// PipelinePlan is what a run would do: the dry run. Making it touches no
// cluster and writes no file.
type PipelinePlan struct {
	Platform   string `json:"platform"`
	Checkpoint string `json:"checkpoint"`
	// Resumable: a saved run exists; steps it finished are marked Done.
	Resumable bool          `json:"resumable"`
	Steps     []PlannedStep `json:"steps"`
}

// PlannedStep is one step of the plan.
type PlannedStep struct {
	ID    StepID `json:"id"`
	Title string `json:"title"`
	// Done: an earlier run finished this step; a resumed run skips it.
	Done    bool            `json:"done"`
	Actions []string        `json:"actions"`
	Charts  []HelmChart     `json:"charts,omitempty"`
	Objects []PlannedObject `json:"objects,omitempty"`
	Wait    Wait            `json:"wait"`
}

// PlannedObject is a manifest a step applies.
type PlannedObject struct {
	Cluster string    `json:"cluster"`
	File    string    `json:"file"`
	Ref     ObjectRef `json:"ref"`
	YAML    string    `json:"yaml"`
}

// Plan returns the ordered steps with what each would do and the manifests
// it would apply. It reads the checkpoint, if any, and nothing else.
func (p *Pipeline) Plan() (PipelinePlan, error) {
	plan := PipelinePlan{Platform: p.cfg.Platform, Checkpoint: p.path}
	ckpt, err := LoadCheckpoint(p.path)
	switch {
	case errors.Is(err, ErrNoCheckpoint):
		ckpt = &Checkpoint{}
	case err != nil:
		return plan, err
	default:
		plan.Resumable = true
	}
	objects := func(clusterName string, ms []manifest) []PlannedObject {
		var out []PlannedObject
		for _, m := range ms {
			out = append(out, PlannedObject{Cluster: clusterName, File: m.File, Ref: m.ref(), YAML: toYAML(m.Obj)})
		}
		return out
	}
	secrets := p.credentialSecrets()
	var secretNames []string
	for _, s := range secrets {
		secretNames = append(secretNames, s.String())
	}
	secretLine := "no ProviderConfig reads a Secret: no credentials Secret is created"
	if len(secretNames) > 0 {
		secretLine = "create " + strings.Join(secretNames, ", ") + " from the Azure credentials given (never written to Git or the checkpoint)"
	}
	steps := p.Steps()
	actions := map[StepID][]string{
		StepPreflight: {fmt.Sprintf("run %d checks: %s", len(p.preflightChecks()), checkNames(p.preflightChecks()))},
		StepSeed:      {"use " + p.cfg.Seed.Describe() + " (created if absent)"},
		StepCrossplane: {
			"helm upgrade --install " + p.cfg.Crossplane.Release + " in " + p.cfg.Crossplane.Namespace + " from " + p.cfg.Crossplane.Source(),
			"wait until the seed serves Crossplane's kinds",
			"apply the Crossplane packages and wait until they are Installed and Healthy",
			secretLine,
			"apply the ProviderConfigs, XRDs and Compositions and wait until the XRDs are Established",
		},
		StepInfrastructure: {"apply infrastructure/ on the seed (server-side apply, field manager " + p.cfg.FieldManager + ")",
			"wait until every composite and managed resource is Synced and Ready, showing the Crossplane tree"},
		StepKubeconfig: {"read the AKS kubeconfig from the infrastructure's connection secret",
			"write it to " + p.AKSKubeconfigPath() + " (mode 0600) and wait until the AKS API answers"},
		StepArgoCD: {"helm upgrade --install " + p.cfg.ArgoCD.Release + " in " + p.cfg.ArgoCD.Namespace + " on AKS from " + p.cfg.ArgoCD.Source(),
			"apply " + RootManifest + " and wait until the app-of-apps is Synced and Healthy"},
		StepAdopt: {"pause the seed's composites and set its managed resources to never delete in Azure (deletionPolicy Orphan, or management policies without Delete)",
			secretLineOn(secretLine, "AKS"),
			"apply the same managed resources on AKS with the same crossplane.io/external-name, then infrastructure/ with the seed's resource references",
			"verify the pivot: the same resources, the same external names, Ready on AKS",
			"apply " + HandoverManifest + ": from now on Argo CD keeps infrastructure/ on AKS"},
		StepDeleteSeed: {p.deleteSentence()},
	}
	for _, s := range steps {
		ps := PlannedStep{ID: s.ID, Title: s.Title, Done: ckpt.Done(s.ID), Actions: actions[s.ID], Wait: s.Wait}
		switch s.ID {
		case StepCrossplane:
			ps.Charts = []HelmChart{p.cfg.Crossplane}
			ps.Objects = objects("seed", p.manifests.seedPlatform())
		case StepInfrastructure:
			ps.Objects = objects("seed", p.manifests.infra)
		case StepArgoCD:
			ps.Charts = []HelmChart{p.cfg.ArgoCD}
			ps.Objects = objects("AKS", p.manifests.root)
		case StepAdopt:
			ps.Objects = objects("AKS", append(append([]manifest{}, p.manifests.infra...), p.manifests.handover...))
		}
		plan.Steps = append(plan.Steps, ps)
	}
	return plan, nil
}

func secretLineOn(line, clusterName string) string {
	return strings.Replace(line, "from the Azure credentials", "on "+clusterName+" from the Azure credentials", 1)
}

func checkNames(cs []PreflightCheck) string {
	names := make([]string, len(cs))
	for i, c := range cs {
		names[i] = c.Name
	}
	return strings.Join(names, "; ")
}

func (p *Pipeline) deleteSentence() string {
	switch s := p.cfg.Seed.(type) {
	case KindSeed:
		return "delete " + s.Describe() + " and its kubeconfig"
	case ExistingSeed:
		if s.Keep {
			return "leave " + s.Describe() + " as it is and say what idp left there"
		}
		return "remove what idp installed on " + s.Describe() + " (composites and orphaned resources, definitions, packages, credentials, the Crossplane release); the cluster stays"
	}
	return "delete " + p.cfg.Seed.Describe()
}

// String renders the plan for `idp bootstrap --dry-run`.
func (pl PipelinePlan) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Bootstrap plan for %s (checkpoint %s)\n", pl.Platform, pl.Checkpoint)
	if pl.Resumable {
		b.WriteString("A saved run exists: --resume skips the steps marked done.\n")
	}
	for i, s := range pl.Steps {
		mark := ""
		if s.Done {
			mark = " [done]"
		}
		fmt.Fprintf(&b, "\n%d. %s%s\n", i+1, s.Title, mark)
		for _, a := range s.Actions {
			fmt.Fprintf(&b, "   - %s\n", a)
		}
		if s.Wait.Timeout > 0 {
			fmt.Fprintf(&b, "   - waits up to %s for %s\n", s.Wait.Timeout, s.Wait.For)
		}
		for _, o := range s.Objects {
			fmt.Fprintf(&b, "   # %s: %s (%s)\n", o.Cluster, o.Ref, o.File)
		}
	}
	b.WriteString("\nManifests:\n")
	for i, s := range pl.Steps {
		for _, o := range s.Objects {
			fmt.Fprintf(&b, "---\n# step %d, %s cluster, %s\n%s", i+1, o.Cluster, o.File, o.YAML)
		}
	}
	return b.String()
}
