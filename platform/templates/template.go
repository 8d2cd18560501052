// Package templates reads golden-path templates in Backstage's scaffolder
// format (scaffolder.backstage.io/v1beta3, kind Template), validates the
// answers to their parameters, and runs their steps into a plan: the
// rendered service skeleton and the Argo CD Application and database the
// platform should get. It does no I/O beyond reading the template's own
// files; publishing the plan is package scaffold's job.
package templates

import (
	"io/fs"
	"slices"
	"strings"
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
	// Source says where the template came from: "built-in", or the folder
	// or Git URL of the template's file.
	Source string `json:"source"`
	// Origin is the configured source it was found in: "built-in", a folder
	// or a Git URL, as `source:name` names it.
	Origin string `json:"origin,omitempty"`
	// File is the template's file, relative to its origin.
	File string `json:"file,omitempty"`
	// Line is where its document starts in File.
	Line int `json:"line,omitempty"`
	// Lifecycle and System are catalog facts idp shows but does not act on.
	Lifecycle string `json:"lifecycle,omitempty"`
	System    string `json:"system,omitempty"`
	// Refusal says why idp cannot run the template although it loaded
	// (an action only a third-party Backstage plugin provides); "" if it can.
	Refusal string `json:"-"`

	// fsys is the whole source: fetch URLs resolve from dir in it and may
	// go up (../) but never above it.
	fsys fs.FS
	dir  string
	// remote holds the Git sources the template's steps fetch from, read
	// when the template was loaded.
	remote map[string]remoteSkeleton
	seq    int
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
	// Each runs the step once per item (a list, or an expression giving
	// one, or a mapping), with ${{ each.key }} and ${{ each.value }}.
	Each any `json:"each,omitempty"`
	// Line is where the step starts in the template's file.
	Line int `json:"-"`
}

// Output is spec.output: links and text shown when the run is done, and
// any other key (remoteUrl, entityRef, ...) as a value.
type Output struct {
	Links  []Link         `json:"links,omitempty"`
	Text   []Text         `json:"text,omitempty"`
	Values map[string]any `json:"values,omitempty"`
	order  []string       // of Values, as written
}

// Link is one output link; If leaves it out when it renders false.
type Link struct {
	Title     string `json:"title,omitempty"`
	URL       string `json:"url,omitempty"`
	Icon      string `json:"icon,omitempty"`
	EntityRef string `json:"entityRef,omitempty"`
	If        any    `json:"-"`
}

// Text is one output text (Markdown).
type Text struct {
	Title   string `json:"title"`
	Content string `json:"content"`
	Icon    string `json:"icon,omitempty"`
	If      any    `json:"-"`
}

// FS is the template's source; Dir is the template's folder in it.
func (t *Template) FS() fs.FS { return t.fsys }

// Dir is the folder of the template's file inside its source.
func (t *Template) Dir() string { return t.dir }

func stepLabel(s *Step) string {
	if s.ID != "" {
		return s.ID
	}
	return s.Action
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
