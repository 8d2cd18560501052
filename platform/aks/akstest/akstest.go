// Package akstest is a stand-in AKS cluster behind the Azure SDK's own fake
// server (armcontainerservice/v6/fake): it answers Get from its state and
// moves through Stopping/Starting as a long-running operation is polled, the
// way AKS does. Tests and the demo playground use it; the code paths a user
// runs against Azure never do.
package akstest

import (
	"context"
	"net/http"
	"sync"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	azfake "github.com/Azure/azure-sdk-for-go/sdk/azcore/fake"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/containerservice/armcontainerservice/v6"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/containerservice/armcontainerservice/v6/fake"
)

// Cluster is the stand-in's state. Set the exported fields before use, or
// through Update while it serves.
type Cluster struct {
	mu sync.Mutex

	Power        string // "Running" or "Stopped"
	Provisioning string // "Succeeded", "Stopping", ...
	Location     string
	Version      string
	PoolType     armcontainerservice.AgentPoolType // default VirtualMachineScaleSets

	GetErr      int    // HTTP status every Get fails with; 0 for none
	BeginErr    int    // HTTP status Begin* fails with; 0 for none
	BeginCode   string // its error code
	Steps       int    // 202 responses before an operation ends (at least 1)
	TerminalErr int    // HTTP status a failed operation ends with; 0 for success
	PollErr     error  // an error while polling, after the first response

	pollsLeft int
	inFlight  bool
}

// Update changes the state while the server runs.
func (c *Cluster) Update(f func(*Cluster)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f(c)
}

// ClientOptions route an ARM client to this stand-in.
func (c *Cluster) ClientOptions() *arm.ClientOptions {
	return &arm.ClientOptions{ClientOptions: azcore.ClientOptions{Transport: fake.NewManagedClustersServerTransport(c.server())}}
}

// Credential is a token credential the fake server accepts.
func Credential() azcore.TokenCredential { return &azfake.TokenCredential{} }

func (c *Cluster) server() *fake.ManagedClustersServer {
	return &fake.ManagedClustersServer{
		Get: func(_ context.Context, rg, name string, _ *armcontainerservice.ManagedClustersClientGetOptions) (resp azfake.Responder[armcontainerservice.ManagedClustersClientGetResponse], errResp azfake.ErrorResponder) {
			c.mu.Lock()
			defer c.mu.Unlock()
			if c.GetErr != 0 {
				errResp.SetResponseError(c.GetErr, map[int]string{http.StatusForbidden: "AuthorizationFailed", http.StatusNotFound: "ResourceNotFound"}[c.GetErr])
				return
			}
			c.advance()
			resp.SetResponse(http.StatusOK, armcontainerservice.ManagedClustersClientGetResponse{ManagedCluster: c.cluster(name)}, nil)
			return
		},
		BeginStop: func(context.Context, string, string, *armcontainerservice.ManagedClustersClientBeginStopOptions) (resp azfake.PollerResponder[armcontainerservice.ManagedClustersClientStopResponse], errResp azfake.ErrorResponder) {
			if c.begin("Stopping", &errResp) {
				return
			}
			c.respond(func(s int) { resp.AddNonTerminalResponse(s, nil) }, resp.AddPollingError, func() {
				resp.SetTerminalResponse(http.StatusOK, armcontainerservice.ManagedClustersClientStopResponse{}, nil)
			}, resp.SetTerminalError)
			return
		},
		BeginStart: func(context.Context, string, string, *armcontainerservice.ManagedClustersClientBeginStartOptions) (resp azfake.PollerResponder[armcontainerservice.ManagedClustersClientStartResponse], errResp azfake.ErrorResponder) {
			if c.begin("Starting", &errResp) {
				return
			}
			c.respond(func(s int) { resp.AddNonTerminalResponse(s, nil) }, resp.AddPollingError, func() {
				resp.SetTerminalResponse(http.StatusOK, armcontainerservice.ManagedClustersClientStartResponse{}, nil)
			}, resp.SetTerminalError)
			return
		},
	}
}

// advance moves an accepted operation on by one read; it ends (the power
// state flips) once its steps are used up, unless it is to fail.
func (c *Cluster) advance() {
	if !c.inFlight {
		return
	}
	if c.pollsLeft > 0 {
		c.pollsLeft--
		return
	}
	c.inFlight = false
	if c.TerminalErr != 0 || c.PollErr != nil {
		c.Provisioning = "Failed"
		return
	}
	c.Power = map[string]string{"Stopping": "Stopped", "Starting": "Running"}[c.Provisioning]
	c.Provisioning = "Succeeded"
}

func (c *Cluster) begin(prov string, errResp *azfake.ErrorResponder) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.BeginErr != 0 {
		errResp.SetResponseError(c.BeginErr, c.BeginCode)
		return true
	}
	c.Provisioning, c.pollsLeft, c.inFlight = prov, c.Steps, true
	return false
}

func (c *Cluster) respond(accepted func(int), pollErr func(error), ok func(), failed func(int, string)) {
	c.mu.Lock()
	steps, perr, terr := max(c.Steps, 1), c.PollErr, c.TerminalErr
	c.mu.Unlock()
	for range steps { // AKS answers 202 Accepted first
		accepted(http.StatusAccepted)
	}
	if perr != nil {
		pollErr(perr)
	}
	if terr != 0 {
		failed(terr, "InternalOperationError")
	} else {
		ok()
	}
}

func (c *Cluster) cluster(name string) armcontainerservice.ManagedCluster {
	code := armcontainerservice.Code(c.Power)
	mode := armcontainerservice.AgentPoolModeSystem
	poolType := c.PoolType
	if poolType == "" {
		poolType = armcontainerservice.AgentPoolTypeVirtualMachineScaleSets
	}
	loc, version := c.Location, c.Version
	if loc == "" {
		loc = "westeurope"
	}
	if version == "" {
		version = "1.33.2"
	}
	return armcontainerservice.ManagedCluster{
		Name:     &name,
		Location: &loc,
		Properties: &armcontainerservice.ManagedClusterProperties{
			ProvisioningState:        ptr(c.Provisioning),
			PowerState:               &armcontainerservice.PowerState{Code: &code},
			CurrentKubernetesVersion: &version,
			AgentPoolProfiles: []*armcontainerservice.ManagedClusterAgentPoolProfile{{
				Name: ptr("system"), Count: ptr[int32](3), VMSize: ptr("Standard_D4s_v5"), Mode: &mode, Type: &poolType,
				PowerState: &armcontainerservice.PowerState{Code: &code},
			}},
		},
	}
}

func ptr[T any](v T) *T { return &v }
