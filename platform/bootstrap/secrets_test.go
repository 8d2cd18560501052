package bootstrap

import (
	"errors"
	"strings"
	"testing"

	"github.com/back-stack/idp/gitops/secrets"
)

func TestRenderedFilesHoldNoSecrets(t *testing.T) {
	files := mustRender(t, renderTestConfig())
	if err := CheckNoSecrets(files, nil); err != nil {
		t.Fatal(err)
	}
	for p, objs := range allRenderedObjects(t, files) {
		for _, o := range objs {
			if o["kind"] == "Secret" {
				t.Errorf("%s renders a Secret %s", p, o.id())
			}
		}
	}
	// The ProviderConfig names its Secret; the Secret is not rendered.
	pc, _ := files.Get("platform/crossplane/providerconfig.yaml")
	if !strings.Contains(string(pc), "name: "+CredentialsSecret.Name) {
		t.Error("the ProviderConfig does not reference the credentials Secret")
	}
}

func TestCheckNoSecretsFindsThem(t *testing.T) {
	// A Secret object of any shape is the bootstrap's own rule.
	for name, content := range map[string]string{
		"secret object": "apiVersion: v1\nkind: Secret\nmetadata:\n  name: azure-credentials\ndata:\n  credentials: e30=\n",
		"quoted secret": "apiVersion: v1\nkind: \"Secret\"\n",
	} {
		files := Files{{Path: "platform/ok.yaml", Content: []byte("apiVersion: v1\nkind: ConfigMap\n")}, {Path: "platform/x.yaml", Content: []byte("# a comment\n" + content)}}
		err := CheckNoSecrets(files, nil)
		var se *SecretError
		if !errors.As(err, &se) || se.Path != "platform/x.yaml" || se.What != "a Kubernetes Secret" || se.Line != 3 {
			t.Errorf("%s: CheckNoSecrets = %v, want a Kubernetes Secret in platform/x.yaml line 3", name, err)
		}
	}
	// Credentials are gitleaks' default rules (and idp's url-credentials).
	for rule, content := range map[string]string{
		"azure-ad-client-secret": "clientSecret: abc8Q~Zx1yW2vU3tS4rQ5pO6nM7lK8jI9hG0fE1d\n",
		"github-pat":             "token: ghp_Zk3RbV9qT1mWx7LcP2sHd8NfJ4yGa6EuQ0oB\n",
		"jwt":                    "bearer: eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlc2lnbmF0dXJl\n",
		"url-credentials":        "repoURL: https://idp:hunter22@git.example.com/acme/gitops.git\n",
	} {
		files := Files{{Path: "platform/x.yaml", Content: []byte("# a comment\n" + content)}}
		err := CheckNoSecrets(files, nil)
		var se *secrets.Error
		if !errors.As(err, &se) || se.Findings[0].Path != "platform/x.yaml" || se.Findings[0].Line != 2 || se.Findings[0].Rule != rule {
			t.Errorf("%s: CheckNoSecrets = %v", rule, err)
		}
		allow := []secrets.Allow{{Path: "platform/*.yaml", Rule: rule, Reason: "test"}}
		if err := CheckNoSecrets(files, allow); err != nil {
			t.Errorf("%s: allowed, but %v", rule, err)
		}
	}
	// What the manifests legitimately say about secrets passes.
	ok := Files{{Path: "platform/ok.yaml", Content: []byte(`spec:
  credentials:
    source: Secret
    secretRef:
      name: azure-credentials
      key: credentials
  writeConnectionSecretToRef:
    name: kubeconfig
  connectionSecretName: db
  autoGeneratePassword: true
  kind: SecretStore
  repoURL: https://git@github.com/acme/gitops.git
  password: ""
`)}}
	if err := CheckNoSecrets(ok, nil); err != nil {
		t.Errorf("a reference to a Secret was taken for one: %v", err)
	}
}
