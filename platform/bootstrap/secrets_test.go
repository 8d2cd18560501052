package bootstrap

import (
	"errors"
	"strings"
	"testing"
)

func TestRenderedFilesHoldNoSecrets(t *testing.T) {
	files := mustRender(t, renderTestConfig())
	if err := CheckNoSecrets(files); err != nil {
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
	for name, tc := range map[string]struct{ content, what string }{
		"secret object":     {"apiVersion: v1\nkind: Secret\nmetadata:\n  name: azure-credentials\ndata:\n  credentials: e30=\n", "a Kubernetes Secret"},
		"quoted secret":     {"apiVersion: v1\nkind: \"Secret\"\n", "a Kubernetes Secret"},
		"private key":       {"key: |\n  -----BEGIN RSA PRIVATE KEY-----\n  MIIE\n", "a private key"},
		"openssh key":       {"-----BEGIN OPENSSH PRIVATE KEY-----\n", "a private key"},
		"azure secret":      {"clientSecret: abc8Q~Zx1yW2vU3tS4rQ5pO6nM7lK8jI9hG0fE1d\n", "an Azure client secret"},
		"github token":      {"token: ghp_" + strings.Repeat("a1B2", 9) + "\n", "a GitHub token"},
		"github pat":        {"pat: github_pat_" + strings.Repeat("A1", 20) + "\n", "a GitHub token"},
		"storage key":       {"conn: DefaultEndpointsProtocol=https;AccountName=x;AccountKey=" + strings.Repeat("Ab1+", 10) + "==\n", "an Azure DevOps or storage key"},
		"jwt":               {"bearer: eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlc2lnbmF0dXJl\n", "a JSON web token"},
		"url password":      {"repoURL: https://idp:hunter22@git.example.com/acme/gitops.git\n", "a password in a URL"},
		"kubeconfig":        {"users:\n- name: x\n  user:\n    client-key-data: LS0tLS1CRUdJTiBSU0EgUFJJVkFURSBLRVk=\n", "kubeconfig credentials"},
		"password value":    {"spec:\n  password: correct-horse\n", "a credential value"},
		"clientSecret json": {"{\"clientId\": \"x\", \"clientSecret\": \"s3cr3t-value\"}\n", "a credential value"},
	} {
		t.Run(name, func(t *testing.T) {
			files := Files{{Path: "platform/ok.yaml", Content: []byte("apiVersion: v1\nkind: ConfigMap\n")}, {Path: "platform/x.yaml", Content: []byte("# a comment\n" + tc.content)}}
			err := CheckNoSecrets(files)
			var se *SecretError
			if !errors.As(err, &se) || se.Path != "platform/x.yaml" || se.What != tc.what || se.Line < 2 {
				t.Fatalf("CheckNoSecrets = %v, want %s in platform/x.yaml", err, tc.what)
			}
			if !strings.Contains(err.Error(), "nothing was committed") {
				t.Errorf("error %q does not say nothing was committed", err)
			}
		})
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
	if err := CheckNoSecrets(ok); err != nil {
		t.Errorf("a reference to a Secret was taken for one: %v", err)
	}
}
