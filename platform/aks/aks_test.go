package aks

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	azfake "github.com/Azure/azure-sdk-for-go/sdk/azcore/fake"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/containerservice/armcontainerservice/v6"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/containerservice/armcontainerservice/v6/fake"
)

var ref = Ref{SubscriptionID: "00000000-0000-0000-0000-000000000001", ResourceGroup: "platform", Name: "platform-aks"}

// azure is the test's stand-in for the cluster behind the SDK's fake server:
// it answers Get from its state and moves through Stopping/Starting as the
// long-running operation is polled, as AKS does.
type azure struct {
	mu          sync.Mutex
	power, prov string
	poolType    armcontainerservice.AgentPoolType
	getErr      int    // HTTP status for Get, 0 for none
	beginErr    int    // HTTP status for Begin*, 0 for none
	beginCode   string // its error code
	steps       int    // non-terminal responses before the end
	terminalErr int    // HTTP status of a failed end, 0 for success
	pollsLeft   int
	inFlight    bool  // an operation this fake accepted is running
	pollErr     error // an error while polling, after the first response
}

func (a *azure) server() *fake.ManagedClustersServer {
	return &fake.ManagedClustersServer{
		Get: func(_ context.Context, rg, name string, _ *armcontainerservice.ManagedClustersClientGetOptions) (resp azfake.Responder[armcontainerservice.ManagedClustersClientGetResponse], errResp azfake.ErrorResponder) {
			a.mu.Lock()
			defer a.mu.Unlock()
			if a.getErr != 0 {
				errResp.SetResponseError(a.getErr, map[int]string{403: "AuthorizationFailed", 404: "ResourceNotFound"}[a.getErr])
				return
			}
			if a.pollsLeft > 0 {
				a.pollsLeft--
			} else if a.inFlight {
				a.inFlight = false
				a.power = map[string]string{"Stopping": Stopped, "Starting": Running}[a.prov]
				a.prov = "Succeeded"
			}
			resp.SetResponse(http.StatusOK, armcontainerservice.ManagedClustersClientGetResponse{ManagedCluster: a.cluster(rg, name)}, nil)
			return
		},
		BeginStop: func(context.Context, string, string, *armcontainerservice.ManagedClustersClientBeginStopOptions) (resp azfake.PollerResponder[armcontainerservice.ManagedClustersClientStopResponse], errResp azfake.ErrorResponder) {
			if a.begin("Stopping", &errResp) {
				return
			}
			for range max(a.steps, 1) { // AKS answers 202 Accepted first
				resp.AddNonTerminalResponse(http.StatusAccepted, nil)
			}
			if a.pollErr != nil {
				resp.AddPollingError(a.pollErr)
			}
			if a.terminalErr != 0 {
				resp.SetTerminalError(a.terminalErr, "InternalOperationError")
			} else {
				resp.SetTerminalResponse(http.StatusOK, armcontainerservice.ManagedClustersClientStopResponse{}, nil)
			}
			return
		},
		BeginStart: func(context.Context, string, string, *armcontainerservice.ManagedClustersClientBeginStartOptions) (resp azfake.PollerResponder[armcontainerservice.ManagedClustersClientStartResponse], errResp azfake.ErrorResponder) {
			if a.begin("Starting", &errResp) {
				return
			}
			for range max(a.steps, 1) { // AKS answers 202 Accepted first
				resp.AddNonTerminalResponse(http.StatusAccepted, nil)
			}
			resp.SetTerminalResponse(http.StatusOK, armcontainerservice.ManagedClustersClientStartResponse{}, nil)
			return
		},
	}
}

func (a *azure) begin(prov string, errResp *azfake.ErrorResponder) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.beginErr != 0 {
		errResp.SetResponseError(a.beginErr, a.beginCode)
		return true
	}
	a.prov, a.pollsLeft, a.inFlight = prov, a.steps, true
	return false
}

func (a *azure) cluster(rg, name string) armcontainerservice.ManagedCluster {
	code := armcontainerservice.Code(a.power)
	mode := armcontainerservice.AgentPoolModeSystem
	poolType := a.poolType
	if poolType == "" {
		poolType = armcontainerservice.AgentPoolTypeVirtualMachineScaleSets
	}
	return armcontainerservice.ManagedCluster{
		Name:     &name,
		Location: ptr("westeurope"),
		Properties: &armcontainerservice.ManagedClusterProperties{
			ProvisioningState:        ptr(a.prov),
			PowerState:               &armcontainerservice.PowerState{Code: &code},
			CurrentKubernetesVersion: ptr("1.33.2"),
			AgentPoolProfiles: []*armcontainerservice.ManagedClusterAgentPoolProfile{{
				Name: ptr("system"), Count: ptr[int32](3), VMSize: ptr("Standard_D4s_v5"), Mode: &mode, Type: &poolType,
				PowerState: &armcontainerservice.PowerState{Code: &code},
			}},
		},
	}
}

func ptr[T any](v T) *T { return &v }

func newTestClient(t *testing.T, a *azure, cred azcore.TokenCredential) *Client {
	t.Helper()
	if cred == nil {
		cred = &azfake.TokenCredential{}
	}
	c, err := NewClient(ref, cred, &arm.ClientOptions{ClientOptions: azcore.ClientOptions{Transport: fake.NewManagedClustersServerTransport(a.server())}})
	if err != nil {
		t.Fatal(err)
	}
	c.PollEvery = time.Millisecond
	return c
}

func TestStatus(t *testing.T) {
	c := newTestClient(t, &azure{power: Running, prov: "Succeeded"}, nil)
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
	a := &azure{power: Running, prov: "Succeeded", steps: 3}
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
	a := &azure{power: Stopped, prov: "Succeeded", steps: 2}
	c := newTestClient(t, a, nil)
	res, err := c.Run(context.Background(), Start, false, func(Progress) { t.Error("progress without wait") })
	if err != nil || res.Outcome != Accepted {
		t.Fatalf("result %+v, %v", res, err)
	}
}

func TestErrors(t *testing.T) {
	loggedOut := credFunc(func() error { return azidentity.NewCredentialUnavailableError("Azure CLI not found on path") })
	for name, tc := range map[string]struct {
		a      *azure
		action Action
		cred   azcore.TokenCredential
		want   []string
	}{
		"not logged in":        {&azure{power: Running, prov: "Succeeded"}, Stop, loggedOut, []string{"not logged in to Azure", "az login"}},
		"read forbidden":       {&azure{getErr: 403}, Stop, nil, []string{"no permission to read", "AuthorizationFailed"}},
		"stop forbidden":       {&azure{power: Running, prov: "Succeeded", beginErr: 403, beginCode: "AuthorizationFailed"}, Stop, nil, []string{"no permission to stop", "managedClusters/stop/action"}},
		"not found":            {&azure{getErr: 404}, Start, nil, []string{"not found", "--resource-group"}},
		"start while stopping": {&azure{power: Running, prov: "Stopping"}, Start, nil, []string{"is stopping", "wait"}},
		"azure conflict":       {&azure{power: Stopped, prov: "Succeeded", beginErr: 409, beginCode: "OperationNotAllowed"}, Start, nil, []string{"cannot start now", "OperationNotAllowed"}},
		"already stopped":      {&azure{power: Stopped, prov: "Succeeded"}, Stop, nil, []string{"already stopped"}},
		"not on scale sets":    {&azure{power: Running, prov: "Succeeded", poolType: armcontainerservice.AgentPoolTypeAvailabilitySet}, Stop, nil, []string{"cannot be stopped", "virtual machine scale sets"}},
		"poll error":           {&azure{power: Running, prov: "Succeeded", steps: 1, pollErr: errors.New("connection reset by peer")}, Stop, nil, []string{"failed while running", "connection reset"}},
		"fails mid-poll":       {&azure{power: Running, prov: "Succeeded", steps: 2, terminalErr: 500}, Stop, nil, []string{"failed while running", "InternalOperationError"}},
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
