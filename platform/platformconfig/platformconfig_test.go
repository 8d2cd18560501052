package platformconfig

import (
	"strings"
	"testing"
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
	in := Config{Name: "acme", Azure: Azure{SubscriptionID: "s", ResourceGroup: "rg", AKS: AKS{Name: "aks"}}, Crossplane: Crossplane{API: CrossplaneV1}}
	data, err := Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := Parse(data)
	if err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	in.APIVersion, in.Kind = APIVersion, Kind
	if out != in {
		t.Errorf("round trip: %+v != %+v", out, in)
	}
	if _, err := Marshal(Config{GitOps: GitOps{Changes: "x"}}); err == nil {
		t.Error("Marshal accepted an invalid config")
	}
}
