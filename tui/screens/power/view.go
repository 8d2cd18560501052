package power

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/back-stack/idp/platform/aks"
)

// confirmText says what an action does before the user agrees to it.
func confirmText(a aks.Action, name string) string {
	if a == aks.Stop {
		return fmt.Sprintf("Stop AKS cluster %s? This stops the control plane and the nodes, and with them Argo CD and Crossplane running on them: nothing is reconciled until it starts again. The cluster's state is kept, and starting it brings everything back. Billing for the nodes stops.", name)
	}
	return fmt.Sprintf("Start AKS cluster %s? The control plane and the nodes start again with the state they had; Argo CD and Crossplane resume reconciling once the nodes are ready. Billing for the nodes resumes.", name)
}

func (m *Model) render() {
	var lines []string
	switch {
	case m.cluster == nil && m.loadErr == nil:
		lines = append(lines, m.th.Muted.Render("Reading the cluster from Azure…"))
	case m.cluster != nil:
		lines = append(lines, m.clusterLines()...)
	}
	if m.loadErr != nil {
		lines = append(lines, "")
		lines = append(lines, m.wrap(m.th.Error.Render, m.loadErr.Error())...)
		lines = append(lines, m.th.Muted.Render("r retries"))
	}
	if m.op != nil {
		lines = append(lines, "")
		lines = append(lines, m.opLines()...)
	}
	if m.confirming != "" && m.cluster != nil {
		lines = append(lines, "")
		lines = append(lines, m.wrap(m.th.Label.Render, confirmText(m.confirming, m.cluster.Ref.Name))...)
		lines = append(lines, m.th.Muted.Render(fmt.Sprintf("y %s · n/esc cancel", m.confirming)))
	}
	m.pager.SetContent(lines)
}

// wrap breaks text at the screen width and styles each line.
func (m *Model) wrap(style func(...string) string, text string) []string {
	var lines []string
	for _, l := range strings.Split(ansi.Wordwrap(text, max(m.width, 20), " "), "\n") {
		lines = append(lines, style(l))
	}
	return lines
}

func (m *Model) clusterLines() []string {
	cl := m.cluster
	power := cl.PowerState
	if power == "" {
		power = "Unknown"
	}
	label := func(l string) string { return m.th.Label.Render(fmt.Sprintf("%-14s", l)) }
	lines := []string{
		label("Cluster") + cl.Ref.Name,
		label("Where") + m.th.Muted.Render(fmt.Sprintf("resource group %s · subscription %s · %s", cl.Ref.ResourceGroup, cl.Ref.SubscriptionID, cl.Location)),
		label("Power") + m.th.Status(powerStyleName(power)).Render(power),
		label("Provisioning") + m.th.Status(provStyleName(cl.ProvisioningState)).Render(orDash(cl.ProvisioningState)),
		label("Kubernetes") + orDash(cl.KubernetesVersion),
		"",
		m.th.Label.Render(fmt.Sprintf("%-16s %-8s %6s  %-20s %s", "NODE POOL", "MODE", "NODES", "VM SIZE", "POWER")),
	}
	for _, np := range cl.NodePools {
		count := fmt.Sprint(np.Count)
		if np.MaxCount > 0 {
			count = fmt.Sprintf("%d (%d-%d)", np.Count, np.MinCount, np.MaxCount)
		}
		lines = append(lines, fmt.Sprintf("%-16s %-8s %6s  %-20s %s", np.Name, np.Mode, count, np.VMSize, m.th.Status(powerStyleName(np.PowerState)).Render(orDash(np.PowerState))))
	}
	if len(cl.NodePools) == 0 {
		lines = append(lines, m.th.Muted.Render("no node pools reported"))
	}
	return lines
}

func (m *Model) opLines() []string {
	st := m.opState
	action := capitalize(string(st.Action))
	if !st.Done {
		elapsed := max(m.now.Sub(st.Started).Round(time.Second), 0)
		return []string{
			fmt.Sprintf("%s %s of %s running · %s elapsed · provisioning state %s",
				m.spin.View(), action, m.clusterName(), elapsed, m.th.Progressing.Render(orDash(st.Progress.ProvisioningState))),
			m.th.Muted.Render("Leaving this screen does not cancel the operation; come back to follow it."),
		}
	}
	out := st.Outcome
	var lines []string
	if out.Err != nil {
		lines = m.wrap(m.th.Error.Render, fmt.Sprintf("✗ %s failed: %v", action, out.Err))
	} else {
		lines = m.wrap(m.th.Healthy.Render, fmt.Sprintf("✓ %s of %s %s after %s", action, m.clusterName(), out.Result.Outcome, out.Result.Duration))
	}
	switch {
	case out.AuditErr != nil:
		lines = append(lines, m.wrap(m.th.Error.Render, out.AuditErr.Error())...)
	case out.AuditCommit != "":
		lines = append(lines, m.wrap(m.th.Muted.Render, fmt.Sprintf("Recorded in the GitOps repository as commit %s.", shortHash(out.AuditCommit)))...)
	}
	return lines
}

func (m *Model) clusterName() string {
	if m.cluster != nil {
		return m.cluster.Ref.Name
	}
	return "the cluster"
}

// powerStyleName maps a power state to a theme status name.
func powerStyleName(s string) string {
	if s == aks.Running {
		return "Healthy"
	}
	return s // Stopped has its own style; others fall back to Unknown
}

func provStyleName(s string) string {
	switch s {
	case "Succeeded":
		return "Healthy"
	case "Failed":
		return "Degraded"
	case "":
		return "Unknown"
	}
	return "Progressing"
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func shortHash(h string) string {
	if len(h) > 8 {
		return h[:8]
	}
	return h
}
