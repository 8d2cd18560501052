package templates

import (
	"bytes"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"unicode/utf8"

	"github.com/back-stack/idp/platform/nunjucks"
)

// File is one file of the rendered service repository.
type File struct {
	Path    string      `json:"path"` // slash-separated, relative to the repository root
	Content []byte      `json:"-"`
	Mode    fs.FileMode `json:"mode"` // 0o644 or 0o755
}

// PathError reports a path that would leave the folder it belongs in.
type PathError struct {
	Path   string
	Reason string
}

func (e *PathError) Error() string { return fmt.Sprintf("path %q %s", e.Path, e.Reason) }

// CleanRelPath checks that p is a relative, slash-separated path that stays
// inside its root and out of .git, and returns it cleaned ("" for the root
// itself).
func CleanRelPath(p string) (string, error) {
	bad := func(reason string) (string, error) { return "", &PathError{Path: p, Reason: reason} }
	switch {
	case strings.ContainsRune(p, 0):
		return bad("contains a NUL byte")
	case strings.Contains(p, `\`):
		return bad(`contains a backslash; use "/"`)
	case strings.HasPrefix(p, "/") || (len(p) >= 2 && p[1] == ':'):
		return bad("is absolute; it must be relative")
	case !utf8.ValidString(p):
		return bad("is not valid UTF-8")
	}
	for _, c := range strings.Split(p, "/") {
		if c == ".." {
			return bad("escapes its folder")
		}
		if t := strings.TrimRight(c, ". "); strings.EqualFold(t, ".git") {
			return bad("is inside .git")
		}
	}
	clean := path.Clean(p)
	if clean == "." {
		return "", nil
	}
	return clean, nil
}

// skeletonOptions are fetch:template's inputs.
type skeletonOptions struct {
	url                   string // as the template wrote it
	dir                   string // in the source
	file                  bool   // fetch:*:file: url is one file, target the file to write
	target                string // in the workspace
	values                map[string]any
	copyWithoutTemplating []string
	templateExt           string // only files with it are rendered (and lose it)
	classic               bool   // cookiecutterCompat: {{ }}
	replace               bool
	trimBlocks, lstrip    bool
	plain                 bool // fetch:plain: no rendering at all
}

// renderSkeleton renders a skeleton folder into ws.
func renderSkeleton(tfs fs.FS, ws *workspace, o skeletonOptions) error {
	info, err := fs.Stat(tfs, orDot(o.dir))
	if err != nil {
		return fmt.Errorf("url %q: %w", o.url, unwrapPath(err))
	}
	if o.file {
		if info.IsDir() {
			return fmt.Errorf("url %q is a folder; this action takes one file", o.url)
		}
	} else if !info.IsDir() {
		return fmt.Errorf("url %q is a file; fetch:template takes a folder (fetch:template:file takes a file)", o.url)
	}
	opts := nunjucks.Options{TrimBlocks: o.trimBlocks, LstripBlocks: o.lstrip}
	if o.classic {
		opts.Syntax = nunjucks.Classic
		opts.Filters = map[string]nunjucks.Filter{"jsonify": {Params: []string{"spaces"}, Func: jsonify}}
	}
	data := map[string]any{"values": o.values}
	if o.file {
		return renderFile(tfs, ws, o.dir, "", o, opts, data)
	}
	return fs.WalkDir(tfs, orDot(o.dir), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type()&fs.ModeSymlink != 0 {
			return &PathError{Path: p, Reason: "is a symbolic link, which a skeleton may not contain"}
		}
		if d.IsDir() {
			return nil
		}
		return renderFile(tfs, ws, p, relTo(o.dir, p), o, opts, data)
	})
}

// relTo is p relative to the folder dir it is in.
func relTo(dir, p string) string {
	if dir == "." || dir == "" {
		return p
	}
	return strings.TrimPrefix(p, dir+"/")
}

func orDot(p string) string {
	if p == "" {
		return "."
	}
	return p
}

func renderFile(tfs fs.FS, ws *workspace, src, rel string, o skeletonOptions, opts nunjucks.Options, data map[string]any) error {
	content, err := fs.ReadFile(tfs, src)
	if err != nil {
		return err
	}
	info, err := fs.Stat(tfs, src)
	if err != nil {
		return err
	}
	mode := fs.FileMode(0o644)
	if info.Mode()&0o111 != 0 {
		mode = 0o755
	}
	verbatim := o.plain || matchAny(o.copyWithoutTemplating, rel) || isBinary(content)
	outRel := rel
	if o.file {
		outRel = ""
	}
	if o.templateExt != "" {
		if strings.HasSuffix(rel, o.templateExt) {
			outRel = strings.TrimSuffix(rel, o.templateExt)
		} else {
			verbatim = true
		}
	}
	if !o.plain && !o.file {
		// Each folder and file name is rendered on its own; one that renders
		// empty, such as ${{ 'x' if values.db }}, drops the file.
		parts := strings.Split(outRel, "/")
		for i, c := range parts {
			if parts[i], err = renderString(c, opts, data); err != nil {
				return fmt.Errorf("file name %s: %w", src, err)
			}
			if parts[i] == "" {
				return nil
			}
		}
		outRel = strings.Join(parts, "/")
	}
	if !verbatim {
		text, err := renderString(string(content), opts, data)
		if err != nil {
			return fmt.Errorf("%s: %w", src, err)
		}
		content = []byte(text)
	}
	if o.file {
		return ws.put(File{Path: o.target, Content: content, Mode: mode}, o.replace)
	}
	clean, err := CleanRelPath(outRel)
	if err == nil && clean == "" {
		err = &PathError{Path: outRel, Reason: "names no file"}
	}
	if err != nil {
		return fmt.Errorf("%s renders to a bad path: %w", src, err)
	}
	dst := path.Join(o.target, clean)
	return ws.put(File{Path: dst, Content: content, Mode: mode}, o.replace)
}

func renderString(src string, opts nunjucks.Options, data map[string]any) (string, error) {
	t, err := nunjucks.Parse(src, opts)
	if err != nil {
		return "", err
	}
	return t.Render(data)
}

func jsonify(in any, args []any) (any, error) {
	t, err := nunjucks.Parse("{{ x | dump(n) }}", nunjucks.Options{Syntax: nunjucks.Classic})
	if err != nil {
		return nil, err
	}
	n := any(nil)
	if len(args) > 0 {
		n = args[0]
	}
	return t.Render(map[string]any{"x": in, "n": n})
}

// isBinary is the test fetch:template uses to copy a file as it is: a NUL
// byte early on, or bytes that are not UTF-8 text.
func isBinary(b []byte) bool {
	head := b[:min(len(b), 8000)]
	return bytes.IndexByte(head, 0) >= 0 || !utf8.Valid(head[:lastRuneStart(head)])
}

// lastRuneStart cuts a possibly split last rune off a prefix.
func lastRuneStart(b []byte) int {
	for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
		if utf8.RuneStart(b[i]) {
			if utf8.FullRune(b[i:]) {
				return len(b)
			}
			return i
		}
	}
	return len(b)
}

// matchAny reports whether rel matches one of the globs, with ** for any
// number of folders, as Backstage's copyWithoutTemplating globs do.
func matchAny(globs []string, rel string) bool {
	for _, g := range globs {
		g = strings.TrimPrefix(strings.TrimPrefix(g, "./"), "/")
		if globMatch(strings.Split(g, "/"), strings.Split(rel, "/")) {
			return true
		}
	}
	return false
}

func globMatch(pat, parts []string) bool {
	for len(pat) > 0 {
		if pat[0] == "**" {
			for i := 0; i <= len(parts); i++ {
				if globMatch(pat[1:], parts[i:]) {
					return true
				}
			}
			return false
		}
		if len(parts) == 0 {
			return false
		}
		if ok, err := path.Match(pat[0], parts[0]); err != nil || !ok {
			return false
		}
		pat, parts = pat[1:], parts[1:]
	}
	// A folder glob ("static/") also covers what is inside it.
	return len(parts) == 0
}

// workspace is the service repository being assembled.
type workspace struct {
	files map[string]File
}

func (w *workspace) put(f File, replace bool) error {
	if _, ok := w.files[f.Path]; ok && !replace {
		return nil // as in Backstage: an existing file stays unless replace is set
	}
	for p := range w.files { // a file and a folder cannot share a name
		if strings.HasPrefix(p, f.Path+"/") || strings.HasPrefix(f.Path, p+"/") {
			return &PathError{Path: f.Path, Reason: fmt.Sprintf("collides with %s", p)}
		}
	}
	w.files[f.Path] = f
	return nil
}
