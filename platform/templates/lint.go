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
		if (s.Action == ActionFetchTemplate || s.Action == ActionFetchTemplateFile) && t.fsys != nil {
			if err := t.lintSkeleton(s); err != nil {
				return fmt.Errorf("%s: %w", label, err)
			}
		}
		if (s.Action == ActionFetchPlain || s.Action == ActionFetchPlainFile) && t.fsys != nil {
			if err := t.checkPlain(s); err != nil {
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
	if url == "" || strings.Contains(url, "${{") {
		return nil // checked when the step runs
	}
	root, dir, err := t.skeletonRoot(url)
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
	info, err := fs.Stat(root, orDot(dir))
	if err != nil {
		return fmt.Errorf("url %q: %w", url, unwrapPath(err))
	}
	lintFile := func(p string) error {
		data, err := fs.ReadFile(root, p)
		if err != nil || isBinary(data) {
			return err
		}
		if _, err := nunjucks.Parse(string(data), opts); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		return nil
	}
	if s.Action == ActionFetchTemplateFile {
		if info.IsDir() {
			return fmt.Errorf("url %q is a folder; fetch:template:file takes one file", url)
		}
		return lintFile(dir)
	}
	if !info.IsDir() {
		return fmt.Errorf("url %q is a file; fetch:template takes a folder (fetch:template:file takes a file)", url)
	}
	return fs.WalkDir(root, orDot(dir), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel := relTo(dir, p)
		for _, c := range strings.Split(rel, "/") {
			if _, err := nunjucks.Parse(c, opts); err != nil {
				return fmt.Errorf("file name %s: %w", p, err)
			}
		}
		if matchAny(copyGlobs, rel) || (ext != "" && !strings.HasSuffix(rel, ext)) {
			return nil
		}
		return lintFile(p)
	})
}

// checkPlain checks that a fetch:plain step's literal url exists and that
// every link in it stays inside the source.
func (t *Template) checkPlain(s *Step) error {
	url, _ := s.Input["url"].(string)
	if url == "" || strings.Contains(url, "${{") {
		return nil
	}
	root, dir, err := t.skeletonRoot(url)
	if err != nil {
		return fmt.Errorf("url: %w", err)
	}
	return fs.WalkDir(root, orDot(dir), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("url %q: %w", url, unwrapPath(err))
		}
		return nil
	})
}
