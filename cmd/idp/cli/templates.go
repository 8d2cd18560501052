package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/back-stack/idp/assets"
	"github.com/back-stack/idp/gitops"
	"github.com/back-stack/idp/platform/config"
	"github.com/back-stack/idp/platform/scaffold"
	"github.com/back-stack/idp/platform/templates"
)

// loadCatalog is the built-in templates plus the config's and --templates'
// sources, in that order.
func loadCatalog(ctx context.Context, cfg config.Config) (*templates.Catalog, error) {
	return templates.Sources(ctx, assets.Templates(), cfg.Templates, func(ctx context.Context, url, ref string) (fs.FS, error) {
		return scaffold.TemplateRepoFS(ctx, url, ref, gitops.Options{})
	})
}

// templateSummary is one template in `idp templates -o json`: a usable
// one, or one that cannot be used, with its reason in error.
type templateSummary struct {
	Name        string   `json:"name"`
	Title       string   `json:"title,omitempty"`
	Description string   `json:"description,omitempty"`
	Tags        []string `json:"tags,omitempty"`
	Source      string   `json:"source"`
	// Origin is the configured source; Ref (ORIGIN:NAME) picks this
	// template when several share its name.
	Origin string `json:"origin,omitempty"`
	Ref    string `json:"ref,omitempty"`
	File   string `json:"file,omitempty"`
	Line   int    `json:"line,omitempty"`
	// Default is true for the template `idp new NAME` takes.
	Default bool `json:"default"`
	// Error is why the template cannot be used; "" when it can.
	Error      string                    `json:"error,omitempty"`
	Parameters []templates.ParameterInfo `json:"parameters"`
}

// summarise lists every template, usable or not, in name order.
func summarise(cat *templates.Catalog) []templateSummary {
	list := make([]templateSummary, 0, len(cat.Templates)+len(cat.Broken))
	for _, t := range cat.Templates {
		s := templateSummary{Name: t.Name, Title: t.Title, Description: t.Description, Tags: t.Tags, Source: t.Source,
			Origin: t.Origin, File: t.File, Line: t.Line, Default: cat.Chosen(t), Error: t.Refusal, Parameters: t.Parameters()}
		if len(cat.Others(t)) > 0 {
			s.Ref = t.Ref()
		}
		if s.Parameters == nil {
			s.Parameters = []templates.ParameterInfo{}
		}
		list = append(list, s)
	}
	for _, b := range cat.Broken {
		list = append(list, templateSummary{Name: b.Name, Source: b.Source, Origin: b.Origin, File: b.File, Line: b.Line,
			Error: b.Error(), Parameters: []templates.ParameterInfo{}})
	}
	sort.SliceStable(list, func(i, j int) bool { return list[i].Name < list[j].Name })
	return list
}

func newTemplatesCmd(g *globals) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "templates",
		Short: "List the golden-path templates and their parameters",
		Long: `List the golden-path templates idp offers: the built-in ones, then those
from the config's "templates:" and --templates (folders, files or Git URLs of
Backstage scaffolder templates, searched at any depth, with kind: Location
files followed). A template that cannot be used is listed with its reason
(-o json: "error") and never hides the others. When several templates share
a name, 'idp new NAME' takes the one loaded last (a later source overrides a
built-in), and 'idp new SOURCE:NAME' picks another.`,
		Example: `  idp templates
  idp templates --templates ./golden-paths -o json
  idp templates --templates https://github.com/acme/templates/tree/main/golden-paths`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(output, outputText, outputJSON); err != nil {
				return err
			}
			cfg, err := g.config(cmd)
			if err != nil {
				return err
			}
			cat, err := loadCatalog(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			if output == outputJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(summarise(cat))
			}
			return printTemplates(cmd.OutOrStdout(), cat)
		},
	}
	addOutputFlag(cmd, &output, outputText, outputJSON)
	return cmd
}

func printTemplates(w io.Writer, cat *templates.Catalog) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for i, s := range summarise(cat) {
		if i > 0 {
			fmt.Fprintln(tw)
		}
		if s.Error != "" {
			name := s.Name
			if name == "" {
				name = "?"
			}
			fmt.Fprintf(tw, "%s\tcannot be used\t(%s)\n", name, s.Source)
			fmt.Fprintf(tw, "  error: %s\n", s.Error)
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t(%s)\n", s.Name, s.Title, s.Source)
		if s.Ref != "" {
			if s.Default {
				fmt.Fprintf(tw, "  'idp new %s' takes this one; 'idp new %s' names it too\n", s.Name, s.Ref)
			} else {
				fmt.Fprintf(tw, "  another template has this name: 'idp new %s' takes this one\n", s.Ref)
			}
		}
		if s.Description != "" {
			fmt.Fprintf(tw, "  %s\n", strings.Join(strings.Fields(s.Description), " "))
		}
		for _, p := range s.Parameters {
			var facts []string
			if p.Required {
				facts = append(facts, "required")
			}
			if len(p.Enum) > 0 {
				vals := make([]string, len(p.Enum))
				for i, v := range p.Enum {
					vals[i] = fmt.Sprint(v)
				}
				facts = append(facts, strings.Join(vals, "|"))
			}
			if p.Default != nil {
				facts = append(facts, fmt.Sprintf("default %v", p.Default))
			}
			if p.When != "" {
				facts = append(facts, "when "+p.When)
			}
			if p.Note != "" {
				facts = append(facts, p.Note)
			}
			fmt.Fprintf(tw, "  --set %s=\t%s\t%s\t%s\n", p.Name, p.Type, strings.Join(facts, ", "), p.Title)
		}
	}
	return tw.Flush()
}
