package templates

import (
	"fmt"

	"go.yaml.in/yaml/v3"
)

// decodePages reads spec.parameters: a list of pages, or one page.
func decodePages(n *yaml.Node) ([]*Page, error) {
	switch n.Kind {
	case 0:
		return nil, nil
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return nil, nil
		}
	case yaml.MappingNode: // a single page may be written without the list
		p, err := decodePage(n, "spec.parameters")
		if err != nil {
			return nil, err
		}
		return []*Page{p}, nil
	case yaml.SequenceNode:
		var pages []*Page
		for i, item := range n.Content {
			p, err := decodePage(item, fmt.Sprintf("spec.parameters[%d]", i))
			if err != nil {
				return nil, err
			}
			pages = append(pages, p)
		}
		return pages, nil
	}
	return nil, keyErr(n, "spec.parameters", "must be a list of pages")
}

func decodePage(n *yaml.Node, base string) (*Page, error) {
	if n.Kind != yaml.MappingNode {
		return nil, keyErr(n, base, "a parameters page must be a mapping")
	}
	p := &Page{}
	var order []string
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		path := base + "." + k.Value
		var err error
		switch k.Value {
		case "title":
			p.Title, err = text(v, path)
		case "description":
			p.Description, err = text(v, path)
		case "required":
			p.Required, err = textList(v, path)
		case "type":
			if v.Value != "object" {
				err = keyErr(k, path, "a page's type must be object, not %q", v.Value)
			}
		case "properties":
			p.Properties, err = decodeProperties(v, path)
		case "dependencies":
			p.Dependencies, err = decodeDependencies(v, path)
		case "ui:order":
			order, err = textList(v, path)
		case "when":
			err = keyErr(k, path, "a page shown only when a condition holds is not supported by idp yet: ask for its fields on every run, or use dependencies")
		default:
			if unsupportedKeywords[k.Value] {
				err = keyErr(k, path, "the JSON Schema keyword %s on a page is not supported by idp yet; use dependencies with oneOf for fields that depend on an answer", k.Value)
			}
			// backstage:permissions, ui:* and annotations change no value.
		}
		if err != nil {
			return nil, err
		}
	}
	if len(order) > 0 {
		p.Properties = applyOrder(p.Properties, order)
	}
	for _, r := range p.Required {
		if p.property(r) == nil && !p.inBranch(r) {
			return nil, keyErr(lookup(n, "required"), base+".required", "names %q, which the page does not define", r)
		}
	}
	for _, d := range p.Dependencies {
		if p.property(d.Property) == nil {
			return nil, keyErr(lookup(n, "dependencies"), base+".dependencies."+d.Property, "the page does not define %q", d.Property)
		}
		for _, r := range d.Requires {
			if p.property(r) == nil {
				return nil, keyErr(lookup(n, "dependencies"), base+".dependencies."+d.Property, "requires %q, which the page does not define", r)
			}
		}
	}
	return p, nil
}

func decodeProperties(n *yaml.Node, base string) ([]*Property, error) {
	if n.Kind != yaml.MappingNode {
		return nil, keyErr(n, base, "must be a mapping of property names to schemas")
	}
	var props []*Property
	for i := 0; i+1 < len(n.Content); i += 2 {
		p, err := decodeProperty(n.Content[i].Value, n.Content[i+1], base+"."+n.Content[i].Value)
		if err != nil {
			return nil, err
		}
		props = append(props, p)
	}
	return props, nil
}

func decodeDependencies(n *yaml.Node, base string) ([]*Dependency, error) {
	if n.Kind != yaml.MappingNode {
		return nil, keyErr(n, base, "must be a mapping")
	}
	var deps []*Dependency
	for i := 0; i+1 < len(n.Content); i += 2 {
		name, v := n.Content[i].Value, n.Content[i+1]
		path := base + "." + name
		d := &Dependency{Property: name}
		switch v.Kind {
		case yaml.SequenceNode:
			list, err := textList(v, path)
			if err != nil {
				return nil, err
			}
			d.Requires = list
		case yaml.MappingNode:
			branches, err := decodeDependencySchema(name, v, path)
			if err != nil {
				return nil, err
			}
			d.Branches = branches
		default:
			return nil, keyErr(v, path, "must be a list of property names or a schema")
		}
		deps = append(deps, d)
	}
	return deps, nil
}

// decodeDependencySchema reads {oneOf: [...]} or a plain schema.
func decodeDependencySchema(control string, n *yaml.Node, base string) ([]*Branch, error) {
	oneOf := lookup(n, "oneOf")
	if oneOf == nil {
		b, err := decodeBranch(control, n, base)
		if err != nil {
			return nil, err
		}
		return []*Branch{b}, nil
	}
	if len(n.Content) != 2 {
		return nil, keyErr(n, base, "oneOf must be the only key")
	}
	if oneOf.Kind != yaml.SequenceNode {
		return nil, keyErr(oneOf, base+".oneOf", "must be a list")
	}
	var branches []*Branch
	for i, item := range oneOf.Content {
		path := fmt.Sprintf("%s.oneOf[%d]", base, i)
		b, err := decodeBranch(control, item, path)
		if err != nil {
			return nil, err
		}
		if b.When == nil {
			return nil, keyErr(item, path, "must say which value of %q it is for (properties.%s with const or enum)", control, control)
		}
		branches = append(branches, b)
	}
	return branches, nil
}

func decodeBranch(control string, n *yaml.Node, base string) (*Branch, error) {
	if n.Kind != yaml.MappingNode {
		return nil, keyErr(n, base, "a dependency schema must be a mapping")
	}
	b := &Branch{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		path := base + "." + k.Value
		switch k.Value {
		case "properties":
			props, err := decodeProperties(v, path)
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
			list, err := textList(v, path)
			if err != nil {
				return nil, err
			}
			b.Required = list
		default:
			if unsupportedKeywords[k.Value] || k.Value == "dependencies" {
				return nil, keyErr(k, path, "%s inside dependencies is not supported by idp", k.Value)
			}
		}
	}
	return b, nil
}
