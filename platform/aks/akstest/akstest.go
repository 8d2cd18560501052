// Package akstest is a stand-in AKS cluster behind the Azure SDK's own fake
// server (armcontainerservice/v6/fake): it answers Get from its state and
// moves through Stopping/Starting as a long-running operation is polled, the
// way AKS does. Tests and the demo playground use it; the code paths a user
// runs against Azure never do.
package akstest

import (
	"context"
	"net/http"
	"strings"
	"sync"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	azfake "github.com/Azure/azure-sdk-for-go/sdk/azcore/fake"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/containerservice/armcontainerservice/v6"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/containerservice/armcontainerservice/v6/fake"
)

// Cluster is the stand-in's state. Set the exported fields before use, or
// through Update while it serves. An accepted operation shows as Stopping or
// Starting until a poll of it gets the final answer; then the power state
// flips (or, for a failed operation, the provisioning state is Failed).
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

	inFlight bool
}

// Update changes the state while the server runs.
func (c *Cluster) Update(f func(*Cluster)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f(c)
}

// ClientOptions route an ARM client to this stand-in.
func (c *Cluster) ClientOptions() *arm.ClientOptions {
	return &arm.ClientOptions{ClientOptions: azcore.ClientOptions{Transport: &watcher{c: c, next: fake.NewManagedClustersServerTransport(c.server())}}}
}

// watcher sees the polls of a long-running operation go by (GETs of the
// operation's URL, which ends in /stop or /start plus the fake's suffix) and
// ends the operation in the cluster's state when a poll gets the final answer.
type watcher struct {
	c    *Cluster
	next policy.Transporter
}

func (w *watcher) Do(req *http.Request) (*http.Response, error) {
	resp, err := w.next.Do(req)
	if err != nil || req.Method != http.MethodGet || !isOperation(req.URL.Path) {
		if err != nil && req.Method == http.MethodGet && isOperation(req.URL.Path) {
			w.c.end(false)
		}
		return resp, err
	}
	switch {
	case resp.StatusCode == http.StatusAccepted:
	case resp.StatusCode < 300:
		w.c.end(true)
	default:
		w.c.end(false)
	}
	return resp, err
}

func isOperation(path string) bool {
	return strings.Contains(path, "/stop") || strings.Contains(path, "/start")
}

func (c *Cluster) end(ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.inFlight {
		return
	}
	c.inFlight = false
	if !ok {
		c.Provisioning = "Failed"
		return
	}
	c.Power = map[string]string{"Stopping": "Stopped", "Starting": "Running"}[c.Provisioning]
	c.Provisioning = "Succeeded"
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

func (c *Cluster) begin(prov string, errResp *azfake.ErrorResponder) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.BeginErr != 0 {
		errResp.SetResponseError(c.BeginErr, c.BeginCode)
		return true
	}
	c.Provisioning, c.inFlight = prov, true
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
