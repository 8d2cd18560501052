package bootstrap

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"

	"github.com/back-stack/idp/platform/kube"
)

// PreflightCheck is one thing step 1 checks before anything is created.
type PreflightCheck struct {
	Name  string
	Check func(ctx context.Context) error
	// Fix says what to do when the check fails.
	Fix string
}

// CommandCheck checks that a program is on PATH.
func CommandCheck(program, fix string) PreflightCheck {
	return PreflightCheck{
		Name: program + " is installed",
		Check: func(context.Context) error {
			_, err := exec.LookPath(program)
			return err
		},
		Fix: fix,
	}
}

// preflightError lists the checks that failed, with their fixes.
type preflightError struct{ failed []PreflightCheck }

func (e *preflightError) Error() string {
	names := make([]string, len(e.failed))
	for i, c := range e.failed {
		names[i] = c.Name
	}
	return "pre-flight checks failed: " + strings.Join(names, "; ")
}

func (p *Pipeline) preflightChecks() []PreflightCheck {
	checks := []PreflightCheck{p.seedPreflight()}
	if len(p.cfg.AzureCredentials) > 0 {
		checks = append(checks, PreflightCheck{
			Name:  "the Azure credentials are a service principal's JSON",
			Check: func(context.Context) error { return checkAzureCredentials(p.cfg.AzureCredentials) },
			Fix:   `Give a JSON file with clientId, clientSecret, tenantId and subscriptionId (what "az ad sp create-for-rbac --sdk-auth" prints).`,
		})
	}
	return append(checks, p.cfg.Preflight...)
}

func (p *Pipeline) seedPreflight() PreflightCheck {
	switch s := p.cfg.Seed.(type) {
	case KindSeed:
		return PreflightCheck{
			Name: "a container runtime for kind",
			Check: func(ctx context.Context) error {
				if _, err := s.provider(nil); err != nil {
					return err
				}
				return containerRuntimeAnswers(ctx)
			},
			Fix: "Start Docker (or Podman), or pass --seed-kubeconfig to use an existing cluster as the seed.",
		}
	case ExistingSeed:
		return PreflightCheck{
			Name: "the seed cluster answers",
			Check: func(ctx context.Context) error {
				if _, _, err := kube.Resolve(s.Kubeconfig, s.Context); err != nil {
					return err
				}
				_, err := s.Exists(ctx)
				return err
			},
			Fix: "Check --seed-kubeconfig and --seed-context, and that the cluster is running.",
		}
	}
	return PreflightCheck{Name: "seed: " + p.cfg.Seed.Describe(), Check: func(context.Context) error { return nil }}
}

// containerRuntimeAnswers checks that a runtime kind can use has a daemon
// that answers: kind only looks for the program.
func containerRuntimeAnswers(ctx context.Context) error {
	var errs []string
	for _, rt := range []string{"docker", "nerdctl", "podman"} {
		if _, err := exec.LookPath(rt); err != nil {
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		out, err := exec.CommandContext(cctx, rt, "info").CombinedOutput()
		cancel()
		if err == nil {
			return nil
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		errs = append(errs, fmt.Sprintf("%s info: %s", rt, lines[len(lines)-1]))
	}
	if len(errs) == 0 {
		return errors.New("no container runtime (docker, podman, nerdctl) found")
	}
	return errors.New(strings.Join(errs, "; "))
}

func checkAzureCredentials(data []byte) error {
	var sp map[string]any
	if err := json.Unmarshal(data, &sp); err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	var missing []string
	for _, k := range []string{"clientId", "clientSecret", "tenantId", "subscriptionId"} {
		if s, _ := sp[k].(string); s == "" {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("missing %s", strings.Join(missing, ", "))
	}
	return nil
}

func (p *Pipeline) preflightStep() Step {
	return Step{
		ID:    StepPreflight,
		Title: "Pre-flight checks",
		Wait:  p.wait(StepPreflight, "the pre-flight checks"),
		Run: func(ctx context.Context, out *StepOutput) error {
			var failed []PreflightCheck
			for _, c := range p.preflightChecks() {
				if err := c.Check(ctx); err != nil {
					if ctx.Err() != nil {
						return ctx.Err()
					}
					out.Logf("FAILED %s: %v", c.Name, err)
					failed = append(failed, c)
					continue
				}
				out.Logf("ok %s", c.Name)
			}
			if len(failed) > 0 {
				return &preflightError{failed: failed}
			}
			return nil
		},
		NextAction: func(err error) string {
			var pe *preflightError
			if !errors.As(err, &pe) {
				return ""
			}
			var fixes []string
			for _, c := range pe.failed {
				if c.Fix != "" {
					fixes = append(fixes, c.Fix)
				}
			}
			return strings.Join(fixes, " ") + " Then run the bootstrap again."
		},
	}
}

func (p *Pipeline) seedStep() Step {
	return Step{
		ID:    StepSeed,
		Title: "Seed cluster",
		Wait:  p.wait(StepSeed, "the seed cluster to answer"),
		Check: func(ctx context.Context) (bool, error) {
			st := p.state()
			if st.Seed.Kubeconfig == "" {
				return false, nil
			}
			return p.cfg.Seed.Exists(ctx)
		},
		Run: func(ctx context.Context, out *StepOutput) error {
			rec, err := p.cfg.Seed.Ensure(ctx, out)
			if err != nil {
				return err
			}
			st := p.state()
			st.Seed, st.SeedKind = rec, p.cfg.Seed.Kind()
			p.forgetClusters()
			c, err := p.seedCluster()
			if err != nil {
				return err
			}
			return c.reachable(ctx)
		},
		NextAction: func(err error) string {
			if _, ok := p.cfg.Seed.(KindSeed); ok {
				return "Check that Docker runs and has room for a kind cluster (`kind get clusters`), " + p.resumeSentence(2, "Seed cluster") + "."
			}
			return "Check that the seed cluster answers (`kubectl --kubeconfig ... get ns`), " + p.resumeSentence(2, "Seed cluster") + "."
		},
	}
}
