package bootstrap

import (
	"context"
	"encoding/base64"
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// DefaultCredentialsNamespace is where a ProviderConfig's Secret lives when
// its secretRef names no namespace and the ProviderConfig is cluster-scoped.
const DefaultCredentialsNamespace = "crossplane-system"

// credentialSecrets are the Secrets the ProviderConfigs read Azure
// credentials from (spec.credentials.source: Secret). They are created on
// the cluster from the credentials given, never written to Git.
func (p *Pipeline) credentialSecrets() []SecretRef {
	var out []SecretRef
	for _, m := range p.manifests.providerConfigs {
		src, _, _ := unstructured.NestedString(m.Obj.Object, "spec", "credentials", "source")
		if src != "Secret" {
			continue
		}
		ref := SecretRef{Namespace: m.Obj.GetNamespace(), Key: "credentials"}
		sr, _, _ := unstructured.NestedStringMap(m.Obj.Object, "spec", "credentials", "secretRef")
		if sr["namespace"] != "" {
			ref.Namespace = sr["namespace"]
		}
		if ref.Namespace == "" {
			ref.Namespace = DefaultCredentialsNamespace
		}
		ref.Name = sr["name"]
		if sr["key"] != "" {
			ref.Key = sr["key"]
		}
		if ref.Name != "" && !containsSecret(out, ref) {
			out = append(out, ref)
		}
	}
	return out
}

func containsSecret(refs []SecretRef, r SecretRef) bool {
	for _, o := range refs {
		if o.Namespace == r.Namespace && o.Name == r.Name {
			return true
		}
	}
	return false
}

func secretObjectRef(r SecretRef) ObjectRef {
	return ObjectRef{APIVersion: "v1", Kind: "Secret", Namespace: r.Namespace, Name: r.Name}
}

// secretsPresent reports whether every credentials Secret is on the cluster
// with its key.
func (p *Pipeline) secretsPresent(ctx context.Context, c *cluster) (bool, []SecretRef, error) {
	var missing []SecretRef
	for _, ref := range p.credentialSecrets() {
		u, err := c.get(ctx, secretObjectRef(ref))
		if err != nil {
			return false, nil, err
		}
		if u == nil {
			missing = append(missing, ref)
			continue
		}
		if v, _, _ := unstructured.NestedString(u.Object, "data", ref.Key); v == "" {
			missing = append(missing, ref)
		}
	}
	return len(missing) == 0, missing, nil
}

// ensureSecrets creates or updates the credentials Secrets from the
// credentials given; without credentials, Secrets already there (from an
// earlier run) are kept and missing ones are an error.
func (p *Pipeline) ensureSecrets(ctx context.Context, out *StepOutput, c *cluster) error {
	refs := p.credentialSecrets()
	if len(refs) == 0 {
		out.Logf("no ProviderConfig reads credentials from a Secret; none created on the %s cluster", c.name)
		return nil
	}
	if len(p.cfg.AzureCredentials) == 0 {
		ok, missing, err := p.secretsPresent(ctx, c)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("no Azure credentials given, and the ProviderConfig's %s is not on the %s cluster: give the credentials file (idp never stores it)", missing[0], c.name)
		}
		out.Logf("the credentials Secrets are on the %s cluster already", c.name)
		return nil
	}
	for _, ref := range refs {
		ns := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": ref.Namespace},
		}}
		if existing, err := c.get(ctx, ObjectRef{APIVersion: "v1", Kind: "Namespace", Name: ref.Namespace}); err != nil {
			return err
		} else if existing == nil {
			if _, err := c.apply(ctx, ns); err != nil {
				return err
			}
		}
		secret := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
			"metadata": map[string]any{
				"name": ref.Name, "namespace": ref.Namespace,
				"labels": map[string]any{managedByLabel: "idp"},
			},
			"data": map[string]any{ref.Key: base64.StdEncoding.EncodeToString(p.cfg.AzureCredentials)},
		}}
		if _, err := c.apply(ctx, secret); err != nil {
			return err
		}
		if c.name == "seed" {
			p.state().addSeedObject(secretObjectRef(ref))
		}
		out.Logf("put the Azure credentials in %s on the %s cluster", ref, c.name)
	}
	return nil
}
