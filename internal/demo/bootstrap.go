package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/back-stack/idp/platform/bootstrap"
)

// SimulatedSteps are the bootstrap's own steps (ids, titles, what to do
// after a failure) with their actions played: each logs what the real step
// does and waits as it would, in seconds instead of the quarter of an hour
// AKS takes. Nothing is installed; the demo's cluster already runs the
// platform.
func SimulatedSteps(b *bootstrap.Bootstrap, phase time.Duration) []bootstrap.Step {
	cfg := b.Config
	script := map[bootstrap.StepID][]beat{
		bootstrap.StepPreflight: {
			{log: "az login: subscription " + cfg.Azure.SubscriptionID + " (simulated)"},
			{log: "a container runtime for kind: docker answers (simulated)"},
		},
		bootstrap.StepSeed: {
			{log: fmt.Sprintf("kind: creating cluster %q (simulated)", "idp-"+cfg.Name+"-seed"), progress: "0/1 nodes Ready"},
			{progress: "1/1 nodes Ready"},
		},
		bootstrap.StepCrossplane: {
			{log: "helm upgrade --install crossplane " + cfg.Components.Crossplane + " in crossplane-system", progress: "Crossplane's kinds not served yet"},
			{log: "apply Providers provider-azure-containerservice, -containerregistry, -managedidentity, -dbforpostgresql " + cfg.Components.ProviderAzure, progress: "1/6 packages Healthy"},
			{log: "apply Function function-patch-and-transform " + cfg.Components.FunctionPatchAndTransform, progress: "4/6 packages Healthy"},
			{log: "create Secret crossplane-system/azure-credentials from the credentials given (never in Git)", progress: "6/6 packages Healthy"},
			{log: "apply ClusterProviderConfig default, 4 XRDs and 4 Compositions", progress: "4/4 XRDs Established"},
		},
		bootstrap.StepInfrastructure: {
			{log: "apply infrastructure/: AKSCluster " + cfg.Azure.AKS.Name + ", ContainerRegistry " + cfg.Azure.ACR.Name + ", ManagedIdentity " + cfg.Azure.AKS.Name + "-crossplane", progress: "0/3 Ready"},
			{progress: "1/3 Ready (ManagedIdentity)"},
			{progress: "2/3 Ready (ContainerRegistry)"},
			{log: "KubernetesCluster " + cfg.Azure.AKS.Name + ": Creating (AKS takes 10 to 15 minutes; simulated)", progress: "2/3 Ready (AKSCluster: KubernetesCluster Creating)"},
			{progress: "3/3 Ready"},
		},
		bootstrap.StepKubeconfig: {
			{log: "read Secret " + bootstrap.KubeconfigSecret(cfg).String() + "; kubeconfig saved with mode 0600"},
		},
		bootstrap.StepArgoCD: {
			{log: "helm upgrade --install argocd (chart " + cfg.Components.ArgoCD + ") on AKS", progress: "argocd-server not ready"},
			{log: "apply " + bootstrap.RootPath, progress: "root: OutOfSync"},
			{progress: "root: Synced, Progressing"},
			{progress: "root: Synced, Healthy"},
		},
		bootstrap.StepAdopt: {
			{log: "seed: paused 3 composites; managed resources set never to delete in Azure"},
			{log: "AKS: applied the managed resources with the same crossplane.io/external-name", progress: "0/3 composites Ready on AKS"},
			{progress: "3/3 composites Ready on AKS; same resources, same external names"},
			{log: "AKS: Argo CD keeps infrastructure/ from now on (" + bootstrap.HandoverManifest + ")"},
		},
		bootstrap.StepDeleteSeed: {
			{log: fmt.Sprintf("kind: deleting cluster %q (simulated)", "idp-"+cfg.Name+"-seed")},
		},
	}
	var out []bootstrap.Step
	for _, s := range b.Pipeline.Steps() {
		beats := script[s.ID]
		s.Check = nil
		s.Run = func(ctx context.Context, o *bootstrap.StepOutput) error {
			for _, bt := range beats {
				if bt.log != "" {
					o.Logf("%s", bt.log)
				}
				if bt.progress != "" {
					o.Progress(bootstrap.Progress{Summary: bt.progress})
				}
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-time.After(phase):
				}
			}
			return nil
		}
		out = append(out, s)
	}
	return out
}

// beat is one moment of a simulated step.
type beat struct{ log, progress string }
