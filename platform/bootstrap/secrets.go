package bootstrap

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/back-stack/idp/gitops/secrets"
)

// SecretError is a rendered file holding a Kubernetes Secret object, which
// the bootstrap never commits (the credentials go straight to the
// clusters). Nothing is committed when it is returned.
type SecretError struct {
	Path, What string
	Line       int
}

func (e *SecretError) Error() string {
	return fmt.Sprintf("bootstrap: %s line %d holds %s; the GitOps repository must never hold a secret (nothing was committed)", e.Path, e.Line, e.What)
}

// secretKind finds a Secret object. gitleaks' kubernetes-secret-yaml rule
// needs a data: block with values; the bootstrap refuses any Secret.
var secretKind = regexp.MustCompile(`(?m)^kind:\s*["']?Secret["']?\s*$`)

// CheckNoSecrets refuses rendered files that hold a Kubernetes Secret or
// anything gitleaks' default rules take for a credential (the scan every
// commit passes, run here on Render's output too so that --dry-run says so
// as well); allow are the platform's explicit exceptions (secrets.allow).
// References to a Secret by name (secretRef, writeConnectionSecretToRef)
// are fine.
func CheckNoSecrets(files Files, allow []secrets.Allow) error {
	scan := make([]secrets.File, 0, len(files))
	for _, f := range files {
		text := string(f.Content)
		if loc := secretKind.FindStringIndex(text); loc != nil {
			return &SecretError{Path: f.Path, What: "a Kubernetes Secret", Line: 1 + strings.Count(text[:loc[0]], "\n")}
		}
		scan = append(scan, secrets.File{Path: f.Path, Content: f.Content})
	}
	if err := secrets.Scan(scan, allow); err != nil {
		return fmt.Errorf("bootstrap: %w", err)
	}
	return nil
}
