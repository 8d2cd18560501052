package cli

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/spf13/cobra"

	"github.com/back-stack/idp/platform/aks"
	"github.com/back-stack/idp/platform/config"
)

// azureDeps routes the Azure client; nil fields mean Azure itself with the
// default credential chain. Tests and the demo set them.
type azureDeps struct {
	cred      azcore.TokenCredential
	opts      *arm.ClientOptions
	pollEvery time.Duration
}

func newAKSCmd(g *globals, az azureDeps) *cobra.Command {
	var ref aks.Ref
	cmd := &cobra.Command{
		Use:   "aks",
		Short: "Show, stop and start the platform's AKS cluster (cost control)",
		Long: `Show, stop and start the platform's AKS cluster.

The cluster is named by .idp/platform.yaml in the GitOps repository
(azure.subscriptionID, azure.resourceGroup, azure.aks.name) or by flags, which
win. Credentials come from Azure's default chain: az login, environment,
workload or managed identity. idp stores none.

Stopping AKS stops the control plane and the nodes, and with them Argo CD and
Crossplane; the cluster's state is kept. Every stop and start is recorded as a
commit under .idp/audit/ in the GitOps repository.`,
		Example: `  idp aks status
  idp aks stop --wait
  idp aks start --yes -o json
  idp aks status --subscription 0000-... --resource-group platform --cluster platform-aks`,
	}
	f := cmd.PersistentFlags()
	f.StringVar(&ref.SubscriptionID, "subscription", "", "Azure subscription ID (default: azure.subscriptionID in .idp/platform.yaml)")
	f.StringVar(&ref.ResourceGroup, "resource-group", "", "resource group of the cluster (default: azure.resourceGroup)")
	f.StringVar(&ref.Name, "cluster", "", "AKS cluster name (default: azure.aks.name)")

	connect := func(cmd *cobra.Command) (*aks.Client, aks.Auditor, error) {
		cfg, err := g.config(cmd)
		if err != nil {
			return nil, nil, err
		}
		return aksTarget(cfg, ref, az).Connect(cmd.Context())
	}
	cmd.AddCommand(newAKSStatusCmd(connect), newAKSActionCmd(aks.Stop, connect), newAKSActionCmd(aks.Start, connect))
	return cmd
}

// aksTarget is where the cluster's name and the audit log come from.
func aksTarget(cfg config.Config, flags aks.Ref, az azureDeps) aks.Target {
	return aks.Target{GitOps: cfg.GitOps, Flags: flags, Credential: az.cred, ClientOptions: az.opts, PollEvery: az.pollEvery}
}

type connectFunc func(*cobra.Command) (*aks.Client, aks.Auditor, error)

func newAKSStatusCmd(connect connectFunc) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the cluster's power state, provisioning state, version and node pools",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(output, outputText, outputJSON); err != nil {
				return err
			}
			c, _, err := connect(cmd)
			if err != nil {
				return err
			}
			cl, err := c.Status(cmd.Context())
			if err != nil {
				return err
			}
			if output == outputJSON {
				return writeJSON(cmd.OutOrStdout(), cl)
			}
			printCluster(cmd.OutOrStdout(), cl)
			return nil
		},
	}
	addOutputFlag(cmd, &output, outputText, outputJSON)
	return cmd
}

func newAKSActionCmd(action aks.Action, connect connectFunc) *cobra.Command {
	var output string
	var wait, yes bool
	cmd := &cobra.Command{
		Use:   string(action),
		Short: map[aks.Action]string{aks.Stop: "Stop the cluster: control plane, nodes, and the Argo CD and Crossplane on them", aks.Start: "Start the cluster again with the state it had"}[action],
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(output, outputText, outputJSON); err != nil {
				return err
			}
			c, audit, err := connect(cmd)
			if err != nil {
				return err
			}
			if !yes {
				if err := confirm(cmd, action, c.Ref()); err != nil {
					return err
				}
			}
			progress := func(p aks.Progress) {
				fmt.Fprintf(cmd.ErrOrStderr(), "%s %s: provisioning state %s, power %s\n", action, c.Ref().Name, p.ProvisioningState, p.PowerState)
			}
			if output == outputJSON {
				progress = nil // stderr stays quiet for scripts; the result says it all
			}
			out := aks.Do(cmd.Context(), c, action, wait, audit, progress)
			if output == outputJSON {
				if err := writeJSON(cmd.OutOrStdout(), outcomeJSON(out)); err != nil {
					return err
				}
			} else {
				printOutcome(cmd.OutOrStdout(), out)
			}
			if out.Err != nil {
				return out.Err
			}
			return out.AuditErr
		},
	}
	cmd.Flags().BoolVar(&wait, "wait", false, "wait until the operation ends, printing its progress")
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation")
	addOutputFlag(cmd, &output, outputText, outputJSON)
	return cmd
}

// confirm asks on the terminal; without one, --yes is required.
func confirm(cmd *cobra.Command, action aks.Action, ref aks.Ref) error {
	in, ok := cmd.InOrStdin().(*os.File)
	if !ok || !isTerminal(in) {
		return fmt.Errorf("refusing to %s AKS cluster %s without confirmation: pass --yes", action, ref.Name)
	}
	what := map[aks.Action]string{
		aks.Stop:  "This stops the control plane and the nodes, and with them Argo CD and Crossplane; the cluster's state is kept.",
		aks.Start: "The control plane and the nodes start again with the state they had.",
	}[action]
	fmt.Fprintf(cmd.ErrOrStderr(), "%s AKS cluster %s? %s [y/N] ", strings.ToUpper(string(action[:1]))+string(action[1:]), ref, what)
	answer, _ := bufio.NewReader(in).ReadString('\n')
	if a := strings.ToLower(strings.TrimSpace(answer)); a != "y" && a != "yes" {
		return fmt.Errorf("%s cancelled", action)
	}
	return nil
}

func printCluster(w io.Writer, cl aks.Cluster) {
	fmt.Fprintf(w, "Cluster:       %s\n", cl.Ref)
	fmt.Fprintf(w, "Location:      %s\n", cl.Location)
	fmt.Fprintf(w, "Power:         %s\n", cl.PowerState)
	fmt.Fprintf(w, "Provisioning:  %s\n", cl.ProvisioningState)
	fmt.Fprintf(w, "Kubernetes:    %s\n", cl.KubernetesVersion)
	fmt.Fprintf(w, "\n%-16s %-8s %5s  %-20s %s\n", "NODE POOL", "MODE", "NODES", "VM SIZE", "POWER")
	for _, np := range cl.NodePools {
		fmt.Fprintf(w, "%-16s %-8s %5d  %-20s %s\n", np.Name, np.Mode, np.Count, np.VMSize, np.PowerState)
	}
}

func printOutcome(w io.Writer, out aks.Outcome) {
	r := out.Result
	switch r.Outcome {
	case aks.Succeeded:
		fmt.Fprintf(w, "%s of %s succeeded after %s\n", r.Action, r.Cluster.Name, r.Duration)
	case aks.Accepted:
		fmt.Fprintf(w, "%s of %s accepted by Azure; follow it with `idp aks status` (or pass --wait)\n", r.Action, r.Cluster.Name)
	}
	if out.AuditCommit != "" {
		fmt.Fprintf(w, "recorded in the GitOps repository as commit %s\n", out.AuditCommit)
	}
}

// outcomeJSON is the -o json shape of a power action.
func outcomeJSON(out aks.Outcome) any {
	v := struct {
		aks.Result
		AuditCommit string `json:"auditCommit,omitempty"`
		AuditError  string `json:"auditError,omitempty"`
	}{Result: out.Result, AuditCommit: out.AuditCommit}
	if out.AuditErr != nil {
		v.AuditError = out.AuditErr.Error()
	}
	return v
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
