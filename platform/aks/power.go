package aks

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
)

// Outcomes of a power action.
const (
	Succeeded = "succeeded"
	Failed    = "failed"
	Accepted  = "accepted" // Azure took the request; idp did not wait for the end
)

// Progress is a snapshot of a running power action.
type Progress struct {
	Action            Action
	Started           time.Time
	ProvisioningState string
	PowerState        string
}

// Result is how a power action ended.
type Result struct {
	Action   Action    `json:"action"`
	Cluster  Ref       `json:"cluster"`
	Started  time.Time `json:"started"`
	Duration Duration  `json:"duration"`
	Outcome  string    `json:"outcome"`
	Error    string    `json:"error,omitempty"`
	// Final is the cluster's state once the action ended, when it could be read.
	Final *Cluster `json:"final,omitempty"`
	// Asked is true once Azure was asked to act (whatever it answered):
	// such an action is recorded; one refused before that is not.
	Asked bool `json:"-"`
}

// Duration prints as "1m5s" in JSON and YAML.
type Duration time.Duration

func (d Duration) String() string { return time.Duration(d).Round(time.Second).String() }

// MarshalText writes the rounded duration.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// Run performs action on the cluster: it reads the cluster, refuses what its
// state rules out, asks Azure, and with wait polls the long-running operation
// until it ends, calling progress after each poll. It returns a Result also
// when the action failed (with the error), so the failure can be recorded.
// Cancelling ctx stops the waiting, not the operation in Azure.
func (c *Client) Run(ctx context.Context, action Action, wait bool, progress func(Progress)) (Result, error) {
	res := Result{Action: action, Cluster: c.ref, Started: time.Now().UTC()}
	fail := func(err error) (Result, error) {
		res.Outcome, res.Error = Failed, err.Error()
		res.Duration = Duration(time.Since(res.Started))
		return res, err
	}
	if err := c.checkLogin(ctx); err != nil {
		return fail(err)
	}
	cl, err := c.get(ctx, "read")
	if err != nil {
		return fail(err)
	}
	if err := Precheck(cl, action); err != nil {
		return fail(err)
	}
	res.Asked = true
	op, err := c.begin(ctx, action)
	if err != nil {
		return fail(explain(err, string(action), c.ref))
	}
	if !wait {
		res.Outcome = Accepted
		res.Duration = Duration(time.Since(res.Started))
		return res, nil
	}
	for !op.done() {
		if err := op.poll(ctx); err != nil {
			return fail(c.midway(ctx, action, err))
		}
		if progress != nil {
			p := Progress{Action: action, Started: res.Started}
			if now, err := c.get(ctx, "read"); err == nil {
				p.ProvisioningState, p.PowerState = now.ProvisioningState, now.PowerState
			}
			progress(p)
		}
		if op.done() {
			break
		}
		select {
		case <-ctx.Done():
			return fail(c.midway(ctx, action, ctx.Err()))
		case <-time.After(c.PollEvery):
		}
	}
	if err := op.result(ctx); err != nil {
		return fail(c.midway(ctx, action, err))
	}
	res.Outcome = Succeeded
	res.Duration = Duration(time.Since(res.Started))
	if final, err := c.get(ctx, "read"); err == nil {
		res.Final = &final
	}
	return res, nil
}

// midway explains a failure after Azure accepted the action.
func (c *Client) midway(ctx context.Context, action Action, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("stopped waiting for the %s of AKS cluster %s; the operation goes on in Azure: follow it with `idp aks status`", action, c.ref.Name)
	}
	return fmt.Errorf("the %s of AKS cluster %s failed while running: %w; check `idp aks status` and the cluster's activity log in the Azure portal, then retry", action, c.ref.Name, explain(err, string(action), c.ref))
}

// operation is a long-running operation of either action.
type operation struct {
	done   func() bool
	poll   func(context.Context) error
	result func(context.Context) error
}

func wrap[T any](p *runtime.Poller[T]) operation {
	return operation{
		done: p.Done,
		poll: func(ctx context.Context) error {
			_, err := p.Poll(ctx)
			return err
		},
		result: func(ctx context.Context) error {
			_, err := p.Result(ctx)
			return err
		},
	}
}

func (c *Client) begin(ctx context.Context, action Action) (operation, error) {
	switch action {
	case Stop:
		p, err := c.clusters.BeginStop(ctx, c.ref.ResourceGroup, c.ref.Name, nil)
		if err != nil {
			return operation{}, err
		}
		return wrap(p), nil
	case Start:
		p, err := c.clusters.BeginStart(ctx, c.ref.ResourceGroup, c.ref.Name, nil)
		if err != nil {
			return operation{}, err
		}
		return wrap(p), nil
	}
	return operation{}, errors.New("unknown action " + string(action))
}
