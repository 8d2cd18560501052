package platformconfig

import (
	"errors"
	"os/exec"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// validatorCase is one value for a validator: ok, or an error that must
// contain every string in want (what is wrong and what is allowed).
type validatorCase struct {
	in   string
	want []string // nil: valid
}

func ok(in string) validatorCase                  { return validatorCase{in: in} }
func bad(in string, want ...string) validatorCase { return validatorCase{in: in, want: want} }

func runValidator(t *testing.T, name string, fn func(string) error, cases []validatorCase) {
	t.Helper()
	t.Run(name, func(t *testing.T) {
		for _, tc := range cases {
			err := fn(tc.in)
			if tc.want == nil {
				if err != nil {
					t.Errorf("%s(%q) = %v, want ok", name, tc.in, err)
				}
				continue
			}
			if err == nil {
				t.Errorf("%s(%q) accepted it", name, tc.in)
				continue
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%s(%q) = %q, want it to contain %q", name, tc.in, err, w)
				}
			}
		}
	})
}

func TestFieldValidators(t *testing.T) {
	const guidRule = "8-4-4-4-12 hexadecimal"
	runValidator(t, "ValidateSubscriptionID", ValidateSubscriptionID, []validatorCase{
		ok("00000000-0000-0000-0000-000000000001"),
		ok("6F1B2C3D-aaaa-4bbb-8ccc-0123456789ab"),
		bad("", "empty", "GUID"),
		bad("sub-1", `"sub-1" is not a GUID`, guidRule),
		bad("00000000-0000-0000-0000-00000000000", guidRule),
		bad("00000000-0000-0000-0000-00000000000g", guidRule),
		bad("{00000000-0000-0000-0000-000000000001}", guidRule),
	})
	runValidator(t, "ValidateTenantID", ValidateTenantID, []validatorCase{
		ok("72f988bf-86f1-41af-91ab-2d7cd011db47"),
		bad("contoso.onmicrosoft.com", "tenant ID", guidRule),
	})

	const rg = `1-90 letters, digits, "_", "-", ".", "(" or ")", not ending in "."`
	runValidator(t, "ValidateResourceGroup", ValidateResourceGroup, []validatorCase{
		ok("rg-idp-platform"), ok("a"), ok("Platform_(prod).eu"), ok(strings.Repeat("r", 90)), ok("rg-café"),
		bad("", "empty", rg),
		bad(strings.Repeat("r", 91), "91 characters", rg),
		bad("rg.", `ends in "."`, rg),
		bad("my rg", "a space", rg),
		bad("rg/x", `contains "/"`, rg),
		bad("rg#1", `contains "#"`, rg),
	})

	const aks = `1-63 letters, digits, "-" or "_", starting and ending with a letter or digit`
	runValidator(t, "ValidateAKSName", ValidateAKSName, []validatorCase{
		ok("aks-idp-platform"), ok("a"), ok("AKS_prod_1"), ok(strings.Repeat("a", 63)),
		bad("", "empty", aks),
		bad(strings.Repeat("a", 64), "64 characters", aks),
		bad("-aks", `starts or ends with "-"`, aks),
		bad("aks_", `starts or ends with "_"`, aks),
		bad("aks.prod", `contains "."`, aks),
		bad("aks prod", "a space", aks),
	})

	const acr = "5-50 lower-case letters and digits"
	runValidator(t, "ValidateACRName", ValidateACRName, []validatorCase{
		ok("idpplatform"), ok("acr01"), ok(strings.Repeat("a", 50)),
		bad("", "empty", acr),
		bad("acr1", "4 characters", acr),
		bad(strings.Repeat("a", 51), "51 characters", acr),
		bad("IdpPlatform", "upper case", `"idpplatform"`, acr),
		bad("idp-platform", `contains "-"`, acr),
		bad("idp_platform", `contains "_"`, acr),
	})

	const dns = `1-63 lower-case letters, digits or "-"`
	runValidator(t, "ValidateDNSLabel", ValidateDNSLabel, []validatorCase{
		ok("acme"), ok("a"), ok("acme-prod-1"), ok(strings.Repeat("a", 63)),
		bad("", "empty", dns),
		bad("Acme", `contains "A"`, dns),
		bad("acme.io", `contains "."`, dns),
		bad("-acme", `starts or ends with "-"`, dns),
		bad("acme_1", `contains "_"`, dns),
		bad(strings.Repeat("a", 64), "64 characters", dns),
	})

	const region = "did you mean"
	runValidator(t, "ValidateLocation", ValidateLocation, []validatorCase{
		ok("westeurope"), ok("northeurope"), ok("eastus"), ok("eastus2"), ok("westus2"),
		ok("uksouth"), ok("swedencentral"), ok("germanywestcentral"),
		bad("", "empty", "westeurope"),
		bad("West Europe", `write it as "westeurope"`),
		bad("westeuope", region, "westeurope"),
		bad("eastus4", region, "eastus"),
		bad("germany", region, "germanywestcentral", "germanynorth"),
		bad("sweden", region, "swedencentral"),
		bad("mars", "not an Azure public-cloud region", "known regions include"),
		bad("westeurope2", region, "westeurope"),
	})

	const vm = "Standard_<family><vCPUs>"
	runValidator(t, "ValidateVMSize", ValidateVMSize, []validatorCase{
		ok("Standard_D4s_v5"), ok("Standard_B2ms"), ok("Standard_E8-4ds_v5"), ok("Standard_NC24ads_A100_v4"), ok("Standard_DS2_v2"),
		bad("", "empty", vm),
		bad("standard_D4s_v5", `write "Standard_D4s_v5"`, vm),
		bad("D4s_v5", "does not look like one", vm),
		bad("Basic_A1", vm),
		bad("Standard_", vm),
		bad("Standard_D4s v5", vm),
	})

	runValidator(t, "ParseNodeCount", func(s string) error { _, err := ParseNodeCount(s); return err }, []validatorCase{
		ok("1"), ok("3"), ok("100"), ok(" 5 "),
		bad("0", "out of range", "1 to 100"),
		bad("101", "out of range", "1 to 100"),
		bad("-2", "1 to 100"),
		bad("three", "not a whole number", "1 to 100"),
		bad("", "not a whole number"),
	})

	const kv = "MAJOR.MINOR (AKS picks the newest patch) or MAJOR.MINOR.PATCH"
	runValidator(t, "ValidateKubernetesVersion", ValidateKubernetesVersion, []validatorCase{
		ok("1.35"), ok("1.34.2"), ok("1.9"),
		bad("", "empty", kv),
		bad("v1.35", `write "1.35"`, kv),
		bad("1", "not a version", kv),
		bad("1.35.2.1", kv),
		bad("1.035", kv),
		bad("1.35-rc.1", kv),
		bad("2.0", "only major version 1", kv),
		bad("latest", kv),
	})

	const ver = "MAJOR.MINOR.PATCH"
	runValidator(t, "ValidateVersion", ValidateVersion, []validatorCase{
		ok("2.1.0"), ok("v2.7.0"), ok("10.1.1"), ok("v1.21.2"), ok("3.9.0-rc.1"),
		bad("", "empty", ver),
		bad("2.1", "not a semantic version", ver),
		bad("latest", ver),
		bad("v2.1.0 ", ver),
		bad("~2.1.0", ver),
	})

	runValidator(t, "ValidateChangePolicy", ValidateChangePolicy, []validatorCase{
		ok("direct"), ok("pull-request"),
		bad("", `"direct"`, `"pull-request"`),
		bad("pr", `"direct"`, `"pull-request"`),
	})

	const gitURL = "https://host/path, ssh://"
	runValidator(t, "ValidateGitURL", ValidateGitURL, []validatorCase{
		ok("https://github.com/acme/platform-gitops.git"),
		ok("http://127.0.0.1:8080/gitops.git"),
		ok("https://git@dev.azure.com/acme/platform/_git/gitops"),
		ok("ssh://git@github.com/acme/gitops.git"),
		ok("ssh://git@ssh.dev.azure.com:22/v3/acme/platform/gitops"),
		ok("git@github.com:acme/gitops.git"),
		ok("github.com:acme/gitops.git"),
		ok("file:///srv/git/gitops.git"),
		ok("/srv/git/gitops.git"),
		ok("./gitops"),
		ok("../gitops.git"),
		bad("", "empty", gitURL),
		bad("https://github.com", "names no repository path", gitURL),
		bad("https://idp:s3cret@github.com/acme/gitops.git", "holds a password", "REDACTED"),
		bad("ftp://example.com/gitops.git", `scheme "ftp"`, gitURL),
		bad("https:///gitops.git", "has no host", gitURL),
		bad("github.com/acme/gitops", "neither a URL nor a path", gitURL),
		bad("gitops", "neither a URL nor a path", gitURL),
		bad("https://github.com/acme/git ops.git", "white space", gitURL),
		bad("git@github.com:", "names no repository path", gitURL),
	})

	const br = "git check-ref-format --branch"
	runValidator(t, "ValidateBranch", ValidateBranch, []validatorCase{
		ok("main"), ok("release/2026-07"), ok("feature/idp.bootstrap"), ok("a"), ok("v1.0"),
		bad("", "empty", br),
		bad("HEAD", "reserves", br),
		bad("@", br),
		bad("-main", `starts with "-"`, br),
		bad("/main", `starts or ends with "/"`, br),
		bad("main/", `starts or ends with "/"`, br),
		bad("a//b", `contains "//"`, br),
		bad("main.", `ends with "."`, br),
		bad("a..b", `contains ".."`, br),
		bad("a@{b", `contains "@{"`, br),
		bad("my branch", "a space", br),
		bad("a~1", `contains "~"`, br),
		bad("a^", `contains "^"`, br),
		bad("a:b", `contains ":"`, br),
		bad("a?", `contains "?"`, br),
		bad("a*", `contains "*"`, br),
		bad("a[b", `contains "["`, br),
		bad(`a\b`, `contains "\\"`, br),
		bad("a\tb", "U+0009", br),
		bad("feature/.hidden", `component ".hidden"`, br),
		bad("refs.lock", `component "refs.lock"`, br),
		bad("x/y.lock/z", `".lock"`, br),
	})
}

// The branch rules agree with git itself on every case above and a few
// more, where git is available.
func TestBranchRulesMatchGit(t *testing.T) {
	git, err := lookGit()
	if err != nil {
		t.Skip("no git:", err)
	}
	for _, b := range []string{"main", "release/2026-07", "a..b", "a//b", "-x", "x.", "x.lock", "a@{b", "@", "a b", "a~b", ".x", "x/.y", "a\\b", "é", "a/b/c", "x:y", "HEAD", "refs/heads/x"} {
		gitOK := git(b)
		ours := ValidateBranch(b) == nil
		if b == "HEAD" || b == "@" {
			// git check-ref-format --branch takes these as the current
			// branch, but `git branch` refuses to create them; so do we.
			continue
		}
		if gitOK != ours {
			t.Errorf("branch %q: git says ok=%v, ValidateBranch says ok=%v (%v)", b, gitOK, ours, ValidateBranch(b))
		}
	}
}

func TestNearestRegions(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"westeurop", []string{"westeurope"}},
		{"uk", nil},
		{"uksout", []string{"uksouth"}},
		{"japan", []string{"japaneast", "japanwest"}},
		{"eastus3", []string{"eastus", "eastus2"}},
		{"xyzzy", nil},
	} {
		got := NearestRegions(tc.in, 3)
		for _, w := range tc.want {
			if !slices.Contains(got, w) {
				t.Errorf("NearestRegions(%q) = %v, want it to include %s", tc.in, got, w)
			}
		}
		if tc.want == nil && len(got) > 0 && tc.in == "xyzzy" {
			t.Errorf("NearestRegions(%q) = %v, want nothing", tc.in, got)
		}
		if len(got) > 3 {
			t.Errorf("NearestRegions(%q) returned %d names", tc.in, len(got))
		}
	}
	if !slices.IsSorted(Regions) || len(slices.Compact(slices.Clone(Regions))) != len(Regions) {
		t.Error("Regions must be sorted and unique (ValidateLocation searches it)")
	}
	for _, r := range Regions {
		if ValidateDNSLabel(r) != nil {
			t.Errorf("region %q is not a programmatic name", r)
		}
	}
}

func TestValidateForBootstrap(t *testing.T) {
	good := Defaults()
	good.Azure.SubscriptionID = "00000000-0000-0000-0000-000000000001"
	good.Azure.TenantID = "00000000-0000-0000-0000-000000000002"
	good.Azure.ACR.Name = SuggestACRName(good.Azure.SubscriptionID, good.Azure.ResourceGroup)
	good.GitOps.URL = "https://github.com/acme/gitops.git"
	if err := good.ValidateForBootstrap(); err != nil {
		t.Fatalf("the defaults with the four answers the wizard asks for: %v", err)
	}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}

	// The defaults alone lack exactly what has no default.
	err := Defaults().ValidateForBootstrap()
	var fe FieldErrors
	if !errors.As(err, &fe) {
		t.Fatalf("error %T %v, want FieldErrors", err, err)
	}
	var fields []string
	for _, e := range fe {
		fields = append(fields, e.Field)
	}
	if got := strings.Join(fields, ","); got != "azure.subscriptionID,azure.tenantID,azure.acr.name,gitops.url" {
		t.Errorf("fields missing from the defaults: %s", got)
	}
	if fe.Field("azure.acr.name") == nil || fe.Field("azure.location") != nil {
		t.Error("FieldErrors.Field")
	}

	broken := good
	broken.Azure.Location = "westeuope"
	broken.Azure.AKS.NodeCount = 0
	broken.Components.ArgoCD = "latest"
	broken.Name = "Acme"
	err = broken.ValidateForBootstrap()
	for _, want := range []string{
		`name: "Acme" contains "A"`,
		`azure.location: region "westeuope" is not an Azure public-cloud region; did you mean westeurope`,
		"azure.aks.nodeCount: node count 0 is out of range",
		`components.argocd: version "latest"`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v, want it to contain %q", err, want)
		}
	}
}

func TestDefaultsAndWithDefaults(t *testing.T) {
	d := Defaults()
	for field, v := range map[string]string{
		"crossplane": d.Components.Crossplane, "providerAzure": d.Components.ProviderAzure,
		"functionPatchAndTransform": d.Components.FunctionPatchAndTransform, "argocd": d.Components.ArgoCD,
		"kyverno": d.Components.Kyverno, "ingressNginx": d.Components.IngressNginx, "certManager": d.Components.CertManager,
	} {
		if err := ValidateVersion(v); err != nil {
			t.Errorf("default %s: %v", field, err)
		}
	}
	for _, err := range []error{
		ValidateLocation(d.Azure.Location), ValidateResourceGroup(d.Azure.ResourceGroup), ValidateAKSName(d.Azure.AKS.Name),
		ValidateVMSize(d.Azure.AKS.NodeVMSize), ValidateNodeCount(d.Azure.AKS.NodeCount), ValidateKubernetesVersion(d.Azure.AKS.KubernetesVersion),
		ValidateBranch(d.GitOps.Branch), ValidateChangePolicy(d.GitOps.Changes), ValidateACRName(SuggestACRName("a", "b")),
	} {
		if err != nil {
			t.Errorf("a default is invalid: %v", err)
		}
	}
	if SuggestACRName("a", "b") != SuggestACRName("a", "b") || SuggestACRName("a", "b") == SuggestACRName("a", "c") {
		t.Error("SuggestACRName is not a stable function of its seed")
	}

	partial := Config{Azure: Azure{Location: "uksouth", AKS: AKS{NodeCount: 5}}, Components: Components{ArgoCD: "10.0.0"}}
	full := partial.WithDefaults()
	if full.Azure.Location != "uksouth" || full.Azure.AKS.NodeCount != 5 || full.Components.ArgoCD != "10.0.0" {
		t.Errorf("WithDefaults overwrote given values: %+v", full)
	}
	if full.Azure.AKS.Name != d.Azure.AKS.Name || full.Components.Kyverno != d.Components.Kyverno || full.APIVersion != APIVersion || full.GitOps.Branch != "main" {
		t.Errorf("WithDefaults left defaults out: %+v", full)
	}
	if full.Azure.SubscriptionID != "" || full.GitOps.URL != "" {
		t.Error("WithDefaults invented a subscription or URL")
	}

	for _, tc := range []struct{ name, want string }{
		{"aks-idp-platform", "aks-idp-platform"},
		{"AKS_Prod", "aks-prod"},
		{strings.Repeat("a", 53) + "_b" + strings.Repeat("c", 8), strings.Repeat("a", 53)},
	} {
		got := AKS{Name: tc.name}.DNSPrefix()
		if got != tc.want || ValidateDNSLabel(got) != nil || len(got) > 54 {
			t.Errorf("DNSPrefix(%q) = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestFullRoundTrip(t *testing.T) {
	in := Defaults()
	in.Name = "acme"
	in.Azure.SubscriptionID = "00000000-0000-0000-0000-000000000001"
	in.Azure.TenantID = "00000000-0000-0000-0000-000000000002"
	in.Azure.ACR.Name = "acmeplatform"
	in.GitOps.URL = "git@github.com:acme/gitops.git"
	in.GitOps.Changes = ChangePullRequest
	data, err := Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := Parse(data)
	if err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	if !reflect.DeepEqual(out, in) {
		t.Errorf("round trip:\n%+v\n%+v", out, in)
	}
	for _, key := range []string{"nodeVMSize: Standard_D4s_v5", "nodeCount: 3", "kubernetesVersion: \"1.35\"", "acr:\n    name: acmeplatform",
		"url: git@github.com:acme/gitops.git", "branch: main", "components:", "providerAzure: v2.7.0", "functionPatchAndTransform: v0.10.8", "certManager: v1.21.2"} {
		if !strings.Contains(string(data), key) {
			t.Errorf("marshalled file lacks %q:\n%s", key, data)
		}
	}
}

// lookGit returns a function that asks git whether a branch name is valid.
func lookGit() (func(string) bool, error) {
	path, err := exec.LookPath("git")
	if err != nil {
		return nil, err
	}
	return func(b string) bool {
		return exec.Command(path, "check-ref-format", "--branch", b).Run() == nil
	}, nil
}
