package templates

import (
	"fmt"
	"io/fs"
	"strings"

	"github.com/back-stack/idp/platform/nunjucks"
)

// Lint parses every expression of the template without running it: step
// inputs, and the names and contents of the skeleton files its
// fetch:template steps name literally. An unknown filter, tag or test
// anywhere, even in a file some answers would leave out, is an error when
// the template is loaded rather than a surprise in a later run.
func (t *Template) Lint() error {
	for i, s := range t.Steps {
		label := fmt.Sprintf("step %d (%s)", i+1, stepLabel(s))
		if err := lintValue(s.Input); err != nil {
			return fmt.Errorf("%s: %w", label, err)
		}
		if cond, ok := s.If.(string); ok {
			if _, err := nunjucks.Parse(cond, nunjucks.Options{}); err != nil {
				return fmt.Errorf("%s: if: %w", label, err)
			}
		}
		if s.Action == ActionFetchTemplate && t.fsys != nil {
			if err := t.lintSkeleton(s); err != nil {
				return fmt.Errorf("%s: %w", label, err)
			}
		}
	}
	return nil
}

func lintValue(v any) error {
	switch t := v.(type) {
	case string:
		_, err := nunjucks.Parse(t, nunjucks.Options{})
		return err
	case map[string]any:
		for k, e := range t {
			if err := lintValue(e); err != nil {
				return fmt.Errorf("input %s: %w", k, err)
			}
		}
	case []any:
		for _, e := range t {
			if err := lintValue(e); err != nil {
				return err
			}
		}
	}
	return nil
}

// lintSkeleton checks the files of a fetch:template step whose inputs that
// decide what is rendered are literal.
func (t *Template) lintSkeleton(s *Step) error {
	url, _ := s.Input["url"].(string)
	if url == "" || strings.Contains(url, "${{") || strings.Contains(url, "://") {
		return nil // checked when the step runs
	}
	dir, err := CleanRelPath(strings.TrimPrefix(url, "./"))
	if err != nil {
		return fmt.Errorf("url: %w", err)
	}
	in := input(s.Input)
	copyGlobs, _ := in.strings("copyWithoutTemplating")
	more, _ := in.strings("copyWithoutRender")
	copyGlobs = append(copyGlobs, more...)
	ext := ""
	switch e := s.Input["templateFileExtension"].(type) {
	case bool:
		if e {
			ext = ".njk"
		}
	case string:
		ext = "." + strings.TrimPrefix(e, ".")
	}
	opts := nunjucks.Options{}
	if compat, _ := s.Input["cookiecutterCompat"].(bool); compat {
		opts.Syntax = nunjucks.Classic
		opts.Filters = map[string]nunjucks.Filter{"jsonify": {Params: []string{"spaces"}, Func: jsonify}}
	}
	info, err := fs.Stat(t.fsys, orDot(dir))
	if err != nil {
		return fmt.Errorf("url %q: %w", url, err)
	}
	if !info.IsDir() {
		return fmt.Errorf("url %q is a file; fetch:template takes a folder", url)
	}
	return fs.WalkDir(t.fsys, orDot(dir), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(p, dir), "/")
		for _, c := range strings.Split(rel, "/") {
			if _, err := nunjucks.Parse(c, opts); err != nil {
				return fmt.Errorf("file name %s: %w", p, err)
			}
		}
		if matchAny(copyGlobs, rel) || (ext != "" && !strings.HasSuffix(rel, ext)) {
			return nil
		}
		data, err := fs.ReadFile(t.fsys, p)
		if err != nil || isBinary(data) {
			return err
		}
		if _, err := nunjucks.Parse(string(data), opts); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		return nil
	})
}
