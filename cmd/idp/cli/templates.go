package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
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
	return templates.Sources(ctx, assets.Templates(), cfg.Templates, func(ctx context.Context, url string) (fs.FS, error) {
		return scaffold.TemplateRepoFS(ctx, url, gitops.Options{})
	})
}

// templateSummary is one template in `idp templates -o json`.
type templateSummary struct {
	Name        string                    `json:"name"`
	Title       string                    `json:"title,omitempty"`
	Description string                    `json:"description,omitempty"`
	Tags        []string                  `json:"tags,omitempty"`
	Source      string                    `json:"source"`
	Parameters  []templates.ParameterInfo `json:"parameters"`
}

func newTemplatesCmd(g *globals) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "templates",
		Short: "List the golden-path templates and their parameters",
		Long: `List the golden-path templates idp offers: the built-in ones, then those
from the config's "templates:" and --templates (folders or Git URLs of
Backstage scaffolder templates). A template with the name of a built-in
one replaces it.`,
		Example: `  idp templates
  idp templates --templates ./golden-paths -o json`,
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
				list := make([]templateSummary, 0, len(cat.Templates))
				for _, t := range cat.Templates {
					list = append(list, templateSummary{t.Name, t.Title, t.Description, t.Tags, t.Source, t.Parameters()})
				}
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(list)
			}
			return printTemplates(cmd.OutOrStdout(), cat)
		},
	}
	addOutputFlag(cmd, &output, outputText, outputJSON)
	return cmd
}

func printTemplates(w io.Writer, cat *templates.Catalog) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for i, t := range cat.Templates {
		if i > 0 {
			fmt.Fprintln(tw)
		}
		fmt.Fprintf(tw, "%s\t%s\t(%s)\n", t.Name, t.Title, t.Source)
		if t.Description != "" {
			fmt.Fprintf(tw, "  %s\n", strings.Join(strings.Fields(t.Description), " "))
		}
		for _, p := range t.Parameters() {
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
			fmt.Fprintf(tw, "  --set %s=\t%s\t%s\t%s\n", p.Name, p.Type, strings.Join(facts, ", "), p.Title)
		}
	}
	return tw.Flush()
}
