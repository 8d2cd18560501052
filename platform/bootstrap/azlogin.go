package bootstrap

import (
	"context"
	"encoding/json"
	"os/exec"
	"time"
)

// AzureLogin reads the subscription and tenant of the az CLI's current
// login, to prefill the wizard; ok is false when az is missing or not
// logged in (the wizard then asks with empty fields).
func AzureLogin(ctx context.Context) (subscription, tenant string, ok bool) {
	az, err := exec.LookPath("az")
	if err != nil {
		return "", "", false
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, az, "account", "show", "--output", "json").Output()
	if err != nil {
		return "", "", false
	}
	var acct struct {
		ID       string `json:"id"`
		TenantID string `json:"tenantId"`
	}
	if json.Unmarshal(out, &acct) != nil || acct.ID == "" {
		return "", "", false
	}
	return acct.ID, acct.TenantID, true
}
