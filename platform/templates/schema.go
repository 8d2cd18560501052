package templates

import (
	"fmt"
	"math"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// Property is one form field: a JSON-Schema property of a parameters page,
// with the react-jsonschema-form (ui:) hints Backstage templates use.
type Property struct {
	Name        string
	Type        string // string, number, integer, boolean or array
	Title       string
	Description string
	Default     any
	Const       any
	Enum        []any
	EnumNames   []string
	Pattern     string
	MinLength   *int
	MaxLength   *int
	Minimum     *float64
	Maximum     *float64
	ExclMinimum *float64
	ExclMaximum *float64
	Format      string
	// Items describes an array's elements (type and enum).
	Items              *Property
	MinItems, MaxItems *int
	UniqueItems        bool

	Widget      string // ui:widget: text, textarea, password, radio, select, checkboxes, hidden
	Help        string // ui:help
	Field       string // ui:field: a Backstage field extension (RepoUrlPicker, OwnerPicker, ...)
	Placeholder string // ui:placeholder
	Autofocus   bool
	ReadOnly    bool
	Options     map[string]any // ui:options

	// DNSLabel marks the field that names the service: its value must be
	// a DNS-1123 label. Set by the template from its idp steps.
	DNSLabel bool
	// Note says how idp asks for a field Backstage shows differently (a
	// field extension or widget idp does not know).
	Note string

	pattern *regexp.Regexp
}

// Label is the title, or the name when there is none.
func (p *Property) Label() string {
	if p.Title != "" {
		return p.Title
	}
	return p.Name
}

// Choices pairs each enum value with its display name.
func (p *Property) Choices() []Choice {
	out := make([]Choice, len(p.Enum))
	for i, v := range p.Enum {
		out[i] = Choice{Value: v, Label: fmt.Sprint(v)}
		if i < len(p.EnumNames) {
			out[i].Label = p.EnumNames[i]
		}
	}
	return out
}

// Choice is one option of an enum.
type Choice struct {
	Value any
	Label string
}

// fieldExtensions are the Backstage field extensions idp accepts, with the
// type of value they produce. They are plain text (or list) inputs in idp.
var fieldExtensions = map[string]string{
	"EntityNamePicker":  "string",
	"EntityPicker":      "string",
	"OwnerPicker":       "string",
	"OwnedEntityPicker": "string",
	"MyGroupsPicker":    "string",
	"RepoUrlPicker":     "string",
	"RepoBranchPicker":  "string",
	"EntityTagsPicker":  "array",
	"MultiEntityPicker": "array",
}

var knownWidgets = []string{"", "text", "textarea", "password", "radio", "select", "checkbox", "checkboxes", "hidden", "updown", "range", "email", "uri", "color"}

// decodeProperty reads one property schema strictly: every key must be one
// idp understands.
func decodeProperty(name string, n *yaml.Node, path string) (*Property, error) {
	if n.Kind != yaml.MappingNode {
		return nil, keyErr(n, path, "a property must be a schema (a mapping)")
	}
	p := &Property{Name: name}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if err := p.set(k.Value, v, path); err != nil {
			return nil, &KeyError{Line: k.Line, Path: path + "." + k.Value, Msg: err.Error()}
		}
	}
	bad := func(format string, args ...any) (*Property, error) {
		return nil, keyErr(n, path, format, args...)
	}
	if p.Type == "" {
		switch {
		case fieldExtensions[p.Field] != "":
			p.Type = fieldExtensions[p.Field]
		case len(p.Enum) > 0:
			p.Type = typeOf(p.Enum[0])
		case p.Const != nil:
			p.Type = typeOf(p.Const)
		default:
			p.Type = "string"
		}
	}
	switch p.Type {
	case "string", "number", "integer", "boolean":
	case "array":
		if p.Items == nil {
			p.Items = &Property{Name: name + "[]", Type: "string"}
		}
		if p.Items.Type == "array" {
			return bad("arrays of arrays are not supported")
		}
	case "object":
		return bad("type object is not supported by idp; use separate fields")
	default:
		return bad("unknown type %q (want string, number, integer, boolean, array or object)", p.Type)
	}
	if p.Pattern != "" {
		re, err := regexp.Compile(p.Pattern)
		if err != nil {
			return bad("pattern %q: %v", p.Pattern, err)
		}
		p.pattern = re
	}
	if len(p.EnumNames) > 0 && len(p.EnumNames) != len(p.Enum) {
		return bad("%d enumNames for %d enum values", len(p.EnumNames), len(p.Enum))
	}
	if p.Default != nil {
		if err := p.Validate(p.Default); err != nil {
			return bad("the default %v is invalid: %v", p.Default, err)
		}
	}
	return p, nil
}

func typeOf(v any) string {
	switch t := v.(type) {
	case bool:
		return "boolean"
	case int, int64:
		return "integer"
	case float64:
		if t == math.Trunc(t) {
			return "integer"
		}
		return "number"
	}
	return "string"
}

func decodeValue(n *yaml.Node) (any, error) {
	var v any
	if err := n.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

func decodeInt(n *yaml.Node) (*int, error) {
	var i int
	if err := n.Decode(&i); err != nil {
		return nil, fmt.Errorf("want an integer, got %q", n.Value)
	}
	return &i, nil
}

func decodeFloat(n *yaml.Node) (*float64, error) {
	var f float64
	if err := n.Decode(&f); err != nil {
		return nil, fmt.Errorf("want a number, got %q", n.Value)
	}
	return &f, nil
}

func (p *Property) set(key string, v *yaml.Node, path string) error {
	var err error
	str := func(dst *string) error { return v.Decode(dst) }
	switch key {
	case "type":
		if v.Kind == yaml.SequenceNode { // [string, "null"]: the type that is not null
			var types []string
			if err = v.Decode(&types); err == nil {
				types = slices.DeleteFunc(types, func(t string) bool { return t == "null" })
				if len(types) != 1 {
					err = fmt.Errorf("idp takes one type besides null, not %v", types)
				} else {
					p.Type = types[0]
				}
			}
			break
		}
		err = str(&p.Type)
	case "title":
		err = str(&p.Title)
	case "description":
		err = str(&p.Description)
	case "default":
		p.Default, err = decodeValue(v)
	case "const":
		p.Const, err = decodeValue(v)
	case "enum":
		err = v.Decode(&p.Enum)
	case "enumNames":
		err = v.Decode(&p.EnumNames)
	case "pattern":
		err = str(&p.Pattern)
	case "minLength":
		p.MinLength, err = decodeInt(v)
	case "maxLength":
		p.MaxLength, err = decodeInt(v)
	case "minimum":
		p.Minimum, err = decodeFloat(v)
	case "maximum":
		p.Maximum, err = decodeFloat(v)
	case "exclusiveMinimum":
		p.ExclMinimum, err = decodeFloat(v)
	case "exclusiveMaximum":
		p.ExclMaximum, err = decodeFloat(v)
	case "format":
		err = str(&p.Format)
	case "minItems":
		p.MinItems, err = decodeInt(v)
	case "maxItems":
		p.MaxItems, err = decodeInt(v)
	case "uniqueItems":
		err = v.Decode(&p.UniqueItems)
	case "items":
		p.Items, err = decodeProperty(p.Name+"[]", v, path+".items")
		if err != nil {
			return err
		}
	case "ui:widget":
		err = str(&p.Widget)
		if err == nil && !slices.Contains(knownWidgets, p.Widget) {
			p.Note = fmt.Sprintf("ui:widget %s is not one idp knows: asked as a plain input", p.Widget)
			p.Widget = ""
		}
	case "ui:help":
		err = str(&p.Help)
	case "ui:field":
		err = str(&p.Field)
		if _, ok := fieldExtensions[p.Field]; err == nil && !ok {
			p.Note = fmt.Sprintf("ui:field %s is a Backstage field extension idp does not know: asked as a plain input of its type", p.Field)
		}
	case "ui:placeholder":
		err = str(&p.Placeholder)
	case "ui:autofocus":
		err = v.Decode(&p.Autofocus)
	case "ui:readonly", "ui:disabled":
		err = v.Decode(&p.ReadOnly)
	case "ui:options":
		err = v.Decode(&p.Options)
	default:
		if unsupportedKeywords[key] {
			return fmt.Errorf("the JSON Schema keyword %s is not supported by idp: a value it would refuse could pass; express the rule with pattern, enum, minimum/maximum or dependencies", key)
		}
		// ui:* hints of Backstage's web form, annotations (examples,
		// $comment, readOnly, deprecated) and keys JSON Schema ignores:
		// they change no value.
	}
	return err
}

// unsupportedKeywords are JSON Schema keywords that change which values
// are valid and that idp does not evaluate on a property.
var unsupportedKeywords = map[string]bool{
	"allOf": true, "anyOf": true, "oneOf": true, "not": true, "if": true, "then": true, "else": true,
	"$ref": true, "additionalProperties": true, "patternProperties": true, "contains": true,
	"multipleOf": true, "propertyNames": true, "minProperties": true, "maxProperties": true,
	"dependentRequired": true, "dependentSchemas": true, "additionalItems": true, "unevaluatedProperties": true,
	"unevaluatedItems": true, "minContains": true, "maxContains": true,
}

var dnsLabel = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

// CheckDNSLabel reports whether name is a valid DNS-1123 label: what
// Kubernetes requires of namespace and service names.
func CheckDNSLabel(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("a name is required")
	case len(name) > 63:
		return fmt.Errorf("%q is %d characters; a DNS-1123 name has at most 63", name, len(name))
	case !dnsLabel.MatchString(name):
		return fmt.Errorf("%q is not a DNS-1123 name: use lower-case letters, digits and '-', starting and ending with a letter or digit", name)
	}
	return nil
}

// Validate checks one value against the property's schema. v is what a
// form or --set produced: string, bool, float64/int/int64 or []any.
func (p *Property) Validate(v any) error {
	if p.Const != nil && !sameValue(v, p.Const) {
		return fmt.Errorf("must be %v", p.Const)
	}
	if len(p.Enum) > 0 && p.Type != "array" && !slices.ContainsFunc(p.Enum, func(e any) bool { return sameValue(v, e) }) {
		return fmt.Errorf("must be one of %s", p.enumList())
	}
	switch p.Type {
	case "string":
		s, ok := v.(string)
		if !ok {
			return fmt.Errorf("must be text, not %v", v)
		}
		return p.validateString(s)
	case "boolean":
		if _, ok := v.(bool); !ok {
			return fmt.Errorf("must be true or false, not %v", v)
		}
	case "integer", "number":
		f, ok := toFloat(v)
		if !ok {
			return fmt.Errorf("must be a number, not %v", v)
		}
		if p.Type == "integer" && f != math.Trunc(f) {
			return fmt.Errorf("must be a whole number, not %v", v)
		}
		return p.validateNumber(f)
	case "array":
		return p.validateArray(v)
	}
	return nil
}

func (p *Property) enumList() string {
	parts := make([]string, len(p.Enum))
	for i, e := range p.Enum {
		parts[i] = fmt.Sprint(e)
	}
	return strings.Join(parts, ", ")
}

func (p *Property) validateString(s string) error {
	n := utf8.RuneCountInString(s)
	switch {
	case p.MinLength != nil && n < *p.MinLength:
		if *p.MinLength == 1 {
			return fmt.Errorf("must not be empty")
		}
		return fmt.Errorf("must be at least %d characters", *p.MinLength)
	case p.MaxLength != nil && n > *p.MaxLength:
		return fmt.Errorf("must be at most %d characters", *p.MaxLength)
	case p.pattern != nil && !p.pattern.MatchString(s):
		return fmt.Errorf("must match the pattern %s", p.Pattern)
	}
	if p.DNSLabel {
		return CheckDNSLabel(s)
	}
	return nil
}

func (p *Property) validateNumber(f float64) error {
	switch {
	case p.Minimum != nil && f < *p.Minimum:
		return fmt.Errorf("must be at least %v", *p.Minimum)
	case p.Maximum != nil && f > *p.Maximum:
		return fmt.Errorf("must be at most %v", *p.Maximum)
	case p.ExclMinimum != nil && f <= *p.ExclMinimum:
		return fmt.Errorf("must be more than %v", *p.ExclMinimum)
	case p.ExclMaximum != nil && f >= *p.ExclMaximum:
		return fmt.Errorf("must be less than %v", *p.ExclMaximum)
	}
	return nil
}

func (p *Property) validateArray(v any) error {
	arr, ok := v.([]any)
	if !ok {
		return fmt.Errorf("must be a list, not %v", v)
	}
	switch {
	case p.MinItems != nil && len(arr) < *p.MinItems:
		return fmt.Errorf("needs at least %d item(s)", *p.MinItems)
	case p.MaxItems != nil && len(arr) > *p.MaxItems:
		return fmt.Errorf("takes at most %d item(s)", *p.MaxItems)
	}
	for i, e := range arr {
		if p.UniqueItems && slices.ContainsFunc(arr[:i], func(x any) bool { return sameValue(x, e) }) {
			return fmt.Errorf("lists %v twice", e)
		}
		items := p.Items
		if len(p.Enum) > 0 { // rjsf's multiple choice: enum on the array
			items = &Property{Type: p.Items.Type, Enum: p.Enum}
		}
		if err := items.Validate(e); err != nil {
			return fmt.Errorf("item %d: %w", i+1, err)
		}
	}
	return nil
}

func toFloat(v any) (float64, bool) {
	switch t := v.(type) {
	case float64:
		return t, true
	case int:
		return float64(t), true
	case int64:
		return float64(t), true
	}
	return 0, false
}

// sameValue compares scalar values across Go's numeric types.
func sameValue(a, b any) bool {
	if fa, ok := toFloat(a); ok {
		fb, ok := toFloat(b)
		return ok && fa == fb
	}
	return reflect.DeepEqual(a, b)
}
