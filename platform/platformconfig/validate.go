package platformconfig

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The field validators below check one value each, so the bootstrap wizard
// can call them as the user types. Every error says what is wrong with the
// value and what is allowed.

var guidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// ValidateSubscriptionID checks an Azure subscription ID: a GUID.
func ValidateSubscriptionID(s string) error { return validateGUID("subscription ID", s) }

// ValidateTenantID checks an Azure (Entra ID) tenant ID: a GUID.
func ValidateTenantID(s string) error { return validateGUID("tenant ID", s) }

func validateGUID(what, s string) error {
	if guidRE.MatchString(s) {
		return nil
	}
	if s == "" {
		return fmt.Errorf("the %s is empty; want a GUID such as 00000000-0000-0000-0000-000000000000 (az account show prints it)", what)
	}
	return fmt.Errorf("%s %q is not a GUID; want 8-4-4-4-12 hexadecimal digits such as 00000000-0000-0000-0000-000000000000", what, s)
}

const rgRule = `a resource group name is 1-90 letters, digits, "_", "-", ".", "(" or ")", not ending in "."`

// ValidateResourceGroup checks an Azure resource group name.
func ValidateResourceGroup(s string) error {
	n := utf8.RuneCountInString(s)
	switch {
	case n == 0:
		return errors.New("the resource group name is empty; " + rgRule)
	case n > 90:
		return fmt.Errorf("resource group %q is %d characters long; %s", s, n, rgRule)
	case strings.HasSuffix(s, "."):
		return fmt.Errorf("resource group %q ends in \".\"; %s", s, rgRule)
	}
	for _, r := range s {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && !strings.ContainsRune("_-.()", r) {
			return fmt.Errorf("resource group %q contains %s; %s", s, describe(r), rgRule)
		}
	}
	return nil
}

const aksRule = `an AKS cluster name is 1-63 letters, digits, "-" or "_", starting and ending with a letter or digit`

// ValidateAKSName checks an AKS cluster name.
func ValidateAKSName(s string) error {
	switch {
	case s == "":
		return errors.New("the AKS cluster name is empty; " + aksRule)
	case len(s) > 63:
		return fmt.Errorf("AKS cluster name %q is %d characters long; %s", s, len(s), aksRule)
	}
	for _, r := range s {
		if !isAlnum(r) && r != '-' && r != '_' {
			return fmt.Errorf("AKS cluster name %q contains %s; %s", s, describe(r), aksRule)
		}
	}
	if !isAlnum(rune(s[0])) || !isAlnum(rune(s[len(s)-1])) {
		return fmt.Errorf("AKS cluster name %q starts or ends with %q; %s", s, string(edge(s)), aksRule)
	}
	return nil
}

const acrRule = "an ACR name is 5-50 lower-case letters and digits, unique across Azure (it becomes NAME.azurecr.io)"

// ValidateACRName checks an Azure Container Registry name. Azure accepts
// upper case but the registry's login server is lower case, and the name
// is global: idp takes lower case only, so the name in Git is the name in
// image references.
func ValidateACRName(s string) error {
	switch {
	case s == "":
		return errors.New("the ACR name is empty; " + acrRule)
	case len(s) < 5 || len(s) > 50:
		return fmt.Errorf("ACR name %q is %d characters long; %s", s, len(s), acrRule)
	}
	for _, r := range s {
		switch {
		case r >= 'A' && r <= 'Z':
			return fmt.Errorf("ACR name %q has upper case; write %q: %s", s, strings.ToLower(s), acrRule)
		case !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9'):
			return fmt.Errorf("ACR name %q contains %s; %s", s, describe(r), acrRule)
		}
	}
	return nil
}

const dnsRule = `a DNS label is 1-63 lower-case letters, digits or "-", starting and ending with a letter or digit`

// ValidateDNSLabel checks an RFC 1123 DNS label, for names that become
// part of a host name or a Kubernetes object's name.
func ValidateDNSLabel(s string) error {
	switch {
	case s == "":
		return errors.New("the name is empty; " + dnsRule)
	case len(s) > 63:
		return fmt.Errorf("%q is %d characters long; %s", s, len(s), dnsRule)
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return fmt.Errorf("%q contains %s; %s", s, describe(r), dnsRule)
		}
	}
	if s[0] == '-' || s[len(s)-1] == '-' {
		return fmt.Errorf("%q starts or ends with \"-\"; %s", s, dnsRule)
	}
	return nil
}

var vmSizeRE = regexp.MustCompile(`^Standard_[A-Z][A-Za-z0-9-]*(_[A-Za-z0-9-]+)*$`)

// ValidateVMSize checks the shape of an Azure VM size name (whether the
// region offers it is Azure's to say): Standard_<family and size>, an
// optional suffix and version, as in Standard_D4s_v5 or Standard_E8-4ds_v5.
func ValidateVMSize(s string) error {
	if vmSizeRE.MatchString(s) {
		return nil
	}
	const rule = "want an AKS-capable VM size, Standard_<family><vCPUs>[features][_version] such as Standard_D4s_v5 or Standard_B2ms"
	if s == "" {
		return errors.New("the VM size is empty; " + rule)
	}
	if strings.HasPrefix(strings.ToLower(s), "standard_") && !strings.HasPrefix(s, "Standard_") {
		return fmt.Errorf("VM size %q: write %q; %s", s, "Standard_"+s[len("standard_"):], rule)
	}
	return fmt.Errorf("VM size %q does not look like one; %s", s, rule)
}

// Node counts the system node pool may have.
const (
	MinNodeCount = 1
	MaxNodeCount = 100
)

// ValidateNodeCount checks the system node pool's size.
func ValidateNodeCount(n int) error {
	if n < MinNodeCount || n > MaxNodeCount {
		return fmt.Errorf("node count %d is out of range; want %d to %d", n, MinNodeCount, MaxNodeCount)
	}
	return nil
}

// ParseNodeCount reads a node count as typed into a form and validates it.
func ParseNodeCount(s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("node count %q is not a whole number; want %d to %d", s, MinNodeCount, MaxNodeCount)
	}
	return n, ValidateNodeCount(n)
}

var k8sVersionRE = regexp.MustCompile(`^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))?$`)

// ValidateKubernetesVersion checks MAJOR.MINOR or MAJOR.MINOR.PATCH, with
// no "v" and no pre-release: the forms AKS accepts.
func ValidateKubernetesVersion(s string) error {
	const rule = "want MAJOR.MINOR (AKS picks the newest patch) or MAJOR.MINOR.PATCH, such as 1.35 or 1.35.1"
	switch {
	case s == "":
		return errors.New("the Kubernetes version is empty; " + rule)
	case strings.HasPrefix(s, "v") && k8sVersionRE.MatchString(s[1:]):
		return fmt.Errorf("Kubernetes version %q: write %q without the v; %s", s, s[1:], rule)
	case !k8sVersionRE.MatchString(s):
		return fmt.Errorf("Kubernetes version %q is not a version; %s", s, rule)
	case !strings.HasPrefix(s, "1."):
		return fmt.Errorf("Kubernetes version %q: only major version 1 exists; %s", s, rule)
	}
	return nil
}

var semverRE = regexp.MustCompile(`^v?(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$`)

// ValidateVersion checks a component's version: a semantic version
// MAJOR.MINOR.PATCH, with or without a leading "v", such as a Helm chart
// version (10.1.1) or a package tag (v2.7.0).
func ValidateVersion(s string) error {
	const rule = "want a release version MAJOR.MINOR.PATCH such as 2.1.0 or v2.1.0"
	switch {
	case s == "":
		return errors.New("the version is empty; " + rule)
	case !semverRE.MatchString(s):
		return fmt.Errorf("version %q is not a semantic version; %s", s, rule)
	}
	return nil
}

// ValidateChangePolicy checks how changes land in the GitOps repository.
func ValidateChangePolicy(s string) error {
	switch s {
	case ChangeDirect, ChangePullRequest:
		return nil
	}
	return fmt.Errorf("change policy %q: want %q (a commit on the branch) or %q (a branch and a pull request)", s, ChangeDirect, ChangePullRequest)
}

const gitURLRule = "want https://host/path, ssh://[user@]host[:port]/path, user@host:path (scp-like), file:///path or a local path"

var scpRE = regexp.MustCompile(`^(?:[A-Za-z0-9._~-]+@)?([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]):(.*)$`)

// ValidateGitURL checks the GitOps repository's URL in the forms git
// understands. A URL holding a password is refused: the URL is committed
// (and Argo CD shows it), credentials come from the credential helper, an
// ssh key or a token in the environment.
func ValidateGitURL(s string) error {
	switch {
	case s == "":
		return errors.New("the GitOps repository URL is empty; " + gitURLRule)
	case strings.TrimSpace(s) != s || strings.ContainsAny(s, " \t\r\n"):
		return fmt.Errorf("GitOps repository URL %q contains white space; %s", s, gitURLRule)
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return fmt.Errorf("GitOps repository URL %q contains a control character; %s", s, gitURLRule)
		}
	}
	if strings.Contains(s, "://") {
		u, err := url.Parse(s)
		if err != nil {
			return fmt.Errorf("GitOps repository URL %q does not parse: %v; %s", s, unwrapURLError(err), gitURLRule)
		}
		switch u.Scheme {
		case "https", "http", "ssh", "git", "git+ssh", "ssh+git":
			if u.Host == "" {
				return fmt.Errorf("GitOps repository URL %q has no host; %s", s, gitURLRule)
			}
		case "file":
		default:
			return fmt.Errorf("GitOps repository URL %q uses scheme %q; %s", s, u.Scheme, gitURLRule)
		}
		if _, ok := u.User.Password(); ok {
			return fmt.Errorf("GitOps repository URL %q holds a password, which would be committed; give the URL without it (idp takes credentials from the git credential helper, IDP_GIT_TOKEN or the ssh agent)", redact(u))
		}
		if strings.Trim(u.Path, "/") == "" {
			return fmt.Errorf("GitOps repository URL %q names no repository path; %s", s, gitURLRule)
		}
		return nil
	}
	if m := scpRE.FindStringSubmatch(s); m != nil && !strings.Contains(s[:strings.Index(s, ":")], "/") {
		if strings.Trim(m[2], "/") == "" {
			return fmt.Errorf("GitOps repository URL %q names no repository path; %s", s, gitURLRule)
		}
		return nil
	}
	if strings.HasPrefix(s, "/") || strings.HasPrefix(s, "./") || strings.HasPrefix(s, "../") || strings.HasPrefix(s, "~/") {
		return nil
	}
	return fmt.Errorf("GitOps repository URL %q is neither a URL nor a path; %s", s, gitURLRule)
}

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func redact(u *url.URL) string {
	c := *u
	c.User = url.UserPassword(u.User.Username(), "REDACTED")
	return c.String()
}

const branchRule = "a branch name is what `git check-ref-format --branch` accepts: no spaces, no ~ ^ : ? * [ \\ or control characters, no \"..\" or \"@{\", no component starting with \".\" or ending in \".lock\", not starting with \"-\" or \"/\", not ending with \"/\" or \".\""

// ValidateBranch checks a branch name by git's rules for ref names
// (git-check-ref-format(1)) as they apply to refs/heads/<name>.
func ValidateBranch(s string) error {
	bad := func(problem string) error {
		return fmt.Errorf("branch %q %s; %s", s, problem, branchRule)
	}
	switch {
	case s == "":
		return errors.New("the branch is empty; " + branchRule)
	case s == "@":
		return bad(`is "@"`)
	case s == "HEAD":
		return bad(`is "HEAD", which git reserves`)
	case strings.HasPrefix(s, "-"):
		return bad(`starts with "-"`)
	case strings.HasPrefix(s, "/") || strings.HasSuffix(s, "/"):
		return bad(`starts or ends with "/"`)
	case strings.Contains(s, "//"):
		return bad(`contains "//"`)
	case strings.HasSuffix(s, "."):
		return bad(`ends with "."`)
	case strings.Contains(s, ".."):
		return bad(`contains ".."`)
	case strings.Contains(s, "@{"):
		return bad(`contains "@{"`)
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || strings.ContainsRune(" ~^:?*[\\", r) {
			return bad("contains " + describe(r))
		}
	}
	for _, c := range strings.Split(s, "/") {
		if strings.HasPrefix(c, ".") {
			return bad(fmt.Sprintf("has component %q starting with \".\"", c))
		}
		if strings.HasSuffix(c, ".lock") {
			return bad(fmt.Sprintf("has component %q ending in \".lock\"", c))
		}
	}
	return nil
}

func isAlnum(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
}

func edge(s string) byte {
	if !isAlnum(rune(s[0])) {
		return s[0]
	}
	return s[len(s)-1]
}

// describe names a character for an error message.
func describe(r rune) string {
	switch {
	case r == ' ':
		return "a space"
	case unicode.IsControl(r) || !unicode.IsPrint(r):
		return fmt.Sprintf("the character %U", r)
	}
	return fmt.Sprintf("%q", string(r))
}

// FieldError is one field of the configuration that is wrong.
type FieldError struct {
	// Field is the YAML path, such as azure.aks.name.
	Field string
	Err   error
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Err.Error() }
func (e *FieldError) Unwrap() error { return e.Err }

// FieldErrors are every wrong field of a configuration, in file order.
type FieldErrors []*FieldError

func (es FieldErrors) Error() string {
	msgs := make([]string, len(es))
	for i, e := range es {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "\n")
}

// Field returns the error for one field, or nil.
func (es FieldErrors) Field(path string) error {
	for _, e := range es {
		if e.Field == path {
			return e.Err
		}
	}
	return nil
}

// ValidateForBootstrap checks every field the bootstrap needs against its
// rule; an empty field is an error too. It returns FieldErrors (nil when
// all is well). Validate, which Parse runs, checks only the format and the
// enumerations, because other features read a partial file.
func (c Config) ValidateForBootstrap() error {
	var errs FieldErrors
	check := func(field string, err error) {
		if err != nil {
			errs = append(errs, &FieldError{Field: field, Err: err})
		}
	}
	if c.APIVersion != APIVersion || c.Kind != Kind {
		check("apiVersion", fmt.Errorf("apiVersion/kind are %q/%q, want %q/%q", c.APIVersion, c.Kind, APIVersion, Kind))
	}
	if c.Name != "" {
		check("name", ValidateDNSLabel(c.Name))
	}
	check("azure.subscriptionID", ValidateSubscriptionID(c.Azure.SubscriptionID))
	check("azure.tenantID", ValidateTenantID(c.Azure.TenantID))
	check("azure.location", ValidateLocation(c.Azure.Location))
	check("azure.resourceGroup", ValidateResourceGroup(c.Azure.ResourceGroup))
	check("azure.aks.name", ValidateAKSName(c.Azure.AKS.Name))
	check("azure.aks.nodeVMSize", ValidateVMSize(c.Azure.AKS.NodeVMSize))
	check("azure.aks.nodeCount", ValidateNodeCount(c.Azure.AKS.NodeCount))
	check("azure.aks.kubernetesVersion", ValidateKubernetesVersion(c.Azure.AKS.KubernetesVersion))
	check("azure.acr.name", ValidateACRName(c.Azure.ACR.Name))
	check("gitops.url", ValidateGitURL(c.GitOps.URL))
	check("gitops.branch", ValidateBranch(c.GitOpsBranch()))
	check("gitops.changes", ValidateChangePolicy(c.ChangePolicy()))
	if api := c.CrossplaneAPI(); api != CrossplaneV2 && api != CrossplaneV1 {
		check("crossplane.api", fmt.Errorf("crossplane.api is %q, want %q or %q", api, CrossplaneV2, CrossplaneV1))
	}
	for _, v := range []struct{ field, value string }{
		{"components.crossplane", c.Components.Crossplane},
		{"components.providerAzure", c.Components.ProviderAzure},
		{"components.functionPatchAndTransform", c.Components.FunctionPatchAndTransform},
		{"components.argocd", c.Components.ArgoCD},
		{"components.kyverno", c.Components.Kyverno},
		{"components.ingressNginx", c.Components.IngressNginx},
		{"components.certManager", c.Components.CertManager},
	} {
		check(v.field, ValidateVersion(v.value))
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}
