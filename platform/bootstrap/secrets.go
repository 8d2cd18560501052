package bootstrap

import (
	"fmt"
	"regexp"
	"strings"
)

// SecretError is a rendered file holding something that looks secret.
// Nothing is committed when it is returned.
type SecretError struct {
	Path, What string
	Line       int
}

func (e *SecretError) Error() string {
	return fmt.Sprintf("bootstrap: %s line %d holds %s; the GitOps repository must never hold a secret (nothing was committed)", e.Path, e.Line, e.What)
}

// secretPatterns are what credentials look like in text.
var secretPatterns = []struct {
	what string
	re   *regexp.Regexp
}{
	{"a private key", regexp.MustCompile(`-----BEGIN [A-Z ]*PRIVATE KEY( BLOCK)?-----`)},
	{"a Kubernetes Secret", regexp.MustCompile(`(?m)^kind:\s*["']?Secret["']?\s*$`)},
	{"an Azure client secret", regexp.MustCompile(`\b[A-Za-z0-9_~.-]{3}\dQ~[A-Za-z0-9_~.-]{31,34}\b`)},
	{"a GitHub token", regexp.MustCompile(`\b(gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})\b`)},
	{"an Azure DevOps or storage key", regexp.MustCompile(`(?i)\b(AccountKey|SharedAccessKey)=[A-Za-z0-9+/=]{20,}`)},
	{"a JSON web token", regexp.MustCompile(`\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}`)},
	{"a password in a URL", regexp.MustCompile(`[a-z][a-z0-9+.-]*://[^/\s:@"']+:[^/\s@"']+@`)},
	{"kubeconfig credentials", regexp.MustCompile(`(?m)^\s*(client-key-data|client-certificate-data|token):\s*\S{16,}`)},
	{"a credential value", regexp.MustCompile(`(?im)(^|[\s{,])"?(password|passwd|clientSecret|client_secret|apiKey|api_key|accessKey|secretKey|sharedKey|privateKey)"?\s*:\s*["']?[^\s"'{}\[\],]{4,}`)},
}

// CheckNoSecrets refuses files that hold anything that looks like a
// credential. Render runs it on its own output, so a template or a
// configuration value can never smuggle one into Git; references to a
// Secret by name (secretRef, writeConnectionSecretToRef) are fine.
func CheckNoSecrets(files Files) error {
	for _, f := range files {
		text := string(f.Content)
		for _, p := range secretPatterns {
			if loc := p.re.FindStringIndex(text); loc != nil {
				return &SecretError{Path: f.Path, What: p.what, Line: 1 + strings.Count(text[:loc[0]], "\n")}
			}
		}
	}
	return nil
}
