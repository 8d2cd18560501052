package templates

import (
	"context"
	"io/fs"
	"strings"
)

// Redact hides a password in a URL for messages.
func Redact(u string) string {
	scheme, rest, ok := strings.Cut(u, "://")
	if !ok {
		return u
	}
	if at := strings.LastIndex(rest, "@"); at >= 0 {
		if user, _, hasPass := strings.Cut(rest[:at], ":"); hasPass {
			return scheme + "://" + user + ":***@" + rest[at+1:]
		}
	}
	return u
}

// Sources loads the built-in templates and then each source in order:
// folders, and Git URLs read with clone (scaffold.TemplateRepoFS in the
// binary).
func Sources(ctx context.Context, builtin fs.FS, sources []string, clone func(context.Context, string) (fs.FS, error)) (*Catalog, error) {
	c := &Catalog{}
	if builtin != nil {
		if err := c.LoadFS(builtin, ".", BuiltinSource); err != nil {
			return nil, err
		}
	}
	for _, s := range sources {
		if !IsGitURL(s) {
			if err := c.LoadDir(s); err != nil {
				return nil, err
			}
			continue
		}
		fsys, err := clone(ctx, s)
		if err != nil {
			return nil, err
		}
		if err := c.LoadFS(fsys, ".", Redact(s)); err != nil {
			return nil, err
		}
	}
	return c, nil
}
