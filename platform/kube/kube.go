// Package kube resolves which Kubernetes cluster idp talks to, with kubectl's
// rules, without contacting it.
package kube

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/util/homedir"
)

// Kinds of resolution failure, for errors.Is. The messages of the errors
// Resolve returns say what to do next.
var (
	ErrNoKubeconfig      = errors.New("no kubeconfig found")
	ErrNoContext         = errors.New("no current context")
	ErrContextNotFound   = errors.New("context not found")
	ErrInvalidKubeconfig = errors.New("invalid kubeconfig")
)

// resolveError carries a full message and the kind it is.
type resolveError struct {
	kind error
	msg  string
}

func (e *resolveError) Error() string { return e.msg }
func (e *resolveError) Unwrap() error { return e.kind }

func fail(kind error, format string, args ...any) error {
	return &resolveError{kind: kind, msg: fmt.Sprintf(format, args...)}
}

// Target is what a kubeconfig and context resolve to.
type Target struct {
	Context   string
	Cluster   string
	Server    string
	Namespace string
	User      string
	// KubeconfigPaths are the files that were read, in precedence order.
	KubeconfigPaths []string
}

// Resolve applies kubectl's rules: an explicit kubeconfig path wins; otherwise
// every file in KUBECONFIG (a path list) is merged, first one winning per key;
// otherwise ~/.kube/config. context overrides the kubeconfig's current-context.
//
// It reads files only. The returned Target is filled as far as resolution got,
// so a caller can show what was found next to the error.
func Resolve(kubeconfig, context string) (Target, *rest.Config, error) {
	rules := loadingRules(kubeconfig)
	target := Target{KubeconfigPaths: existing(rules)}
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: context})

	raw, err := cc.RawConfig()
	if errors.Is(err, fs.ErrNotExist) && kubeconfig != "" {
		return target, nil, fail(ErrNoKubeconfig, "no kubeconfig found: %s does not exist: fix --kubeconfig (or kubeconfig: in the idp config)", kubeconfig)
	}
	if err != nil {
		return target, nil, fail(ErrInvalidKubeconfig, "invalid kubeconfig: %v", err)
	}
	if len(raw.Contexts) == 0 && len(raw.Clusters) == 0 {
		return target, nil, noKubeconfig(rules, kubeconfig)
	}

	target.Context = context
	if target.Context == "" {
		target.Context = raw.CurrentContext
	}
	names := contextNames(raw.Contexts)
	if target.Context == "" {
		return target, nil, fail(ErrNoContext, "no current context in kubeconfig %s: pass --context (one of: %s) or run `kubectl config use-context NAME`",
			strings.Join(target.KubeconfigPaths, ", "), orNone(names))
	}
	kctx, ok := raw.Contexts[target.Context]
	if !ok {
		return target, nil, fail(ErrContextNotFound, "context %q not found in kubeconfig %s (available: %s): fix --context (or context: in the idp config)",
			target.Context, strings.Join(target.KubeconfigPaths, ", "), orNone(names))
	}
	target.Cluster, target.User = kctx.Cluster, kctx.AuthInfo
	if c, ok := raw.Clusters[kctx.Cluster]; ok {
		target.Server = c.Server
	}

	cfg, err := cc.ClientConfig()
	if err != nil {
		return target, nil, fail(ErrInvalidKubeconfig, "invalid kubeconfig for context %q: %v", target.Context, err)
	}
	target.Server = cfg.Host
	if target.Namespace, _, err = cc.Namespace(); err != nil {
		return target, nil, fail(ErrInvalidKubeconfig, "invalid kubeconfig for context %q: %v", target.Context, err)
	}
	return target, cfg, nil
}

// loadingRules builds kubectl's rules, reading KUBECONFIG and the home
// directory now rather than at package init as clientcmd's defaults do.
func loadingRules(explicit string) *clientcmd.ClientConfigLoadingRules {
	rules := &clientcmd.ClientConfigLoadingRules{ExplicitPath: explicit}
	if env := os.Getenv(clientcmd.RecommendedConfigPathEnvVar); env != "" {
		for _, p := range filepath.SplitList(env) {
			if p != "" && !slices.Contains(rules.Precedence, p) {
				rules.Precedence = append(rules.Precedence, p)
			}
		}
	} else {
		rules.Precedence = []string{defaultKubeconfig()}
	}
	// No migration (it writes files) and no klog warnings (they would land on the TUI):
	// a missing kubeconfig is reported as an error instead.
	return rules
}

func defaultKubeconfig() string {
	return filepath.Join(homedir.HomeDir(), clientcmd.RecommendedHomeDir, clientcmd.RecommendedFileName)
}

// existing returns the kubeconfig files the rules will read.
func existing(rules *clientcmd.ClientConfigLoadingRules) []string {
	if rules.ExplicitPath != "" {
		return []string{rules.ExplicitPath}
	}
	var paths []string
	for _, p := range rules.Precedence {
		if _, err := os.Stat(p); err == nil {
			paths = append(paths, p)
		}
	}
	return paths
}

func noKubeconfig(rules *clientcmd.ClientConfigLoadingRules, explicit string) error {
	switch {
	case explicit != "":
		return fail(ErrNoKubeconfig, "no kubeconfig found: %s has no clusters or contexts: fix --kubeconfig (or kubeconfig: in the idp config)", explicit)
	case os.Getenv(clientcmd.RecommendedConfigPathEnvVar) != "":
		return fail(ErrNoKubeconfig, "no kubeconfig found: KUBECONFIG=%s has no clusters or contexts: set --kubeconfig, or fix KUBECONFIG",
			os.Getenv(clientcmd.RecommendedConfigPathEnvVar))
	}
	return fail(ErrNoKubeconfig, "no kubeconfig found: set --kubeconfig or KUBECONFIG, or create %s (for example with `az aks get-credentials` or `kind create cluster`)",
		strings.Join(rules.Precedence, ", "))
}

func contextNames[V any](m map[string]V) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

func orNone(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// ContextNames lists the contexts in the kubeconfig that Resolve would read,
// sorted. It is meant for shell completion of --context.
func ContextNames(kubeconfig string) ([]string, error) {
	raw, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(loadingRules(kubeconfig), &clientcmd.ConfigOverrides{}).RawConfig()
	if err != nil {
		return nil, err
	}
	return contextNames(raw.Contexts), nil
}
