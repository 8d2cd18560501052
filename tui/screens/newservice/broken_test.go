package newservice

import (
	"context"
	"strings"
	"testing"
	"testing/fstest"

	tea "charm.land/bubbletea/v2"

	"github.com/back-stack/idp/assets"
	"github.com/back-stack/idp/platform/templates"
	"github.com/back-stack/idp/tui/theme"
)

// brokenService offers the built-ins and a folder with one broken template
// and one that needs a third-party plugin.
type brokenService struct{ cannedService }

func (brokenService) Catalog(context.Context) (*templates.Catalog, error) {
	c := &templates.Catalog{}
	if err := c.LoadFS(assets.Templates(), ".", templates.BuiltinSource); err != nil {
		return nil, err
	}
	head := "apiVersion: scaffolder.backstage.io/v1beta3\nkind: Template\nmetadata: {name: %s}\nspec:\n  steps:\n"
	err := c.LoadFS(fstest.MapFS{
		"bad/template.yaml":    {Data: []byte(strings.Replace(head, "%s", "bad", 1) + "    - action: fetch:template\n      input: {url: ./missing}\n")},
		"plugin/template.yaml": {Data: []byte(strings.Replace(head, "%s", "plugin", 1) + "    - action: quarkus:app:create\n")},
	}, ".", "/acme")
	return c, err
}

// A broken template is listed with its reason under the usable ones, which
// stay pickable, built-ins included.
func TestBrokenTemplatesAreListed(t *testing.T) {
	m := New(context.Background(), theme.New(true), brokenService{})
	m.SetSize(120, 40)
	m.Update(m.Init()())
	view := m.View()
	for _, want := range []string{"go-service", "static-site", "Cannot be used", "bad", `url "./missing"`, "plugin", "quarkus:app:create"} {
		if !strings.Contains(view, want) {
			t.Errorf("the list lacks %q:\n%s", want, view)
		}
	}
	if got := len(m.usable()); got != 3 {
		t.Fatalf("%d usable templates; want the 3 built-ins", got)
	}
	for range 5 {
		m.Update(tea.KeyPressMsg{Code: tea.KeyDown})
	}
	m.Update(tea.KeyPressMsg{Code: tea.KeyEnter})
	if m.state != stateFilling || m.tpl.Name != "static-site" {
		t.Errorf("the cursor went past the usable templates: state %v, %v", m.state, m.tpl)
	}
}
