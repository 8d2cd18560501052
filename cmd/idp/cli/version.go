package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/back-stack/idp/platform/buildinfo"
)

// errInvalidOutput is wrapped by the -o validation errors.
var errInvalidOutput = errors.New("invalid output format")

// Output formats for -o.
const (
	outputText = "text"
	outputJSON = "json"
)

func newVersionCmd() *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print idp's version, commit, Go version and platform",
		Example: `  idp version
  idp version -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(output, outputText, outputJSON); err != nil {
				return err
			}
			info := buildinfo.Get()
			if output == outputJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(info)
			}
			_, err := fmt.Fprint(cmd.OutOrStdout(), info.String())
			return err
		},
	}
	addOutputFlag(cmd, &output, outputText, outputJSON)
	return cmd
}

// addOutputFlag adds -o/--output with its valid values in help and completion;
// the first value is the default.
func addOutputFlag(cmd *cobra.Command, output *string, valid ...string) {
	cmd.Flags().StringVarP(output, "output", "o", valid[0], "output format: "+strings.Join(valid, " or "))
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions(valid, cobra.ShellCompDirectiveNoFileComp))
}

func checkOutput(output string, valid ...string) error {
	if slices.Contains(valid, output) {
		return nil
	}
	return fmt.Errorf("%w %q for -o/--output: valid values are %s", errInvalidOutput, output, strings.Join(valid, ", "))
}
