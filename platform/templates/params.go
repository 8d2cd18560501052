package templates

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

var paramRef = regexp.MustCompile(`^\$\{\{\s*parameters\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}$`)

// Fields lists the page's fields that apply given the answers so far: its
// own properties and, after each controlling property, those its
// dependencies add for the current value.
func (p *Page) Fields(values map[string]any) []*Property {
	var out []*Property
	for _, prop := range p.Properties {
		out = append(out, prop)
		for _, b := range p.activeBranches(prop.Name, values) {
			out = append(out, b.Properties...)
		}
	}
	return out
}

// RequiredFields names the fields that must have a value.
func (p *Page) RequiredFields(values map[string]any) []string {
	req := slices.Clone(p.Required)
	for _, d := range p.Dependencies {
		if !present(values[d.Property]) {
			continue
		}
		req = append(req, d.Requires...)
		for _, b := range p.activeBranches(d.Property, values) {
			req = append(req, b.Required...)
		}
	}
	return req
}

// activeBranches are the dependency schemas of control that apply: JSON
// Schema applies a dependency once its property has a value, and oneOf
// picks the branch whose schema for the property matches it.
func (p *Page) activeBranches(control string, values map[string]any) []*Branch {
	v, ok := values[control]
	if !ok || !present(v) {
		return nil
	}
	var out []*Branch
	for _, d := range p.Dependencies {
		if d.Property != control {
			continue
		}
		for _, b := range d.Branches {
			if b.When == nil || b.When.Validate(v) == nil {
				out = append(out, b)
				if b.When != nil {
					break // oneOf: the first match
				}
			}
		}
	}
	return out
}

// present is "has a value" as react-jsonschema-form sees it: an empty
// string is no value.
func present(v any) bool {
	if v == nil {
		return false
	}
	if s, ok := v.(string); ok {
		return s != ""
	}
	return true
}

// FieldError is a problem with one answer.
type FieldError struct {
	Field string
	Err   error
}

func (e FieldError) Error() string { return fmt.Sprintf("%s: %v", e.Field, e.Err) }
func (e FieldError) Unwrap() error { return e.Err }

// ValidationError lists every problem with a set of answers.
type ValidationError struct {
	Template string
	Problems []FieldError
}

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.Error()
	}
	return fmt.Sprintf("template %s: %s", e.Template, strings.Join(parts, "; "))
}

// ValidateField checks one answer as the form does next to the field:
// required-ness and the property's schema.
func (p *Page) ValidateField(prop *Property, values map[string]any) error {
	v, ok := values[prop.Name]
	if !ok || !present(v) {
		if slices.Contains(p.RequiredFields(values), prop.Name) {
			return fmt.Errorf("is required")
		}
		return nil
	}
	return prop.Validate(v)
}

// Validate checks all answers of the page.
func (p *Page) Validate(values map[string]any) []FieldError {
	var errs []FieldError
	for _, prop := range p.Fields(values) {
		if err := p.ValidateField(prop, values); err != nil {
			errs = append(errs, FieldError{Field: prop.Name, Err: err})
		}
	}
	return errs
}

// Validate checks every answer; unknown answers are errors too, so a
// typo in --set never goes unnoticed.
func (t *Template) Validate(values map[string]any) error {
	var problems []FieldError
	known := map[string]bool{}
	for _, p := range t.Pages {
		problems = append(problems, p.Validate(values)...)
		for _, f := range p.Fields(values) {
			known[f.Name] = true
		}
	}
	for _, name := range sortedNames(values) {
		if !known[name] {
			if t.Property(name) != nil {
				continue // a dependent field that does not apply to these answers
			}
			problems = append(problems, FieldError{Field: name, Err: fmt.Errorf("template %s has no parameter %q (it has %s)", t.Name, name, strings.Join(t.ParameterNames(), ", "))})
		}
	}
	if len(problems) > 0 {
		return &ValidationError{Template: t.Name, Problems: problems}
	}
	return nil
}

func sortedNames(m map[string]any) []string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// ParameterNames lists every parameter, dependent ones included, in form order.
func (t *Template) ParameterNames() []string {
	var names []string
	for _, p := range t.Pages {
		for _, prop := range p.Properties {
			names = append(names, prop.Name)
			for _, d := range p.Dependencies {
				if d.Property != prop.Name {
					continue
				}
				for _, b := range d.Branches {
					for _, bp := range b.Properties {
						if !slices.Contains(names, bp.Name) {
							names = append(names, bp.Name)
						}
					}
				}
			}
		}
	}
	return names
}

// WithDefaults returns values completed with the defaults of every field
// that applies and has no answer. Defaults can switch dependencies on, so
// it repeats until nothing changes.
func (t *Template) WithDefaults(values map[string]any) map[string]any {
	out := make(map[string]any, len(values))
	for k, v := range values {
		out[k] = v
	}
	for changed := true; changed; {
		changed = false
		for _, p := range t.Pages {
			for _, f := range p.Fields(out) {
				if _, ok := out[f.Name]; !ok && f.Default != nil {
					out[f.Name] = f.Default
					changed = true
				}
			}
		}
	}
	return out
}

// ParseValue converts the text of --set name=text to the parameter's type:
// numbers, true/false, and lists as comma-separated text or a JSON array.
func (t *Template) ParseValue(name, text string) (any, error) {
	p := t.Property(name)
	if p == nil {
		return nil, fmt.Errorf("template %s has no parameter %q (it has %s)", t.Name, name, strings.Join(t.ParameterNames(), ", "))
	}
	return p.Parse(text)
}

// Parse converts text typed into a form or given with --set to the
// property's type.
func (p *Property) Parse(text string) (any, error) {
	switch p.Type {
	case "boolean":
		switch strings.ToLower(strings.TrimSpace(text)) {
		case "true", "yes", "y", "1", "on":
			return true, nil
		case "false", "no", "n", "0", "off":
			return false, nil
		}
		return nil, fmt.Errorf("%s: %q is not true or false", p.Name, text)
	case "integer":
		i, err := strconv.ParseInt(strings.TrimSpace(text), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%s: %q is not a whole number", p.Name, text)
		}
		return i, nil
	case "number":
		f, err := strconv.ParseFloat(strings.TrimSpace(text), 64)
		if err != nil {
			return nil, fmt.Errorf("%s: %q is not a number", p.Name, text)
		}
		return f, nil
	case "array":
		var items []any
		if strings.HasPrefix(strings.TrimSpace(text), "[") {
			if err := json.Unmarshal([]byte(text), &items); err != nil {
				return nil, fmt.Errorf("%s: %q is not a JSON list: %v", p.Name, text, err)
			}
			return items, nil
		}
		items = []any{}
		for _, part := range strings.Split(text, ",") {
			if part = strings.TrimSpace(part); part == "" {
				continue
			}
			v, err := p.Items.Parse(part)
			if err != nil {
				return nil, err
			}
			items = append(items, v)
		}
		return items, nil
	}
	return text, nil
}

// ParameterInfo describes one parameter for listings (`idp templates`).
type ParameterInfo struct {
	Name        string   `json:"name"`
	Page        string   `json:"page,omitempty"`
	Type        string   `json:"type"`
	Title       string   `json:"title,omitempty"`
	Description string   `json:"description,omitempty"`
	Required    bool     `json:"required,omitempty"`
	Default     any      `json:"default,omitempty"`
	Enum        []any    `json:"enum,omitempty"`
	EnumNames   []string `json:"enumNames,omitempty"`
	Pattern     string   `json:"pattern,omitempty"`
	MinLength   *int     `json:"minLength,omitempty"`
	MaxLength   *int     `json:"maxLength,omitempty"`
	Minimum     *float64 `json:"minimum,omitempty"`
	Maximum     *float64 `json:"maximum,omitempty"`
	// When says which answer makes a dependent parameter apply
	// ("database is true").
	When string `json:"when,omitempty"`
	// DNSLabel marks the parameter that names the service.
	DNSLabel bool `json:"dns1123,omitempty"`
	// Field is the Backstage field extension (ui:field); Note says how
	// idp asks for one it does not know.
	Field string `json:"field,omitempty"`
	Note  string `json:"note,omitempty"`
}

// Parameters describes every parameter in form order.
func (t *Template) Parameters() []ParameterInfo {
	var out []ParameterInfo
	info := func(p *Property, page string, required bool, when string) ParameterInfo {
		return ParameterInfo{
			Name: p.Name, Page: page, Type: p.Type, Title: p.Title, Description: p.Description,
			Required: required, Default: p.Default, Enum: p.Enum, EnumNames: p.EnumNames, Pattern: p.Pattern,
			MinLength: p.MinLength, MaxLength: p.MaxLength, Minimum: p.Minimum, Maximum: p.Maximum,
			When: when, DNSLabel: p.DNSLabel, Field: p.Field, Note: p.Note,
		}
	}
	for _, pg := range t.Pages {
		for _, p := range pg.Properties {
			out = append(out, info(p, pg.Title, slices.Contains(pg.Required, p.Name), ""))
			for _, d := range pg.Dependencies {
				if d.Property != p.Name {
					continue
				}
				for _, b := range d.Branches {
					when := p.Name + " has a value"
					if b.When != nil {
						switch {
						case b.When.Const != nil:
							when = fmt.Sprintf("%s is %v", p.Name, b.When.Const)
						case len(b.When.Enum) > 0:
							when = fmt.Sprintf("%s is %s", p.Name, b.When.enumList())
						}
					}
					for _, bp := range b.Properties {
						out = append(out, info(bp, pg.Title, slices.Contains(b.Required, bp.Name), when))
					}
				}
			}
		}
	}
	return out
}
