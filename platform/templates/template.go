// Package templates reads golden-path templates in Backstage's scaffolder
// format (scaffolder.backstage.io/v1beta3, kind Template), validates the
// answers to their parameters, and runs their steps into a plan: the
// rendered service skeleton and the Argo CD Application and database the
// platform should get. It does no I/O beyond reading the template's own
// files; publishing the plan is package scaffold's job.
package templates

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// APIVersion and Kind identify a template file.
const (
	APIVersion = "scaffolder.backstage.io/v1beta3"
	Kind       = "Template"
	// FileName is the template file in a template's folder.
	FileName = "template.yaml"
)

// Template is one golden path.
type Template struct {
	Name        string   `json:"name"`
	Title       string   `json:"title,omitempty"`
	Description string   `json:"description,omitempty"`
	Tags        []string `json:"tags,omitempty"`
	Owner       string   `json:"owner,omitempty"`
	Type        string   `json:"type,omitempty"`
	Pages       []*Page  `json:"parameters"`
	Steps       []*Step  `json:"steps"`
	Output      *Output  `json:"output,omitempty"`
	// Source says where the template came from: "built-in", a folder or a
	// Git URL.
	Source string `json:"source"`

	// fsys is the template's folder: fetch:template URLs resolve in it.
	fsys fs.FS
}

// Page is one page of parameters: a group of fields in the form.
type Page struct {
	Title        string        `json:"title,omitempty"`
	Description  string        `json:"description,omitempty"`
	Properties   []*Property   `json:"properties"`
	Required     []string      `json:"required,omitempty"`
	Dependencies []*Dependency `json:"dependencies,omitempty"`
}

// Dependency is JSON-Schema's dependencies for one controlling property:
// either a list of properties it requires, or schemas (with oneOf) that add
// fields once it has a value.
type Dependency struct {
	Property string    `json:"property"`
	Requires []string  `json:"requires,omitempty"`
	Branches []*Branch `json:"branches,omitempty"`
}

// Branch is one schema of a dependency: when the controlling property's
// value matches When (always, if When is nil), Properties join the page and
// Required become required.
type Branch struct {
	When       *Property   `json:"when,omitempty"`
	Properties []*Property `json:"properties,omitempty"`
	Required   []string    `json:"required,omitempty"`
}

// Step is one entry of spec.steps.
type Step struct {
	ID     string         `json:"id,omitempty"`
	Name   string         `json:"name,omitempty"`
	Action string         `json:"action"`
	Input  map[string]any `json:"input,omitempty"`
	If     any            `json:"if,omitempty"`
}

// Output is spec.output: links and text shown when the run is done.
type Output struct {
	Links []Link `yaml:"links" json:"links,omitempty"`
	Text  []struct {
		Title   string `yaml:"title" json:"title"`
		Content string `yaml:"content" json:"content"`
	} `yaml:"text" json:"text,omitempty"`
}

// Link is one output link.
type Link struct {
	Title     string `yaml:"title" json:"title,omitempty"`
	URL       string `yaml:"url" json:"url,omitempty"`
	Icon      string `yaml:"icon" json:"icon,omitempty"`
	EntityRef string `yaml:"entityRef" json:"entityRef,omitempty"`
}

// FS is the template's folder.
func (t *Template) FS() fs.FS { return t.fsys }

// Load reads dir/template.yaml from fsys; source names where it came from.
func Load(fsys fs.FS, dir, source string) (*Template, error) {
	data, err := fs.ReadFile(fsys, path.Join(dir, FileName))
	if err != nil {
		return nil, err
	}
	sub, err := fs.Sub(fsys, dir)
	if err != nil {
		return nil, err
	}
	t, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path.Join(source, FileName), err)
	}
	t.Source, t.fsys = source, sub
	if err := t.Lint(); err != nil {
		return nil, fmt.Errorf("%s: %w", path.Join(source, FileName), err)
	}
	return t, nil
}

// raw is the file's shape; parameters and steps are decoded by hand so that
// unknown keys are reported and property order is kept.
type raw struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name        string            `yaml:"name"`
		Title       string            `yaml:"title"`
		Description string            `yaml:"description"`
		Tags        []string          `yaml:"tags"`
		Labels      map[string]string `yaml:"labels"`
		Annotations map[string]string `yaml:"annotations"`
		Namespace   string            `yaml:"namespace"`
		Links       []yaml.Node       `yaml:"links"`
	} `yaml:"metadata"`
	Spec struct {
		Owner      string    `yaml:"owner"`
		Type       string    `yaml:"type"`
		Lifecycle  string    `yaml:"lifecycle"`
		Parameters yaml.Node `yaml:"parameters"`
		Steps      []struct {
			ID     string         `yaml:"id"`
			Name   string         `yaml:"name"`
			Action string         `yaml:"action"`
			Input  map[string]any `yaml:"input"`
			If     any            `yaml:"if"`
			Each   any            `yaml:"each"`
		} `yaml:"steps"`
		Output                 *Output   `yaml:"output"`
		EXPERIMENTALFormDecors yaml.Node `yaml:"EXPERIMENTAL_formDecorators"`
	} `yaml:"spec"`
}

// Parse reads a template file strictly.
func Parse(data []byte) (*Template, error) {
	var r raw
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&r); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("empty template file")
		}
		return nil, errors.New(strings.TrimPrefix(strings.ReplaceAll(err.Error(), "\n ", ""), "yaml: "))
	}
	if r.APIVersion != APIVersion || r.Kind != Kind {
		return nil, fmt.Errorf("apiVersion/kind are %q/%q; idp reads %s %s", r.APIVersion, r.Kind, APIVersion, Kind)
	}
	if r.Metadata.Name == "" {
		return nil, errors.New("metadata.name is missing")
	}
	t := &Template{
		Name: r.Metadata.Name, Title: r.Metadata.Title, Description: strings.TrimSpace(r.Metadata.Description),
		Tags: r.Metadata.Tags, Owner: r.Spec.Owner, Type: r.Spec.Type, Output: r.Spec.Output,
	}
	pages, err := decodePages(&r.Spec.Parameters)
	if err != nil {
		return nil, err
	}
	t.Pages = pages
	seen := map[string]bool{}
	for i, s := range r.Spec.Steps {
		if s.Each != nil {
			return nil, fmt.Errorf("step %d (%s): \"each\" is not supported by idp", i+1, s.Action)
		}
		if s.ID != "" && seen[s.ID] {
			return nil, fmt.Errorf("step %d: the id %q is used twice", i+1, s.ID)
		}
		seen[s.ID] = true
		st := &Step{ID: s.ID, Name: s.Name, Action: s.Action, Input: s.Input, If: s.If}
		if err := checkStep(st); err != nil {
			return nil, fmt.Errorf("step %d (%s): %w", i+1, stepLabel(st), err)
		}
		t.Steps = append(t.Steps, st)
	}
	if len(t.Steps) == 0 {
		return nil, errors.New("spec.steps is empty: the template does nothing")
	}
	t.markNameField()
	return t, nil
}

func stepLabel(s *Step) string {
	if s.ID != "" {
		return s.ID
	}
	return s.Action
}

func decodePages(n *yaml.Node) ([]*Page, error) {
	switch n.Kind {
	case 0:
		return nil, nil
	case yaml.MappingNode: // a single page may be written without the list
		p, err := decodePage(n)
		if err != nil {
			return nil, err
		}
		return []*Page{p}, nil
	case yaml.SequenceNode:
		var pages []*Page
		for _, item := range n.Content {
			p, err := decodePage(item)
			if err != nil {
				return nil, err
			}
			pages = append(pages, p)
		}
		return pages, nil
	}
	return nil, fmt.Errorf("line %d: spec.parameters must be a list of pages", n.Line)
}

func decodePage(n *yaml.Node) (*Page, error) {
	if n.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("line %d: a parameters page must be a mapping", n.Line)
	}
	p := &Page{}
	var order []string
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		var err error
		switch k.Value {
		case "title":
			err = v.Decode(&p.Title)
		case "description":
			err = v.Decode(&p.Description)
		case "required":
			err = v.Decode(&p.Required)
		case "type":
			var typ string
			if err = v.Decode(&typ); err == nil && typ != "object" {
				err = fmt.Errorf("a page's type must be object, not %q", typ)
			}
		case "properties":
			p.Properties, err = decodeProperties(v)
		case "dependencies":
			p.Dependencies, err = decodeDependencies(v)
		case "ui:order":
			err = v.Decode(&order)
		case "backstage:permissions", "ui:options":
		default:
			err = fmt.Errorf("unknown key %q (a page has title, description, required, properties, dependencies, ui:order)", k.Value)
		}
		if err != nil {
			return nil, fmt.Errorf("line %d: page %q: %w", k.Line, p.Title, err)
		}
	}
	if len(order) > 0 {
		p.Properties = applyOrder(p.Properties, order)
	}
	for _, r := range p.Required {
		if p.property(r) == nil && !p.inBranch(r) {
			return nil, fmt.Errorf("line %d: page %q requires %q, which it does not define", n.Line, p.Title, r)
		}
	}
	for _, d := range p.Dependencies {
		if p.property(d.Property) == nil {
			return nil, fmt.Errorf("line %d: page %q has dependencies on %q, which it does not define", n.Line, p.Title, d.Property)
		}
		for _, r := range d.Requires {
			if p.property(r) == nil {
				return nil, fmt.Errorf("line %d: page %q: %q requires %q, which the page does not define", n.Line, p.Title, d.Property, r)
			}
		}
	}
	return p, nil
}

func decodeProperties(n *yaml.Node) ([]*Property, error) {
	if n.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("properties must be a mapping")
	}
	var props []*Property
	for i := 0; i+1 < len(n.Content); i += 2 {
		p, err := decodeProperty(n.Content[i].Value, n.Content[i+1])
		if err != nil {
			return nil, err
		}
		props = append(props, p)
	}
	return props, nil
}

func decodeDependencies(n *yaml.Node) ([]*Dependency, error) {
	if n.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("dependencies must be a mapping")
	}
	var deps []*Dependency
	for i := 0; i+1 < len(n.Content); i += 2 {
		name, v := n.Content[i].Value, n.Content[i+1]
		d := &Dependency{Property: name}
		switch v.Kind {
		case yaml.SequenceNode:
			if err := v.Decode(&d.Requires); err != nil {
				return nil, err
			}
		case yaml.MappingNode:
			branches, err := decodeDependencySchema(name, v)
			if err != nil {
				return nil, fmt.Errorf("dependencies of %q: %w", name, err)
			}
			d.Branches = branches
		default:
			return nil, fmt.Errorf("line %d: dependencies of %q must be a list or a schema", v.Line, name)
		}
		deps = append(deps, d)
	}
	return deps, nil
}

// decodeDependencySchema reads {oneOf: [...]} or a plain schema.
func decodeDependencySchema(control string, n *yaml.Node) ([]*Branch, error) {
	var oneOf *yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == "oneOf" {
			oneOf = n.Content[i+1]
		}
	}
	if oneOf == nil {
		b, err := decodeBranch(control, n)
		if err != nil {
			return nil, err
		}
		return []*Branch{b}, nil
	}
	if len(n.Content) != 2 {
		return nil, fmt.Errorf("line %d: oneOf must be the only key", n.Line)
	}
	if oneOf.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("line %d: oneOf must be a list", oneOf.Line)
	}
	var branches []*Branch
	for _, item := range oneOf.Content {
		b, err := decodeBranch(control, item)
		if err != nil {
			return nil, err
		}
		if b.When == nil {
			return nil, fmt.Errorf("line %d: each oneOf entry must say which value of %q it is for (properties.%s with const or enum)", item.Line, control, control)
		}
		branches = append(branches, b)
	}
	return branches, nil
}

func decodeBranch(control string, n *yaml.Node) (*Branch, error) {
	if n.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("line %d: a dependency schema must be a mapping", n.Line)
	}
	b := &Branch{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch k.Value {
		case "properties":
			props, err := decodeProperties(v)
			if err != nil {
				return nil, err
			}
			for _, p := range props {
				if p.Name == control {
					b.When = p
				} else {
					b.Properties = append(b.Properties, p)
				}
			}
		case "required":
			if err := v.Decode(&b.Required); err != nil {
				return nil, err
			}
		case "dependencies", "allOf", "anyOf", "if", "then", "else":
			return nil, fmt.Errorf("line %d: %q inside dependencies is not supported by idp", k.Line, k.Value)
		default:
			return nil, fmt.Errorf("line %d: unknown key %q in a dependency schema", k.Line, k.Value)
		}
	}
	return b, nil
}

func applyOrder(props []*Property, order []string) []*Property {
	var out []*Property
	rest := slices.Clone(props)
	wild := -1
	for _, name := range order {
		if name == "*" {
			wild = len(out)
			continue
		}
		if i := slices.IndexFunc(rest, func(p *Property) bool { return p.Name == name }); i >= 0 {
			out = append(out, rest[i])
			rest = slices.Delete(rest, i, i+1)
		}
	}
	if wild < 0 {
		wild = len(out)
	}
	return slices.Insert(out, wild, rest...)
}

func (p *Page) property(name string) *Property {
	for _, prop := range p.Properties {
		if prop.Name == name {
			return prop
		}
	}
	return nil
}

func (p *Page) inBranch(name string) bool {
	for _, d := range p.Dependencies {
		for _, b := range d.Branches {
			for _, prop := range b.Properties {
				if prop.Name == name {
					return true
				}
			}
		}
	}
	return false
}

// Property finds a parameter by name on any page or dependency branch.
func (t *Template) Property(name string) *Property {
	for _, p := range t.Pages {
		if prop := p.property(name); prop != nil {
			return prop
		}
		for _, d := range p.Dependencies {
			for _, b := range d.Branches {
				for _, prop := range b.Properties {
					if prop.Name == name {
						return prop
					}
				}
			}
		}
	}
	return nil
}

// NameParameter is the parameter that names the service: the one idp's
// steps take their name from (${{ parameters.x }}), or "".
func (t *Template) NameParameter() string {
	for _, s := range t.Steps {
		if !strings.HasPrefix(s.Action, "idp:") {
			continue
		}
		expr, _ := s.Input["name"].(string)
		if m := paramRef.FindStringSubmatch(expr); m != nil {
			return m[1]
		}
	}
	return ""
}

func (t *Template) markNameField() {
	if p := t.Property(t.NameParameter()); p != nil {
		p.DNSLabel = true
	}
}
