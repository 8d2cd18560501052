package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"github.com/back-stack/idp/platform/argocd"
	"github.com/back-stack/idp/platform/crossplane"
	"github.com/back-stack/idp/platform/environment"
	"github.com/back-stack/idp/platform/live"
	"github.com/back-stack/idp/platform/watch"
)

const (
	outputTable = "table"
	outputYAML  = "yaml"
)

const statusExample = `  # Every application, the Crossplane trees, and any kind you may not read
  idp status

  # One application: conditions, operation, resources, policy results, events
  idp status shop/web

  # Only what is not healthy, as JSON for a script
  idp status --filter health=degraded -o json

  # Stream changes as they happen (one JSON object per line with -o json)
  idp status --watch`

func newStatusCmd(g *globals) *cobra.Command {
	var (
		output, filter string
		follow         bool
		timeout        time.Duration
	)
	cmd := &cobra.Command{
		Use:   "status [APP]",
		Short: "Print Argo CD applications, the Crossplane trees and Kyverno results, once or as they change",
		Long: `status prints what the live views show: every Argo CD application (or one,
named as NAME or NAMESPACE/NAME, with its conditions, operation, resources,
Kyverno results and events), the Crossplane claims and composite resources as
trees with the deepest failure named, and which kinds could not be read
(forbidden by RBAC, not installed).

It reads the cluster through the Kubernetes API with the kubeconfig's user;
--watch keeps streaming changes until interrupted.`,
		Example: statusExample,
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(output, outputTable, outputJSON, outputYAML); err != nil {
				return err
			}
			cfg, err := g.config(cmd)
			if err != nil {
				return err
			}
			env := environment.Resolve(cfg)
			if env.KubeErr != nil {
				return env.KubeErr
			}
			opts := live.StatusOptions{Filter: argocd.ParseFilter(filter)}
			if len(args) == 1 {
				opts.App = args[0]
			}
			client := live.New()
			out := cmd.OutOrStdout()
			if !follow {
				ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
				defer cancel()
				snap, err := client.Status(ctx, env, opts)
				if err != nil {
					return err
				}
				if err := printSnapshot(out, output, snap, time.Now()); err != nil {
					return err
				}
				return unreadError(snap.Sources)
			}
			first := func(s live.Snapshot) error { return printSnapshot(out, output, s, time.Now()) }
			if output == outputTable {
				fmt.Fprintln(out)
			}
			err = client.Follow(cmd.Context(), env, opts, first, func(c live.Change) error { return printChange(out, output, c, time.Now()) })
			if cmd.Context().Err() != nil {
				return nil // interrupted: the normal end of --watch
			}
			return err
		},
	}
	addOutputFlag(cmd, &output, outputTable, outputJSON, outputYAML)
	cmd.Flags().BoolVarP(&follow, "watch", "w", false, "after printing, stream changes until interrupted")
	cmd.Flags().StringVar(&filter, "filter", "", "only applications matching: words in the name, project=, sync=, health=, namespace=, LABEL=VALUE")
	cmd.Flags().DurationVar(&timeout, "timeout", 60*time.Second, "how long to wait for the cluster's first answer")
	return cmd
}

// exitUnread is the exit code of a status whose output is incomplete: a
// source it was asked to read could not be read.
const exitUnread = 3

// unreadSourcesError says which sources could not be read; the output
// printed before it is incomplete.
type unreadSourcesError struct{ sources []live.Source }

func (e *unreadSourcesError) Error() string {
	parts := make([]string, 0, len(e.sources))
	for _, s := range e.sources {
		p := s.Source + " (" + s.State.String()
		if s.Error != "" {
			p += ": " + s.Error
		}
		parts = append(parts, p+")")
	}
	return "could not read " + strings.Join(parts, "; ") + ". The output above is incomplete"
}

func (e *unreadSourcesError) ExitCode() int { return exitUnread }

// unreadError reports the sources that did not answer: still loading when
// --timeout ran out, reconnecting (the API server is unreachable), failed,
// or forbidden. A kind that is not installed is an answer, not a failure;
// Applications across all namespaces being forbidden is fine when a
// fallback namespace answered (see argocd.Overall).
func unreadError(srcs []live.Source) error {
	all := argocd.Spec("").String()
	apps := map[string]watch.Status{}
	var bad []live.Source
	for _, s := range srcs {
		if s.Source == all || strings.HasPrefix(s.Source, all+" in ") {
			apps[s.Source] = watch.Status{State: s.State}
			continue
		}
		if s.State != watch.Live && s.State != watch.NotInstalled {
			bad = append(bad, s)
		}
	}
	if len(apps) > 0 {
		if st, _ := argocd.Overall(apps); st.State != watch.Live && st.State != watch.NotInstalled {
			for _, s := range srcs {
				if st, isApp := apps[s.Source]; isApp && st.State != watch.Live {
					bad = append(bad, s)
				}
			}
		}
	}
	if len(bad) == 0 {
		return nil
	}
	return &unreadSourcesError{sources: bad}
}

func printSnapshot(w io.Writer, output string, s live.Snapshot, now time.Time) error {
	switch output {
	case outputJSON:
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(s)
	case outputYAML:
		b, err := yaml.Marshal(s)
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	}
	if s.Application != nil {
		printDetail(w, s.Application, now)
	} else {
		printApps(w, s.Applications, now)
	}
	printTrees(w, s.Composites)
	printSources(w, s.Sources)
	return nil
}

func printApps(w io.Writer, apps []argocd.App, now time.Time) {
	if len(apps) == 0 {
		fmt.Fprintln(w, "No applications.")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAMESPACE\tNAME\tPROJECT\tSYNC\tHEALTH\tREVISION\tLAST OPERATION\tCONDITIONS")
	for _, a := range apps {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", a.Namespace, a.Name, dash(a.Project), a.Sync, a.Health,
			dash(a.ShortRevision()), lastOp(a, now), problems(a))
	}
	tw.Flush()
}

func lastOp(a argocd.App, now time.Time) string {
	if a.Operation == nil {
		if a.PendingOperation {
			return "requested"
		}
		return "-"
	}
	if t := a.LastOperationTime(); !t.IsZero() {
		return a.Operation.Phase + " " + age(now.Sub(t)) + " ago"
	}
	return a.Operation.Phase
}

func problems(a argocd.App) string {
	errs, warns := a.Problems()
	var parts []string
	if errs > 0 {
		parts = append(parts, fmt.Sprintf("%d error(s)", errs))
	}
	if warns > 0 {
		parts = append(parts, fmt.Sprintf("%d warning(s)", warns))
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ", ")
}

func printDetail(w io.Writer, d *live.AppDetail, now time.Time) {
	a := d.App
	fmt.Fprintf(w, "%s/%s (project %s)\n", a.Namespace, a.Name, dash(a.Project))
	fmt.Fprintf(w, "  Sync:        %s at %s (target %s)\n", a.Sync, dash(a.Revision), dash(a.TargetRevision))
	fmt.Fprintf(w, "  Health:      %s\n", a.Health)
	if a.HealthMessage != "" {
		fmt.Fprintf(w, "               %s\n", a.HealthMessage)
	}
	fmt.Fprintf(w, "  Source:      %s %s\n", dash(a.RepoURL), dash(a.Path))
	fmt.Fprintf(w, "  Destination: %s namespace %s\n", dash(a.DestServer), dash(a.DestNamespace))
	if len(a.Conditions) > 0 {
		fmt.Fprintln(w, "\nConditions:")
		for _, c := range a.Conditions {
			fmt.Fprintf(w, "  %s: %s\n", c.Type, c.Message)
		}
	}
	if op := a.Operation; op != nil {
		fmt.Fprintf(w, "\nOperation: %s", op.Phase)
		if op.Message != "" {
			fmt.Fprintf(w, ": %s", op.Message)
		}
		fmt.Fprintln(w)
		if !op.StartedAt.IsZero() {
			fmt.Fprintf(w, "  Started:   %s (%s ago)\n", op.StartedAt.Format(time.RFC3339), age(now.Sub(op.StartedAt)))
		}
		if !op.FinishedAt.IsZero() {
			fmt.Fprintf(w, "  Finished:  %s (%s ago)\n", op.FinishedAt.Format(time.RFC3339), age(now.Sub(op.FinishedAt)))
		}
		who := dash(op.Initiator)
		if op.Automated {
			who += " (automated)"
		}
		fmt.Fprintf(w, "  Initiator: %s\n", who)
		for _, r := range op.Results {
			fmt.Fprintf(w, "  %-10s %s %s/%s %s\n", dash(r.Status), r.Kind, r.Namespace, r.Name, r.Message)
		}
	} else if a.PendingOperation {
		fmt.Fprintln(w, "\nOperation: requested, waiting for the controller")
	}
	if len(a.Resources) > 0 {
		fmt.Fprintln(w, "\nResources:")
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		for _, r := range a.Resources {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\n", r.Kind, dash(r.Namespace), r.Name, dash(r.Sync), dash(r.Health), r.HealthMessage)
		}
		tw.Flush()
	}
	if p := d.Policy; p != nil {
		fmt.Fprintf(w, "\nPolicy: %d pass, %d fail, %d warn, %d error, %d skip\n", p.Pass, p.Fail, p.Warn, p.Error, p.Skip)
		for _, f := range p.Findings {
			fmt.Fprintf(w, "  %s %s/%s on %s: %s\n", f.Result.Result, f.Policy, f.Rule, f.Resource, f.Message)
		}
	}
	if len(d.Events) > 0 {
		fmt.Fprintln(w, "\nEvents:")
		for _, e := range d.Events {
			fmt.Fprintf(w, "  %s ago\t%s\t%s\t%s\n", age(now.Sub(e.Last)), e.Type, e.Reason, e.Message)
		}
	}
}

func printTrees(w io.Writer, trees []live.Tree) {
	if len(trees) == 0 {
		return
	}
	fmt.Fprintln(w, "\nCrossplane:")
	for _, t := range trees {
		if f := t.Failure; f != nil {
			fmt.Fprintf(w, "✗ not ready: %s — %s=%s", f.Ref, f.Condition.Type, f.Condition.Status)
			if f.Condition.Reason != "" {
				fmt.Fprintf(w, " (%s)", f.Condition.Reason)
			}
			if f.Condition.Message != "" {
				fmt.Fprintf(w, ": %s", f.Condition.Message)
			}
			fmt.Fprintln(w)
		}
		printNode(w, t.Root, "")
	}
}

func printNode(w io.Writer, n *crossplane.Node, indent string) {
	label := n.Ref.String()
	if n.Role != crossplane.RoleResource {
		label += " (" + string(n.Role) + ")"
	}
	switch {
	case n.Missing && n.Problem != "":
		fmt.Fprintf(w, "%s%s  cannot read: %s\n", indent, label, n.Problem)
	case n.Missing:
		fmt.Fprintf(w, "%s%s  not found\n", indent, label)
	default:
		fmt.Fprintf(w, "%s%s  Synced=%s Ready=%s\n", indent, label, dash(n.Synced.Status), dash(n.Ready.Status))
	}
	for _, c := range n.Children {
		printNode(w, c, indent+"  ")
	}
}

func printSources(w io.Writer, srcs []live.Source) {
	first := true
	for _, s := range srcs {
		if s.State == watch.Live {
			continue
		}
		if first {
			fmt.Fprintln(w, "\nNot readable:")
			first = false
		}
		fmt.Fprintf(w, "  %s: %s", s.Source, s.State)
		if s.Error != "" {
			fmt.Fprintf(w, ": %s", s.Error)
		}
		fmt.Fprintln(w)
	}
}

// printChange prints one change of --watch: a line in table output, a
// compact JSON object per line with -o json, a YAML document with -o yaml.
func printChange(w io.Writer, output string, c live.Change, now time.Time) error {
	switch output {
	case outputJSON:
		return json.NewEncoder(w).Encode(c)
	case outputYAML:
		b, err := yaml.Marshal(c)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "---\n%s", b)
		return err
	}
	ts := now.Format("15:04:05")
	verb := "changed"
	if c.Deleted {
		verb = "deleted"
	}
	switch {
	case c.Application != nil:
		a := c.Application
		_, err := fmt.Fprintf(w, "%s  application %s %s/%s  %s %s %s  %s\n", ts, verb, a.Namespace, a.Name, a.Sync, a.Health, dash(a.ShortRevision()), lastOp(*a, now))
		return err
	case c.Composite != nil:
		t := c.Composite
		line := fmt.Sprintf("%s  composite %s %s", ts, verb, t.Root.Ref)
		if !c.Deleted {
			line += fmt.Sprintf("  Synced=%s Ready=%s", dash(t.Root.Synced.Status), dash(t.Root.Ready.Status))
			if t.Failure != nil {
				line += fmt.Sprintf("  not ready: %s: %s", t.Failure.Ref, t.Failure.Condition.Message)
			}
		}
		_, err := fmt.Fprintln(w, line)
		return err
	case c.Source != nil:
		line := fmt.Sprintf("%s  source %s: %s", ts, c.Source.Source, c.Source.State)
		if c.Source.Error != "" {
			line += ": " + c.Source.Error
		}
		_, err := fmt.Fprintln(w, line)
		return err
	}
	return nil
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func age(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", max(0, int(d.Seconds())))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}
