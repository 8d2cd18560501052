package secrets

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
)

// random is a deterministic, high-entropy string over alphabet.
func random(seed uint64, n int, alphabet string) string {
	r := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return string(b)
}

const (
	alnum = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	lower = "abcdefghijklmnopqrstuvwxyz0123456789"
)

// Credentials shaped as the real ones are; each must be found, with its
// file, line and rule, and never repeated in the error.
var credentials = map[string]string{
	"github-pat":              "ghp_" + random(1, 36, alnum),
	"github-fine-grained-pat": "github_pat_" + random(2, 82, alnum+"_"),
	"gitlab-pat":              "glpat-" + random(3, 20, alnum),
	"private-key":             "-----BEGIN RSA PRIVATE KEY-----\n" + random(4, 64, alnum) + "\n" + random(5, 64, alnum) + "\n-----END RSA PRIVATE KEY-----",
	"slack-bot-token":         "xoxb-" + random(6, 11, "0123456789") + "-" + random(7, 12, "0123456789") + "-" + random(8, 24, alnum),
	"aws-access-token":        "AKIA" + random(9, 16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"),
	"stripe-access-token":     "sk_live_" + random(10, 24, alnum),
	"npm-access-token":        "npm_" + random(11, 36, lower),
	"gcp-api-key":             "AIza" + random(12, 35, alnum+"-_"),
	"jwt":                     "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ." + random(13, 43, alnum+"-_"),
}

func TestScanFindsCredentials(t *testing.T) {
	for rule, secret := range credentials {
		t.Run(rule, func(t *testing.T) {
			content := "apiVersion: v1\nkind: ConfigMap\ndata:\n  note: |\n    " + strings.ReplaceAll(secret, "\n", "\n    ") + "\n"
			err := Scan([]File{{Path: "ok.yaml", Content: []byte("a: 1\n")}, {Path: "apps/x/config.yaml", Content: []byte(content)}}, nil)
			var se *Error
			if !errors.As(err, &se) {
				t.Fatalf("Scan = %v, want a finding", err)
			}
			f := se.Findings[0]
			if f.Path != "apps/x/config.yaml" || f.Line != 5 || f.Rule == "" {
				t.Errorf("finding %+v, want apps/x/config.yaml line 5", f)
			}
			if f.Rule != rule {
				t.Logf("found as %s", f.Rule)
			}
			for _, part := range strings.Split(secret, "\n") {
				if len(part) > 8 && strings.Contains(err.Error(), part[len(part)-8:]) {
					t.Fatalf("the error repeats the secret: %v", err)
				}
			}
			if !strings.Contains(err.Error(), "nothing was written") {
				t.Errorf("error %q does not say nothing was written", err)
			}
		})
	}
}

// What idp legitimately writes about credentials is not a finding.
func TestScanLetsReferencesThrough(t *testing.T) {
	ok := `spec:
  credentials:
    source: Secret
    secretRef:
      name: azure-credentials
      key: credentials
  writeConnectionSecretToRef:
    name: kubeconfig
  password: ""
  repoURL: https://github.com/acme/gitops.git
`
	if err := Scan([]File{{Path: "platform/x.yaml", Content: []byte(ok)}}, nil); err != nil {
		t.Fatal(err)
	}
}

// An allow-list entry lets exactly its rule in exactly its paths through.
func TestScanAllowList(t *testing.T) {
	files := []File{{Path: "docs/example.md", Content: []byte("token: " + credentials["github-pat"] + "\n")}}
	allow := []Allow{{Path: "docs/*.md", Rule: "github-pat", Reason: "revoked sample token in the docs"}}
	if err := Scan(files, allow); err != nil {
		t.Fatalf("allowed finding refused: %v", err)
	}
	for name, a := range map[string]Allow{
		"other rule": {Path: "docs/*.md", Rule: "gitlab-pat", Reason: "x"},
		"other path": {Path: "apps/*", Rule: "github-pat", Reason: "x"},
	} {
		if err := Scan(files, []Allow{a}); err == nil {
			t.Errorf("%s: allowed", name)
		}
	}
	for name, a := range map[string]Allow{
		"no path":   {Rule: "github-pat", Reason: "x"},
		"no rule":   {Path: "docs/*.md", Reason: "x"},
		"no reason": {Path: "docs/*.md", Rule: "github-pat"},
		"bad glob":  {Path: "docs/[", Rule: "github-pat", Reason: "x"},
	} {
		if err := Scan(files, []Allow{a}); err == nil || !strings.Contains(err.Error(), "secrets.allow[0]") {
			t.Errorf("%s: %v, want the entry refused", name, err)
		}
	}
}

func BenchmarkScan(b *testing.B) {
	content := []byte(strings.Repeat("apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: payments-api\n", 50))
	files := []File{{Path: "apps/payments-api/application.yaml", Content: content}}
	if err := Scan(files, nil); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		Scan(files, nil)
	}
}

// gitleaks has no rule for credentials in a URL; idp adds one.
func TestScanURLCredentials(t *testing.T) {
	for content, want := range map[string]bool{
		"repoURL: https://idp:hunter22@git.example.com/acme/gitops.git\n":     true,
		"dsn: postgres://app:" + random(30, 20, alnum) + "@db:5432/app\n":     true,
		"repoURL: https://git@github.com/acme/gitops.git\n":                   false,
		"url: https://x-access-token:${GITHUB_TOKEN}@github.com/acme/x.git\n": false,
		"url: https://user:****@example.com/\n":                               false,
	} {
		err := Scan([]File{{Path: "a.yaml", Content: []byte("# x\n" + content)}}, nil)
		var se *Error
		if got := errors.As(err, &se); got != want {
			t.Errorf("%q: found %v, want %v", content, got, want)
		} else if got && (se.Findings[0].Rule != URLCredentialsRule || se.Findings[0].Line != 2) {
			t.Errorf("%q: %+v", content, se.Findings)
		}
	}
}
