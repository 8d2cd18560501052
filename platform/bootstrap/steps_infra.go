package bootstrap

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/back-stack/idp/platform/crossplane"
)

// KubeconfigKey is the connection detail that holds AKS's kubeconfig, as
// provider-azure's KubernetesCluster writes it.
const KubeconfigKey = "kubeconfig"

// infraState is the infrastructure as one cluster sees it: the objects of
// infrastructure/ and everything they compose.
type infraState struct {
	objects []crossplane.Object
	raw     map[string]*unstructured.Unstructured // by crossplane Ref.Key()
	trees   []crossplane.Tree
	// missing are infrastructure/ objects that are not on the cluster.
	missing []ObjectRef
	// direct are infrastructure/ objects that wait on conditions but are
	// no composite's children (managed resources applied as they are).
	direct []crossplane.Object
}

// composite reports whether kinds makes gk a composite or claim.
func compositeKinds(defs []manifest) crossplane.Kinds {
	var objs []crossplane.Object
	for _, m := range defs {
		if m.Obj.GetKind() == "CompositeResourceDefinition" {
			objs = append(objs, crossplane.FromUnstructured(m.Obj))
		}
	}
	return crossplane.KindsOf(objs)
}

// isManaged reports whether u looks like a managed resource.
func isManaged(u *unstructured.Unstructured) bool {
	spec, _ := u.Object["spec"].(map[string]any)
	_, ok := spec["forProvider"]
	return ok
}

// readInfra reads the infrastructure's trees on c.
func (p *Pipeline) readInfra(ctx context.Context, c *cluster) (*infraState, error) {
	st := &infraState{raw: map[string]*unstructured.Unstructured{}}
	kinds := compositeKinds(p.manifests.definitions)
	for _, m := range p.manifests.definitions {
		if m.Obj.GetKind() == "CompositeResourceDefinition" {
			st.objects = append(st.objects, crossplane.FromUnstructured(m.Obj))
		}
	}
	var queue []ObjectRef
	for _, m := range p.manifests.infra {
		if m.Obj.GetKind() != "Namespace" {
			queue = append(queue, m.ref())
		}
	}
	roots := len(queue)
	seen := map[string]bool{}
	for i := 0; i < len(queue) && len(seen) < 500; i++ {
		ref := queue[i]
		key := crossplaneRef(ref).Key()
		if seen[key] {
			continue
		}
		seen[key] = true
		u, err := c.get(ctx, ref)
		if err != nil {
			return nil, err
		}
		if u == nil {
			if i < roots {
				st.missing = append(st.missing, ref)
			}
			continue
		}
		o := crossplane.FromUnstructured(u)
		st.objects = append(st.objects, o)
		st.raw[o.Key()] = u
		if i < roots && !kinds.Claims[o.GroupKind()] && !kinds.Composites[o.GroupKind()] && isManaged(u) {
			st.direct = append(st.direct, o)
		}
		for _, r := range o.Refs {
			child := ObjectRef{APIVersion: r.APIVersion, Kind: r.Kind, Namespace: r.Namespace, Name: r.Name}
			if child.Namespace == "" && o.Namespace != "" {
				if _, namespaced, err := c.pool.Resource(ctx, child.gvk()); err == nil && namespaced {
					child.Namespace = o.Namespace
				}
			}
			queue = append(queue, child)
		}
	}
	st.trees = crossplane.Build(st.objects, nil)
	return st, nil
}

func crossplaneRef(r ObjectRef) crossplane.Ref {
	return crossplane.Ref{APIVersion: r.APIVersion, Kind: r.Kind, Namespace: r.Namespace, Name: r.Name}
}

// ready reports whether every object is there, Synced and Ready, with a
// one-line summary and, when not, the deepest failure's message.
func (st *infraState) ready() (bool, string) {
	total, ready := 0, 0
	var worst string
	note := func(n crossplane.Object, missing bool) {
		total++
		switch {
		case missing:
			if worst == "" {
				worst = n.Ref.String() + " is not there yet"
			}
		case n.Synced.Status == "True" && n.Ready.Status == "True":
			ready++
		case worst == "":
			worst = describeCondition(n)
		}
	}
	for _, t := range st.trees {
		if t.Failure != nil {
			worst = describeCondition(t.Failure.Object)
			if t.Failure.Missing {
				worst = t.Failure.Ref.String() + " is not there yet"
			}
		}
		t.Walk(func(n *crossplane.Node, _ []bool) { note(n.Object, n.Missing) })
	}
	for _, o := range st.direct {
		note(o, false)
	}
	for _, r := range st.missing {
		note(crossplane.Object{Ref: crossplaneRef(r)}, true)
	}
	summary := fmt.Sprintf("%d/%d Ready", ready, total)
	if worst != "" {
		summary += "; " + worst
	}
	return ready == total && total > 0, summary
}

func describeCondition(o crossplane.Object) string {
	c := o.Ready
	if o.Synced.Status == "False" {
		c = o.Synced
	}
	if !c.Known() {
		return o.Ref.String() + " has no status yet"
	}
	s := fmt.Sprintf("%s %s=%s", o.Ref, c.Type, c.Status)
	if c.Reason != "" {
		s += " " + c.Reason
	}
	if c.Message != "" {
		s += ": " + c.Message
	}
	return s
}

// waitInfra waits until the infrastructure on c is Ready, reporting the
// trees as they change.
func (p *Pipeline) waitInfra(ctx context.Context, out *StepOutput, c *cluster, extra func(*infraState) (bool, string, error)) (*infraState, error) {
	var st *infraState
	last := ""
	err := poll(ctx, p.cfg.PollInterval, func(ctx context.Context) (bool, string, error) {
		var err error
		if st, err = p.readInfra(ctx, c); err != nil {
			return false, "", err
		}
		ok, summary := st.ready()
		if extra != nil {
			if ok, summary, err = extra(st); err != nil {
				return false, "", err
			}
		}
		out.Progress(Progress{Summary: summary, Trees: st.trees})
		if summary != last {
			out.Logf("%s: %s", c.name, summary)
			last = summary
		}
		return ok, summary, nil
	})
	return st, err
}

func (p *Pipeline) infrastructureStep() Step {
	const title = "AKS, ACR and identities from the seed"
	return Step{
		ID:    StepInfrastructure,
		Title: title,
		Wait:  p.wait(StepInfrastructure, "the infrastructure to be Ready"),
		Check: func(ctx context.Context) (bool, error) {
			seed, err := p.seedCluster()
			if err != nil {
				return false, err
			}
			st, err := p.readInfra(ctx, seed)
			if err != nil {
				return false, err
			}
			ok, _ := st.ready()
			return ok, nil
		},
		Run: func(ctx context.Context, out *StepOutput) error {
			seed, err := p.seedCluster()
			if err != nil {
				return err
			}
			if err := seed.waitServed(ctx, out, p.cfg.PollInterval, "the XRDs and providers define them", kindsOf(p.manifests.infra)...); err != nil {
				return err
			}
			if err := p.applyAll(ctx, out, seed, p.manifests.infra); err != nil {
				return err
			}
			_, err = p.waitInfra(ctx, out, seed, nil)
			return err
		},
		NextAction: func(error) string {
			return "The failing resource's message is above (Azure quota, a name taken, a permission): fix it in Azure or in infrastructure/, " +
				p.resumeSentence(4, title) + "; waiting again picks up where Crossplane is."
		},
	}
}

// kubeconfigCandidates are where the AKS kubeconfig may be: the configured
// Secret, or the connection secrets the infrastructure's objects write.
func (p *Pipeline) kubeconfigCandidates(st *infraState) []SecretRef {
	if p.cfg.KubeconfigSecret != nil {
		return []SecretRef{*p.cfg.KubeconfigSecret}
	}
	var composites, managed, secrets []SecretRef
	for _, o := range st.objects {
		u := st.raw[o.Key()]
		if u == nil {
			continue
		}
		if u.GetAPIVersion() == "v1" && u.GetKind() == "Secret" {
			secrets = append(secrets, SecretRef{Namespace: u.GetNamespace(), Name: u.GetName(), Key: KubeconfigKey})
			continue
		}
		ref, ok, _ := unstructured.NestedStringMap(u.Object, "spec", "writeConnectionSecretToRef")
		if !ok || ref["name"] == "" {
			continue
		}
		s := SecretRef{Namespace: ref["namespace"], Name: ref["name"], Key: KubeconfigKey}
		if s.Namespace == "" {
			s.Namespace = u.GetNamespace()
		}
		if isManaged(u) {
			if strings.Contains(u.GetKind(), "KubernetesCluster") {
				managed = append([]SecretRef{s}, managed...)
			} else {
				managed = append(managed, s)
			}
		} else {
			composites = append(composites, s)
		}
	}
	return append(append(composites, managed...), secrets...)
}

func (p *Pipeline) kubeconfigStep() Step {
	const title = "AKS kubeconfig from the connection secret"
	return Step{
		ID:    StepKubeconfig,
		Title: title,
		Wait:  p.wait(StepKubeconfig, "the AKS kubeconfig and API server"),
		Check: func(ctx context.Context) (bool, error) {
			if p.state().AKS.Kubeconfig == "" {
				return false, nil
			}
			aks, err := p.aksCluster()
			if err != nil {
				return false, nil
			}
			return aks.reachable(ctx) == nil, nil
		},
		Run: func(ctx context.Context, out *StepOutput) error {
			seed, err := p.seedCluster()
			if err != nil {
				return err
			}
			var data []byte
			err = poll(ctx, p.cfg.PollInterval, func(ctx context.Context) (bool, string, error) {
				st, err := p.readInfra(ctx, seed)
				if err != nil {
					return false, "", err
				}
				cands := p.kubeconfigCandidates(st)
				for _, ref := range cands {
					u, err := seed.get(ctx, secretObjectRef(ref))
					if err != nil || u == nil {
						continue
					}
					b64, _, _ := unstructured.NestedString(u.Object, "data", ref.Key)
					if b64 == "" {
						continue
					}
					if data, err = base64.StdEncoding.DecodeString(b64); err != nil {
						return false, "", fmt.Errorf("%s is not base64: %w", ref, err)
					}
					out.Logf("read the AKS kubeconfig from %s on the seed", ref)
					return true, "", nil
				}
				return false, fmt.Sprintf("no connection secret with a %q key yet (looked at %d)", KubeconfigKey, len(cands)), nil
			})
			if err != nil {
				return err
			}
			if _, err := clientcmd.Load(data); err != nil {
				return fmt.Errorf("the AKS connection secret does not hold a kubeconfig: %w", err)
			}
			path := p.AKSKubeconfigPath()
			if err := writeFileAtomic(path, data, 0o600); err != nil {
				return err
			}
			out.Logf("wrote the AKS kubeconfig to %s (mode 0600; it holds credentials, keep it out of Git)", path)
			p.state().AKS = ClusterRecord{Kubeconfig: path}
			p.forgetClusters()
			aks, err := p.aksCluster()
			if err != nil {
				return err
			}
			return poll(ctx, p.cfg.PollInterval, func(ctx context.Context) (bool, string, error) {
				if err := aks.reachable(ctx); err != nil {
					return false, err.Error(), nil
				}
				return true, "", nil
			})
		},
		NextAction: func(error) string {
			return "Check that the AKS composite writes its connection secret (`kubectl get secrets` on the seed) or name it in the configuration, " +
				p.resumeSentence(5, title) + "."
		},
	}
}

// removeFile deletes a file idp wrote; a missing file is fine.
func removeFile(path string) error {
	if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
		return err
	}
	return nil
}
