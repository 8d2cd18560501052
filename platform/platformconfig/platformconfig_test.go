package platformconfig

import (
	"reflect"
	"strings"
	"testing"

	"github.com/back-stack/idp/gitops/secrets"
)

func TestParse(t *testing.T) {
	good := `apiVersion: idp.back-stack.io/v1alpha1
kind: PlatformConfig
name: acme
azure:
  subscriptionID: 00000000-0000-0000-0000-000000000001
  resourceGroup: platform
  aks:
    name: platform-aks
gitops:
  changes: pull-request
`
	c, err := Parse([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if c.Azure.AKS.Name != "platform-aks" || c.ChangePolicy() != ChangePullRequest || c.CrossplaneAPI() != CrossplaneV2 {
		t.Errorf("parsed %+v", c)
	}

	for name, tc := range map[string]struct{ in, want string }{
		"unknown key":  {strings.Replace(good, "name: acme", "nmae: acme", 1), "line 3: field nmae not found"},
		"wrong type":   {strings.Replace(good, "name: platform-aks", "name: [a, b]", 1), "line 8"},
		"bad policy":   {strings.Replace(good, "pull-request", "sometimes", 1), `gitops.changes is "sometimes"`},
		"bad api":      {good + "crossplane:\n  api: v3\n", `crossplane.api is "v3"`},
		"wrong format": {strings.Replace(good, "PlatformConfig", "Other", 1), `"Other"`},
		// yaml.v3 names no line for a problem on line 1, and reads 3.5 as 3.
		"line 1":          {"apiVersion: [\n", "line 1: "},
		"bad first token": {"\tapiVersion: x\n", "line 1: "},
		"fraction":        {strings.Replace(good, "name: platform-aks\n", "name: platform-aks\n    nodeCount: 3.5\n", 1), `line 9: azure.aks.nodeCount: "3.5" is not a whole number; want 1 to 100`},
		"zero nodes":      {strings.Replace(good, "name: platform-aks\n", "name: platform-aks\n    nodeCount: 0\n", 1), "line 9: azure.aks.nodeCount: node count 0 is out of range; want 1 to 100"},
		"too many":        {strings.Replace(good, "name: platform-aks\n", "name: platform-aks\n    nodeCount: 101\n", 1), "line 9: azure.aks.nodeCount: node count 101"},
		"bad name":        {strings.Replace(good, "name: acme", "name: Acme_1", 1), "line 3: name: "},
		"bad guid":        {strings.Replace(good, "0000-000000000001", "x", 1), "line 5: azure.subscriptionID"},
		"bad allow":       {good + "secrets:\n  allow:\n  - path: x\n    rule: generic-api-key\n", "line 13: secrets.allow[0]: reason is required"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Parse([]byte(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), Path) {
				t.Errorf("error %v, want one naming %s and containing %q", err, Path, tc.want)
			}
		})
	}
}

func TestMarshalRoundTrip(t *testing.T) {
	in := Config{Name: "acme", Azure: Azure{SubscriptionID: "00000000-0000-0000-0000-000000000001", ResourceGroup: "rg", AKS: AKS{Name: "aks", NodeCount: 5}},
		Crossplane: Crossplane{API: CrossplaneV1}, Secrets: Secrets{Allow: []secrets.Allow{{Path: "docs/*.md", Rule: "github-pat", Reason: "revoked sample"}}}}
	data, err := Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := Parse(data)
	if err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	in.APIVersion, in.Kind = APIVersion, Kind
	if !reflect.DeepEqual(out, in) {
		t.Errorf("round trip: %+v != %+v", out, in)
	}
	if _, err := Marshal(Config{GitOps: GitOps{Changes: "x"}}); err == nil {
		t.Error("Marshal accepted an invalid config")
	}
}
