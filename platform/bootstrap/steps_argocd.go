package bootstrap

import (
	"context"
	"fmt"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/back-stack/idp/platform/argocd"
)

var applicationKind = schema.GroupVersionKind{Group: argocd.Applications.Group, Version: argocd.Applications.Version, Kind: "Application"}

// rootApps are the Applications of bootstrap/root.yaml.
func (p *Pipeline) rootApps() []ObjectRef {
	var out []ObjectRef
	for _, m := range p.manifests.root {
		if m.Obj.GroupVersionKind().GroupKind() == applicationKind.GroupKind() {
			out = append(out, m.ref())
		}
	}
	return out
}

// appsState reads the root Applications and the others in their
// namespaces (the children the app-of-apps made), root ones first.
func (p *Pipeline) appsState(ctx context.Context, aks *cluster) (ok bool, summary string, apps []argocd.App, err error) {
	roots := p.rootApps()
	ok = len(roots) > 0
	var rootStatus []string
	namespaces := map[string]bool{}
	for _, ref := range roots {
		u, err := aks.get(ctx, ref)
		if err != nil {
			return false, "", nil, err
		}
		if u == nil {
			ok = false
			rootStatus = append(rootStatus, ref.Name+" is not there")
			continue
		}
		a := argocd.FromUnstructured(u)
		apps = append(apps, a)
		namespaces[a.Namespace] = true
		if a.Sync != argocd.SyncSynced || a.Health != argocd.HealthHealthy {
			ok = false
		}
		s := fmt.Sprintf("%s %s/%s", a.Name, a.Sync, a.Health)
		if a.HealthMessage != "" {
			s += ": " + a.HealthMessage
		}
		rootStatus = append(rootStatus, s)
	}
	healthy, children := 0, 0
	for ns := range namespaces {
		list, err := aks.dyn.Resource(argocd.Applications).Namespace(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, "", nil, fmt.Errorf("listing Applications on AKS: %w", err)
		}
		for i := range list.Items {
			a := argocd.FromUnstructured(&list.Items[i])
			if slices.ContainsFunc(roots, func(r ObjectRef) bool { return r.Namespace == a.Namespace && r.Name == a.Name }) {
				continue
			}
			children++
			if a.Health == argocd.HealthHealthy {
				healthy++
			}
			apps = append(apps, a)
		}
	}
	summary = strings.Join(rootStatus, "; ")
	if children > 0 {
		summary += fmt.Sprintf("; %d/%d applications Healthy", healthy, children)
	}
	return ok, summary, apps, nil
}

func (p *Pipeline) argoCDStep() Step {
	const title = "Argo CD on AKS and the app-of-apps"
	return Step{
		ID:    StepArgoCD,
		Title: title,
		Wait:  p.wait(StepArgoCD, "the app-of-apps to be Synced and Healthy"),
		Check: func(ctx context.Context) (bool, error) {
			aks, err := p.aksCluster()
			if err != nil {
				return false, err
			}
			h, err := p.helm(aks, p.cfg.ArgoCD, &StepOutput{})
			if err != nil {
				return false, err
			}
			rel, err := h.latest()
			if err != nil || !h.upToDate(rel) {
				return false, err
			}
			ok, _, _, err := p.appsState(ctx, aks)
			if ok {
				p.recordRelease("aks", rel)
			}
			return ok, err
		},
		Run: func(ctx context.Context, out *StepOutput) error {
			aks, err := p.aksCluster()
			if err != nil {
				return err
			}
			h, err := p.helm(aks, p.cfg.ArgoCD, out)
			if err != nil {
				return err
			}
			rel, _, err := h.upgradeInstall(ctx)
			if err != nil {
				return err
			}
			p.recordRelease("aks", rel)
			if err := aks.waitServed(ctx, out, p.cfg.PollInterval, "the Argo CD chart installs its CRDs", kindsOf(p.manifests.root)...); err != nil {
				return err
			}
			if err := p.applyAll(ctx, out, aks, p.manifests.root); err != nil {
				return err
			}
			last := ""
			return poll(ctx, p.cfg.PollInterval, func(ctx context.Context) (bool, string, error) {
				ok, summary, apps, err := p.appsState(ctx, aks)
				if err != nil {
					return false, "", err
				}
				out.Progress(Progress{Summary: summary, Apps: apps})
				if summary != last {
					out.Logf("%s", summary)
					last = summary
				}
				return ok, summary, nil
			})
		},
		NextAction: func(error) string {
			return "Look at the app-of-apps' children above (`kubectl -n argocd get applications` with the AKS kubeconfig): a repository Argo CD cannot read or a component that does not get Healthy; fix it in Git, " +
				p.resumeSentence(6, title) + "."
		},
	}
}
