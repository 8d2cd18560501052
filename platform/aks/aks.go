// Package aks reads and changes the power state of the platform's AKS
// cluster through Azure Resource Manager (armcontainerservice/v6). Stopping
// AKS stops Argo CD and Crossplane with it, so this is the one platform action
// that cannot be declarative: idp calls Azure directly and records each action
// in Git (see Record).
package aks

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/containerservice/armcontainerservice/v6"
)

// Ref names one AKS cluster.
type Ref struct {
	SubscriptionID string `json:"subscriptionID" yaml:"subscriptionID"`
	ResourceGroup  string `json:"resourceGroup" yaml:"resourceGroup"`
	Name           string `json:"name" yaml:"name"`
}

func (r Ref) String() string {
	return fmt.Sprintf("%s in resource group %s (subscription %s)", r.Name, r.ResourceGroup, r.SubscriptionID)
}

// Validate says which part of the name is missing and where to give it.
func (r Ref) Validate() error {
	var missing []string
	for _, f := range []struct{ v, flag, key string }{
		{r.SubscriptionID, "--subscription", "azure.subscriptionID"},
		{r.ResourceGroup, "--resource-group", "azure.resourceGroup"},
		{r.Name, "--cluster", "azure.aks.name"},
	} {
		if f.v == "" {
			missing = append(missing, fmt.Sprintf("%s (or %s in .idp/platform.yaml)", f.flag, f.key))
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("which AKS cluster? missing %s", strings.Join(missing, ", "))
	}
	return nil
}

// Action is a power action.
type Action string

// The power actions.
const (
	Stop  Action = "stop"
	Start Action = "start"
)

// ParseAction accepts "stop" or "start".
func ParseAction(s string) (Action, error) {
	switch Action(s) {
	case Stop, Start:
		return Action(s), nil
	}
	return "", fmt.Errorf("unknown action %q: use stop or start", s)
}

// Power states as AKS reports them.
const (
	Running = "Running"
	Stopped = "Stopped"
)

// NodePool is one agent pool of a cluster.
type NodePool struct {
	Name       string `json:"name"`
	Mode       string `json:"mode"`
	Type       string `json:"type"`
	VMSize     string `json:"vmSize"`
	Count      int32  `json:"count"`
	MinCount   int32  `json:"minCount,omitempty"`
	MaxCount   int32  `json:"maxCount,omitempty"`
	PowerState string `json:"powerState"`
}

// Cluster is what idp shows of an AKS cluster.
type Cluster struct {
	Ref               Ref        `json:"cluster"`
	Location          string     `json:"location"`
	PowerState        string     `json:"powerState"`
	ProvisioningState string     `json:"provisioningState"`
	KubernetesVersion string     `json:"kubernetesVersion"`
	NodePools         []NodePool `json:"nodePools"`
}

// Busy reports whether an operation is under way on the cluster.
func (c Cluster) Busy() bool {
	return c.ProvisioningState != "" && c.ProvisioningState != "Succeeded" && c.ProvisioningState != "Failed" && c.ProvisioningState != "Canceled"
}

// Client talks to one cluster.
type Client struct {
	ref      Ref
	cred     azcore.TokenCredential
	clusters *armcontainerservice.ManagedClustersClient
	// PollEvery is the pause between polls of a running operation.
	PollEvery time.Duration
}

// DefaultCredential is azidentity's default chain: environment, workload
// identity, managed identity, Azure CLI (az login), Azure Developer CLI.
// idp stores nothing.
func DefaultCredential() (azcore.TokenCredential, error) {
	return azidentity.NewDefaultAzureCredential(nil)
}

// NewClient returns a client for ref; opts may carry a fake transport.
func NewClient(ref Ref, cred azcore.TokenCredential, opts *arm.ClientOptions) (*Client, error) {
	if err := ref.Validate(); err != nil {
		return nil, err
	}
	mc, err := armcontainerservice.NewManagedClustersClient(ref.SubscriptionID, cred, opts)
	if err != nil {
		return nil, err
	}
	return &Client{ref: ref, cred: cred, clusters: mc, PollEvery: 10 * time.Second}, nil
}

// Ref is the cluster this client talks to.
func (c *Client) Ref() Ref { return c.ref }

// Status reads the cluster's power and provisioning state and node pools.
func (c *Client) Status(ctx context.Context) (Cluster, error) {
	if err := c.checkLogin(ctx); err != nil {
		return Cluster{}, err
	}
	return c.get(ctx, "read")
}

func (c *Client) get(ctx context.Context, doing string) (Cluster, error) {
	resp, err := c.clusters.Get(ctx, c.ref.ResourceGroup, c.ref.Name, nil)
	if err != nil {
		return Cluster{}, explain(err, doing, c.ref)
	}
	return fromARM(c.ref, resp.ManagedCluster), nil
}

// checkLogin asks the credential for a token first, so "not logged in" is
// told apart from every other failure and says what to do.
func (c *Client) checkLogin(ctx context.Context) error {
	_, err := c.cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{"https://management.azure.com/.default"}})
	if err != nil {
		return fmt.Errorf("not logged in to Azure: run `az login` (or set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET, or run where a managed identity is available): %w", err)
	}
	return nil
}

func fromARM(ref Ref, mc armcontainerservice.ManagedCluster) Cluster {
	cl := Cluster{Ref: ref, Location: deref(mc.Location)}
	p := mc.Properties
	if p == nil {
		return cl
	}
	cl.ProvisioningState = deref(p.ProvisioningState)
	cl.KubernetesVersion = deref(p.CurrentKubernetesVersion)
	if cl.KubernetesVersion == "" {
		cl.KubernetesVersion = deref(p.KubernetesVersion)
	}
	if p.PowerState != nil && p.PowerState.Code != nil {
		cl.PowerState = string(*p.PowerState.Code)
	}
	for _, ap := range p.AgentPoolProfiles {
		if ap == nil {
			continue
		}
		np := NodePool{Name: deref(ap.Name), VMSize: deref(ap.VMSize), Count: deref(ap.Count), MinCount: deref(ap.MinCount), MaxCount: deref(ap.MaxCount)}
		if ap.Mode != nil {
			np.Mode = string(*ap.Mode)
		}
		if ap.Type != nil {
			np.Type = string(*ap.Type)
		}
		if ap.PowerState != nil && ap.PowerState.Code != nil {
			np.PowerState = string(*ap.PowerState.Code)
		}
		cl.NodePools = append(cl.NodePools, np)
	}
	return cl
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// explain turns an Azure failure into an error that says what to do.
func explain(err error, doing string, ref Ref) error {
	var re *azcore.ResponseError
	if !errors.As(err, &re) {
		return fmt.Errorf("%s AKS cluster %s: %w", doing, ref, err)
	}
	switch re.StatusCode {
	case http.StatusUnauthorized:
		return fmt.Errorf("Azure refused the login (401) to %s cluster %s: run `az login` again: %w", doing, ref.Name, err)
	case http.StatusForbidden:
		return fmt.Errorf("no permission to %s AKS cluster %s: you need Microsoft.ContainerService/managedClusters/%s (for example the Azure Kubernetes Service Contributor role on the resource group); ask an owner of the subscription (%s)", doing, ref, permission(doing), re.ErrorCode)
	case http.StatusNotFound:
		return fmt.Errorf("AKS cluster %s not found: check --subscription, --resource-group and --cluster (or azure: in .idp/platform.yaml) (%s)", ref, re.ErrorCode)
	case http.StatusConflict, http.StatusBadRequest:
		return fmt.Errorf("AKS cluster %s cannot %s now: %s: wait for the operation under way to finish (`idp aks status`) and try again", ref.Name, doing, re.ErrorCode)
	}
	return fmt.Errorf("%s AKS cluster %s: Azure answered %d %s", doing, ref, re.StatusCode, re.ErrorCode)
}

func permission(doing string) string {
	switch doing {
	case string(Stop), string(Start):
		return doing + "/action"
	}
	return "read"
}

// Precheck refuses an action the cluster's state rules out, before Azure is
// asked: AKS would refuse it too, with a less helpful message.
func Precheck(cl Cluster, action Action) error {
	if cl.Busy() {
		return fmt.Errorf("AKS cluster %s is %s: wait until `idp aks status` shows it Succeeded, then %s it", cl.Ref.Name, strings.ToLower(cl.ProvisioningState), action)
	}
	switch action {
	case Stop:
		if cl.PowerState == Stopped {
			return fmt.Errorf("AKS cluster %s is already stopped", cl.Ref.Name)
		}
		if i := slices.IndexFunc(cl.NodePools, func(np NodePool) bool {
			return np.Type != "" && np.Type != string(armcontainerservice.AgentPoolTypeVirtualMachineScaleSets)
		}); i >= 0 {
			return fmt.Errorf("AKS cluster %s cannot be stopped: node pool %s is of type %s; AKS stops only clusters whose pools are on virtual machine scale sets", cl.Ref.Name, cl.NodePools[i].Name, cl.NodePools[i].Type)
		}
	case Start:
		if cl.PowerState == Running {
			return fmt.Errorf("AKS cluster %s is already running", cl.Ref.Name)
		}
	}
	return nil
}
