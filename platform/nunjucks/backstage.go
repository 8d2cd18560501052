package nunjucks

import (
	"net/url"
	"strings"
)

// Backstage's scaffolder adds these filters to Nunjucks' own, and
// organisations' templates use them; idp implements them the same way.
func init() {
	builtinFilters["parseRepoUrl"] = def(parseRepoURLFilter, 0)
	builtinFilters["projectSlug"] = def(projectSlugFilter, 0)
	builtinFilters["parseEntityRef"] = def(parseEntityRefFilter, 0, "context")
	builtinFilters["pick"] = def(func(in any, args []any) (any, error) { return member(in, args[0]), nil }, 1, "key")
}

// ParseRepoURL splits Backstage's RepoUrlPicker value,
// "host?owner=o&repo=r" (also organization, workspace, project).
func ParseRepoURL(s string) (map[string]any, error) {
	u, err := url.Parse("https://" + s)
	if err != nil || u.Host == "" {
		return nil, failf("invalid repository URL %q: want host?owner=...&repo=...", s)
	}
	out := map[string]any{"host": u.Host}
	q := u.Query()
	for _, k := range []string{"owner", "repo", "organization", "workspace", "project"} {
		if v := q.Get(k); v != "" {
			out[k] = v
		}
	}
	if out["repo"] == nil {
		return nil, failf("invalid repository URL %q: no repo= in it", s)
	}
	if out["owner"] == nil && out["organization"] == nil && out["workspace"] == nil {
		return nil, failf("invalid repository URL %q: no owner=, organization= or workspace= in it", s)
	}
	return out, nil
}

func parseRepoURLFilter(in any, _ []any) (any, error) {
	s, ok := in.(string)
	if !ok {
		return nil, failf("needs a string, got a %s", typeName(in))
	}
	return ParseRepoURL(s)
}

func projectSlugFilter(in any, _ []any) (any, error) {
	s, ok := in.(string)
	if !ok {
		return nil, failf("needs a string, got a %s", typeName(in))
	}
	parts, err := ParseRepoURL(s)
	if err != nil {
		return nil, err
	}
	owner := parts["owner"]
	if owner == nil {
		owner = undefined
	}
	return jsString(owner) + "/" + jsString(parts["repo"]), nil
}

// parseEntityRefFilter parses "kind:namespace/name" with optional
// {defaultKind, defaultNamespace}; the namespace defaults to "default".
func parseEntityRefFilter(in any, args []any) (any, error) {
	ctx, _ := args[0].(map[string]any)
	str := func(v any) string {
		if s, ok := v.(string); ok {
			return s
		}
		return ""
	}
	var kind, ns, name string
	switch t := in.(type) {
	case string:
		rest := t
		if k, r, ok := strings.Cut(rest, ":"); ok {
			kind, rest = k, r
			if kind == "" {
				return nil, failf("entity reference %q has an empty kind", t)
			}
		}
		if n, r, ok := strings.Cut(rest, "/"); ok {
			ns, rest = n, r
			if ns == "" {
				return nil, failf("entity reference %q has an empty namespace", t)
			}
		}
		name = rest
	case map[string]any:
		kind, ns, name = str(t["kind"]), str(t["namespace"]), str(t["name"])
	default:
		return nil, failf("needs a string or an object, got a %s", typeName(in))
	}
	if name == "" {
		return nil, failf("entity reference %q has no name", jsString(in))
	}
	if kind == "" {
		if kind = str(ctx["defaultKind"]); kind == "" {
			return nil, failf("entity reference %q has no kind (e.g. did not start with \"component:\") and no defaultKind was given", jsString(in))
		}
	}
	if ns == "" {
		if ns = str(ctx["defaultNamespace"]); ns == "" {
			ns = "default"
		}
	}
	return map[string]any{"kind": kind, "namespace": ns, "name": name}, nil
}
