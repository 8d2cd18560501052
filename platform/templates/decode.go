package templates

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// KeyError is a problem with one key of a template document: the line it
// is on, its path (spec.steps[2].input.url) and what is wrong with it.
type KeyError struct {
	Line int
	Path string
	Msg  string
}

func (e *KeyError) Error() string {
	switch {
	case e.Line > 0 && e.Path != "":
		return fmt.Sprintf("line %d: %s: %s", e.Line, e.Path, e.Msg)
	case e.Line > 0:
		return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
	case e.Path != "":
		return e.Path + ": " + e.Msg
	}
	return e.Msg
}

func keyErr(n *yaml.Node, path, format string, args ...any) error {
	line := 0
	if n != nil {
		line = n.Line
	}
	return &KeyError{Line: line, Path: path, Msg: fmt.Sprintf(format, args...)}
}

// FileError is a template file that could not be read, or one of its
// documents that is not a template idp can load.
type FileError struct {
	File string // as the user knows it: source and path
	Err  error
}

func (e *FileError) Error() string { return e.File + ": " + e.Err.Error() }
func (e *FileError) Unwrap() error { return e.Err }

// document is one YAML document of a catalog file.
type document struct {
	kind    string // Template, Location, or another catalog kind
	line    int
	name    string // metadata.name, when there is one
	tpl     *Template
	targets []string // a Location's targets
	err     error
}

var templateKind = regexp.MustCompile(`(?m)^kind:\s*["']?(Template|Location)["']?\s*(#.*)?$`)

// mayHoldCatalogDocs is a cheap test before parsing: a YAML file that
// names no Template or Location kind at the top level is not read further.
func mayHoldCatalogDocs(data []byte) bool { return templateKind.Match(data) }

// parseDocuments reads every document of a YAML file. A syntax error stops
// at that document, as it would in Backstage's catalog.
func parseDocuments(data []byte) ([]document, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var out []document
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, errors.New(strings.TrimPrefix(strings.ReplaceAll(err.Error(), "\n ", ""), "yaml: "))
		}
		if len(n.Content) == 0 {
			continue
		}
		out = append(out, decodeDocument(n.Content[0]))
	}
}

func decodeDocument(n *yaml.Node) document {
	d := document{line: n.Line}
	if n.Kind != yaml.MappingNode {
		d.err = keyErr(n, "", "a catalog document must be a mapping")
		return d
	}
	apiVersion := scalar(n, "apiVersion")
	d.kind = scalar(n, "kind")
	if md := lookup(n, "metadata"); md != nil {
		d.name = scalar(md, "name")
	}
	switch d.kind {
	case "Template":
		if apiVersion != APIVersion {
			d.err = keyErr(lookup(n, "apiVersion"), "apiVersion", "is %q; idp reads %s templates (Backstage's current format; older ones need migrating)", apiVersion, APIVersion)
			return d
		}
		d.tpl, d.err = decodeTemplate(n)
	case "Location":
		d.targets, d.err = decodeLocation(n)
	}
	return d
}

// lookup returns the value of key in a mapping node, or nil.
func lookup(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

func scalar(n *yaml.Node, key string) string {
	if v := lookup(n, key); v != nil && v.Kind == yaml.ScalarNode {
		return v.Value
	}
	return ""
}

// text decodes a scalar as text.
func text(n *yaml.Node, path string) (string, error) {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		if n.Tag == "!!null" {
			return "", nil
		}
		return "", keyErr(n, path, "must be text")
	}
	return n.Value, nil
}

func textList(n *yaml.Node, path string) ([]string, error) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil, nil
	}
	if n.Kind != yaml.SequenceNode {
		return nil, keyErr(n, path, "must be a list of text")
	}
	out := make([]string, 0, len(n.Content))
	for i, e := range n.Content {
		s, err := text(e, fmt.Sprintf("%s[%d]", path, i))
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

func decodeAny(n *yaml.Node, path string) (any, error) {
	var v any
	if err := n.Decode(&v); err != nil {
		return nil, keyErr(n, path, "%v", err)
	}
	return v, nil
}

func decodeTemplate(n *yaml.Node) (*Template, error) {
	t := &Template{Line: n.Line}
	md := lookup(n, "metadata")
	if md == nil || md.Kind != yaml.MappingNode {
		return nil, keyErr(n, "metadata", "is missing: a template needs metadata.name")
	}
	for i := 0; i+1 < len(md.Content); i += 2 {
		k, v := md.Content[i], md.Content[i+1]
		p := "metadata." + k.Value
		var err error
		switch k.Value {
		case "name":
			t.Name, err = text(v, p)
		case "title":
			t.Title, err = text(v, p)
		case "description":
			t.Description, err = text(v, p)
			t.Description = strings.TrimSpace(t.Description)
		case "tags":
			t.Tags, err = textList(v, p)
		}
		// labels, annotations, namespace, links, uid, etag: catalog
		// metadata, which changes nothing a run produces.
		if err != nil {
			return nil, err
		}
	}
	if t.Name == "" {
		return nil, keyErr(md, "metadata.name", "is missing")
	}
	spec := lookup(n, "spec")
	if spec == nil || spec.Kind != yaml.MappingNode {
		return nil, keyErr(n, "spec", "is missing: a template needs spec.steps")
	}
	for i := 0; i+1 < len(spec.Content); i += 2 {
		k, v := spec.Content[i], spec.Content[i+1]
		p := "spec." + k.Value
		var err error
		switch k.Value {
		case "owner":
			t.Owner, err = text(v, p)
		case "type":
			t.Type, err = text(v, p)
		case "lifecycle":
			t.Lifecycle, err = text(v, p)
		case "system":
			t.System, err = text(v, p)
		case "parameters":
			t.Pages, err = decodePages(v)
		case "steps":
			t.Steps, err = decodeSteps(v)
		case "output":
			t.Output, err = decodeOutput(v)
		}
		// presentation, secrets, formDecorators, EXPERIMENTAL_recovery and
		// any other key: Backstage's web form and task engine use them;
		// what a run produces does not change.
		if err != nil {
			return nil, err
		}
	}
	if len(t.Steps) == 0 {
		return nil, keyErr(lookup(n, "spec"), "spec.steps", "is empty: the template does nothing")
	}
	for i, s := range t.Steps {
		if err := checkStep(s); err != nil {
			var refused *RefusedError
			if errors.As(err, &refused) {
				if t.Refusal == "" {
					t.Refusal = fmt.Sprintf("step %d (%s): %v", i+1, stepLabel(s), err)
				}
				continue
			}
			return nil, &KeyError{Line: s.Line, Path: fmt.Sprintf("spec.steps[%d]", i), Msg: fmt.Sprintf("(%s) %v", stepLabel(s), err)}
		}
	}
	t.markNameField()
	return t, nil
}

func decodeSteps(n *yaml.Node) ([]*Step, error) {
	if n.Kind != yaml.SequenceNode {
		return nil, keyErr(n, "spec.steps", "must be a list of steps")
	}
	var out []*Step
	for i, sn := range n.Content {
		base := fmt.Sprintf("spec.steps[%d]", i)
		if sn.Kind != yaml.MappingNode {
			return nil, keyErr(sn, base, "a step must be a mapping with an action")
		}
		s := &Step{Line: sn.Line}
		for j := 0; j+1 < len(sn.Content); j += 2 {
			k, v := sn.Content[j], sn.Content[j+1]
			p := base + "." + k.Value
			var err error
			switch k.Value {
			case "id":
				s.ID, err = text(v, p)
			case "name":
				s.Name, err = text(v, p)
			case "action":
				s.Action, err = text(v, p)
			case "input":
				var in any
				if in, err = decodeAny(v, p); err == nil && in != nil {
					m, ok := in.(map[string]any)
					if !ok {
						return nil, keyErr(v, p, "must be a mapping of the action's inputs")
					}
					s.Input = m
				}
			case "if":
				s.If, err = decodeAny(v, p)
			case "each":
				s.Each, err = decodeAny(v, p)
			}
			// backstage:permissions and other keys: who may run the step
			// in Backstage, not what it does.
			if err != nil {
				return nil, err
			}
		}
		if s.Action == "" {
			return nil, keyErr(sn, base+".action", "is missing")
		}
		if s.Input == nil {
			s.Input = map[string]any{}
		}
		out = append(out, s)
	}
	return out, nil
}

func decodeOutput(n *yaml.Node) (*Output, error) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil, nil
	}
	if n.Kind != yaml.MappingNode {
		return nil, keyErr(n, "spec.output", "must be a mapping")
	}
	o := &Output{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		p := "spec.output." + k.Value
		switch k.Value {
		case "links", "text":
			if v.Kind != yaml.SequenceNode {
				return nil, keyErr(v, p, "must be a list")
			}
			for j, item := range v.Content {
				ip := fmt.Sprintf("%s[%d]", p, j)
				if item.Kind != yaml.MappingNode {
					return nil, keyErr(item, ip, "must be a mapping")
				}
				var l Link
				var tx Text
				for m := 0; m+1 < len(item.Content); m += 2 {
					ik, iv := item.Content[m], item.Content[m+1]
					var err error
					switch ik.Value {
					case "title":
						l.Title, err = text(iv, ip+".title")
						tx.Title = l.Title
					case "url":
						l.URL, err = text(iv, ip+".url")
					case "icon":
						l.Icon, err = text(iv, ip+".icon")
						tx.Icon = l.Icon
					case "entityRef":
						l.EntityRef, err = text(iv, ip+".entityRef")
					case "content":
						tx.Content, err = text(iv, ip+".content")
					case "if":
						l.If, err = decodeAny(iv, ip+".if")
						tx.If = l.If
					}
					if err != nil {
						return nil, err
					}
				}
				if k.Value == "links" {
					o.Links = append(o.Links, l)
				} else {
					o.Text = append(o.Text, tx)
				}
			}
		default:
			v, err := decodeAny(v, p)
			if err != nil {
				return nil, err
			}
			if o.Values == nil {
				o.Values = map[string]any{}
			}
			o.Values[k.Value] = v
			o.order = append(o.order, k.Value)
		}
	}
	return o, nil
}

// decodeLocation reads a catalog Location's spec.target and spec.targets.
func decodeLocation(n *yaml.Node) ([]string, error) {
	spec := lookup(n, "spec")
	if spec == nil {
		return nil, keyErr(n, "spec", "is missing: a Location needs spec.targets")
	}
	var out []string
	if t := lookup(spec, "target"); t != nil {
		s, err := text(t, "spec.target")
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	if ts := lookup(spec, "targets"); ts != nil {
		list, err := textList(ts, "spec.targets")
		if err != nil {
			return nil, err
		}
		out = append(out, list...)
	}
	return out, nil
}

// Parse reads the first Template document of a file.
func Parse(data []byte) (*Template, error) {
	docs, err := parseDocuments(data)
	for _, d := range docs {
		if d.kind == Kind || d.err != nil {
			return d.tpl, d.err
		}
	}
	if err != nil {
		return nil, err
	}
	if len(docs) == 0 {
		return nil, errors.New("empty template file")
	}
	return nil, fmt.Errorf("no %s document (apiVersion %s, kind %s) in the file", Kind, APIVersion, Kind)
}

// Load reads the first template of dir/template.yaml in fsys, as a source
// of its own; source names where it came from.
func Load(fsys fs.FS, dir, source string) (*Template, error) {
	sub, err := fs.Sub(fsys, dir)
	if err != nil {
		return nil, err
	}
	c := &Catalog{}
	c.loadFile(newRootFS(sub, source), FileName, source, source, nil)
	if len(c.Broken) > 0 {
		return nil, c.Broken[0].Err
	}
	if len(c.Templates) == 0 {
		return nil, fmt.Errorf("%s: no template", path.Join(source, FileName))
	}
	return c.Templates[0], nil
}
