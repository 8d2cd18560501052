package aks

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/containerservice/armcontainerservice/v6"

	"github.com/back-stack/idp/platform/aks/akstest"
)

var ref = Ref{SubscriptionID: "00000000-0000-0000-0000-000000000001", ResourceGroup: "platform", Name: "platform-aks"}

func newTestClient(t *testing.T, a *akstest.Cluster, cred azcore.TokenCredential) *Client {
	t.Helper()
	if cred == nil {
		cred = akstest.Credential()
	}
	c, err := NewClient(ref, cred, a.ClientOptions())
	if err != nil {
		t.Fatal(err)
	}
	c.PollEvery = time.Millisecond
	return c
}

func TestStatus(t *testing.T) {
	c := newTestClient(t, &akstest.Cluster{Power: Running, Provisioning: "Succeeded"}, nil)
	cl, err := c.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if cl.PowerState != Running || cl.ProvisioningState != "Succeeded" || cl.KubernetesVersion != "1.33.2" ||
		len(cl.NodePools) != 1 || cl.NodePools[0].Count != 3 || cl.NodePools[0].VMSize != "Standard_D4s_v5" {
		t.Errorf("status %+v", cl)
	}
}

func TestStopWaitsThroughTheLongRunningOperation(t *testing.T) {
	a := &akstest.Cluster{Power: Running, Provisioning: "Succeeded", Steps: 3}
	c := newTestClient(t, a, nil)
	var seen []Progress
	res, err := c.Run(context.Background(), Stop, true, func(p Progress) { seen = append(seen, p) })
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != Succeeded || res.Final == nil || res.Final.PowerState != Stopped {
		t.Errorf("result %+v", res)
	}
	if len(seen) < 2 || seen[0].ProvisioningState != "Stopping" {
		t.Errorf("progress %+v: want polled Stopping states", seen)
	}
}

func TestStartWithoutWaitIsAccepted(t *testing.T) {
	a := &akstest.Cluster{Power: Stopped, Provisioning: "Succeeded", Steps: 2}
	c := newTestClient(t, a, nil)
	res, err := c.Run(context.Background(), Start, false, func(Progress) { t.Error("progress without wait") })
	if err != nil || res.Outcome != Accepted {
		t.Fatalf("result %+v, %v", res, err)
	}
}

func TestErrors(t *testing.T) {
	loggedOut := credFunc(func() error { return azidentity.NewCredentialUnavailableError("Azure CLI not found on path") })
	for name, tc := range map[string]struct {
		a      *akstest.Cluster
		action Action
		cred   azcore.TokenCredential
		want   []string
	}{
		"not logged in":        {&akstest.Cluster{Power: Running, Provisioning: "Succeeded"}, Stop, loggedOut, []string{"not logged in to Azure", "az login"}},
		"read forbidden":       {&akstest.Cluster{GetErr: 403}, Stop, nil, []string{"no permission to read", "AuthorizationFailed"}},
		"stop forbidden":       {&akstest.Cluster{Power: Running, Provisioning: "Succeeded", BeginErr: 403, BeginCode: "AuthorizationFailed"}, Stop, nil, []string{"no permission to stop", "managedClusters/stop/action"}},
		"not found":            {&akstest.Cluster{GetErr: 404}, Start, nil, []string{"not found", "--resource-group"}},
		"start while stopping": {&akstest.Cluster{Power: Running, Provisioning: "Stopping"}, Start, nil, []string{"is stopping", "wait"}},
		"azure conflict":       {&akstest.Cluster{Power: Stopped, Provisioning: "Succeeded", BeginErr: 409, BeginCode: "OperationNotAllowed"}, Start, nil, []string{"cannot start now", "OperationNotAllowed"}},
		"already stopped":      {&akstest.Cluster{Power: Stopped, Provisioning: "Succeeded"}, Stop, nil, []string{"already stopped"}},
		"not on scale sets":    {&akstest.Cluster{Power: Running, Provisioning: "Succeeded", PoolType: armcontainerservice.AgentPoolTypeAvailabilitySet}, Stop, nil, []string{"cannot be stopped", "virtual machine scale sets"}},
		"poll error":           {&akstest.Cluster{Power: Running, Provisioning: "Succeeded", Steps: 1, PollErr: errors.New("connection reset by peer")}, Stop, nil, []string{"failed while running", "connection reset"}},
		"fails mid-poll":       {&akstest.Cluster{Power: Running, Provisioning: "Succeeded", Steps: 2, TerminalErr: 500}, Stop, nil, []string{"failed while running", "InternalOperationError"}},
	} {
		t.Run(name, func(t *testing.T) {
			c := newTestClient(t, tc.a, tc.cred)
			res, err := c.Run(context.Background(), tc.action, true, nil)
			if err == nil {
				t.Fatalf("no error; result %+v", res)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if res.Outcome != Failed || res.Error != err.Error() {
				t.Errorf("result %+v does not record the failure", res)
			}
		})
	}
}

type credFunc func() error

func (f credFunc) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{}, f()
}

func TestRefValidate(t *testing.T) {
	err := Ref{SubscriptionID: "s"}.Validate()
	if err == nil || !strings.Contains(err.Error(), "--resource-group") || !strings.Contains(err.Error(), "azure.aks.name") {
		t.Errorf("error %v", err)
	}
}
