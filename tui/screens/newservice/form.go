package newservice

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"charm.land/huh/v2"

	"github.com/back-stack/idp/platform/templates"
	"github.com/back-stack/idp/tui/keys"
	"github.com/back-stack/idp/tui/theme"
)

// answer is what the form holds for one parameter: huh fields write into
// these through pointers, so a rebuilt form shows the same answers.
type answer struct {
	prop  *templates.Property
	text  string   // inputs and selects (the option's key)
	flag  bool     // confirms
	multi []string // multi-selects
}

// answers are the form's state for one template.
type answers struct {
	tpl   *templates.Template
	byKey map[string]*answer
}

func newAnswers(tpl *templates.Template) *answers {
	a := &answers{tpl: tpl, byKey: map[string]*answer{}}
	for _, name := range tpl.ParameterNames() {
		p := tpl.Property(name)
		ans := &answer{prop: p}
		switch d := p.Default; {
		case d == nil:
		case p.Type == "boolean":
			ans.flag, _ = d.(bool)
		case p.Type == "array":
			if list, ok := d.([]any); ok {
				for _, v := range list {
					ans.multi = append(ans.multi, fmt.Sprint(v))
				}
				ans.text = strings.Join(ans.multi, ", ")
			}
		default:
			ans.text = fmt.Sprint(d)
		}
		a.byKey[name] = ans
	}
	return a
}

// values converts the answers to typed values, leaving out empty text so
// that defaults and "required" apply. Answers that do not parse are left
// out too; the field's own validation shows why.
func (a *answers) values() map[string]any {
	out := map[string]any{}
	for name, ans := range a.byKey {
		if v, ok := ans.value(); ok {
			out[name] = v
		}
	}
	return out
}

func (ans *answer) value() (any, bool) {
	p := ans.prop
	switch {
	case p.Type == "boolean":
		return ans.flag, true
	case p.Type == "array" && len(p.Enum) > 0:
		var list []any
		for _, k := range ans.multi {
			if v, ok := enumValue(p, k); ok {
				list = append(list, v)
			}
		}
		return list, true
	case len(p.Enum) > 0:
		return enumValue(p, ans.text)
	case strings.TrimSpace(ans.text) == "":
		return nil, false
	}
	v, err := p.Parse(ans.text)
	return v, err == nil
}

// enumValue maps a select's key (the value printed) back to the value.
func enumValue(p *templates.Property, key string) (any, bool) {
	for _, c := range p.Choices() {
		if fmt.Sprint(c.Value) == key {
			return c.Value, true
		}
	}
	return nil, false
}

// pageOf finds the page that holds a parameter, for its required rules.
func (a *answers) pageOf(name string) *templates.Page {
	for _, pg := range a.tpl.Pages {
		for _, p := range pg.Properties {
			if p.Name == name {
				return pg
			}
		}
		for _, d := range pg.Dependencies {
			for _, b := range d.Branches {
				for _, p := range b.Properties {
					if p.Name == name {
						return pg
					}
				}
			}
		}
	}
	return nil
}

// validate checks one answer as the template's schema does; the message
// names the field, as it shows under the page.
func (a *answers) validate(name, text string) error {
	if err := a.check(name, text); err != nil {
		return fmt.Errorf("%s %v", a.byKey[name].prop.Label(), err)
	}
	return nil
}

func (a *answers) check(name, text string) error {
	ans := a.byKey[name]
	p := ans.prop
	vals := a.values()
	if p.Type != "boolean" && len(p.Enum) == 0 {
		if strings.TrimSpace(text) == "" {
			delete(vals, name)
		} else {
			v, err := p.Parse(text)
			if err != nil {
				return errors.New(strings.TrimPrefix(err.Error(), name+": "))
			}
			vals[name] = v
		}
	}
	if pg := a.pageOf(name); pg != nil {
		return pg.ValidateField(p, vals)
	}
	return nil
}

// buildForm makes one huh group per page, and one per dependency branch
// that shows only while its condition holds.
func buildForm(a *answers, th theme.Theme) *huh.Form {
	var groups []*huh.Group
	for _, pg := range a.tpl.Pages {
		var fields []huh.Field
		for _, p := range pg.Properties {
			if f := a.field(p, pg); f != nil {
				fields = append(fields, f)
			}
		}
		if len(fields) > 0 {
			groups = append(groups, huh.NewGroup(fields...).Title(pg.Title).Description(pg.Description))
		}
		for _, d := range pg.Dependencies {
			for _, b := range d.Branches {
				var bf []huh.Field
				for _, p := range b.Properties {
					if f := a.field(p, pg); f != nil {
						bf = append(bf, f)
					}
				}
				if len(bf) == 0 {
					continue
				}
				page := pg
				names := make([]string, len(b.Properties))
				for i, p := range b.Properties {
					names[i] = p.Name
				}
				groups = append(groups, huh.NewGroup(bf...).Title(pg.Title).
					WithHideFunc(func() bool { return !branchShown(page, names, a.values()) }))
			}
		}
	}
	km := huh.NewDefaultKeyMap()
	km.Quit = keys.FormCancel
	t := huh.ThemeFunc(huh.ThemeBase16)
	if th.NoColor {
		t = huh.ThemeFunc(huh.ThemeBase)
	}
	return huh.NewForm(groups...).WithKeyMap(km).WithTheme(t).WithShowHelp(true)
}

// branchShown reports whether the branch fields apply to the answers.
func branchShown(pg *templates.Page, names []string, vals map[string]any) bool {
	fields := pg.Fields(vals)
	return slices.ContainsFunc(fields, func(p *templates.Property) bool { return slices.Contains(names, p.Name) })
}

func title(p *templates.Property, pg *templates.Page) string {
	t := p.Label()
	if slices.Contains(pg.Required, p.Name) {
		t += " *"
	}
	return t
}

func description(p *templates.Property) string {
	parts := []string{}
	for _, s := range []string{p.Description, p.Help} {
		if s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, " · ")
}

// field makes the huh field for a parameter; nil for hidden ones.
func (a *answers) field(p *templates.Property, pg *templates.Page) huh.Field {
	if p.Widget == "hidden" || p.ReadOnly {
		return nil
	}
	ans := a.byKey[p.Name]
	name := p.Name
	switch {
	case p.Type == "boolean":
		return huh.NewConfirm().Key(name).Title(title(p, pg)).Description(description(p)).Value(&ans.flag)
	case p.Type == "array" && len(p.Enum) > 0:
		opts := make([]huh.Option[string], 0, len(p.Enum))
		for _, c := range p.Choices() {
			opts = append(opts, huh.NewOption(c.Label, fmt.Sprint(c.Value)))
		}
		return huh.NewMultiSelect[string]().Key(name).Title(title(p, pg)).Description(description(p)).Options(opts...).Value(&ans.multi)
	case len(p.Enum) > 0:
		opts := make([]huh.Option[string], 0, len(p.Enum))
		for _, c := range p.Choices() {
			opts = append(opts, huh.NewOption(c.Label, fmt.Sprint(c.Value)))
		}
		if ans.text == "" {
			ans.text = fmt.Sprint(p.Enum[0])
		}
		return huh.NewSelect[string]().Key(name).Title(title(p, pg)).Description(description(p)).Options(opts...).Value(&ans.text)
	case p.Widget == "textarea":
		return huh.NewText().Key(name).Title(title(p, pg)).Description(description(p)).Value(&ans.text).
			Validate(func(s string) error { return a.validate(name, s) })
	}
	desc := description(p)
	if p.Type == "array" {
		desc = strings.TrimPrefix(desc+" · comma-separated", " · ")
	}
	in := huh.NewInput().Key(name).Title(title(p, pg)).Description(desc).Value(&ans.text).
		Placeholder(p.Placeholder).Validate(func(s string) error { return a.validate(name, s) })
	if p.Widget == "password" {
		in = in.EchoMode(huh.EchoModePassword)
	}
	return in
}
