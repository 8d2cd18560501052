package aks

import (
	"bytes"
	"fmt"
	"path"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// AuditDir is where power actions are recorded in the GitOps repository.
const AuditDir = ".idp/audit"

// Record is one power action as written to the GitOps repository: who did
// what to which cluster, when, and how it ended.
type Record struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Who        string `yaml:"who"`
	When       string `yaml:"when"`
	Action     Action `yaml:"action"`
	Cluster    Ref    `yaml:"cluster"`
	Outcome    string `yaml:"outcome"`
	Duration   string `yaml:"duration"`
	Error      string `yaml:"error,omitempty"`
	PowerState string `yaml:"powerState,omitempty"`
}

// NewRecord describes res as done by who (a "Name <email>" identity).
func NewRecord(res Result, who string) Record {
	r := Record{
		APIVersion: "idp.back-stack.io/v1alpha1",
		Kind:       "PowerAction",
		Who:        who,
		When:       res.Started.UTC().Format(time.RFC3339),
		Action:     res.Action,
		Cluster:    res.Cluster,
		Outcome:    res.Outcome,
		Duration:   res.Duration.String(),
		Error:      res.Error,
	}
	if res.Final != nil {
		r.PowerState = res.Final.PowerState
	}
	return r
}

// Path is the record's file in the GitOps repository: time first, so a
// listing of the folder reads as a log.
func (r Record) Path() string {
	stamp := strings.NewReplacer(":", "", "-", "").Replace(r.When)
	return path.Join(AuditDir, fmt.Sprintf("%s-%s-%s.yaml", stamp, r.Action, r.Cluster.Name))
}

// Message is the commit message for the record.
func (r Record) Message() string {
	return fmt.Sprintf("aks: %s %s (%s)\n\n%s asked to %s AKS cluster %s; outcome %s after %s.\n", r.Action, r.Cluster.Name, r.Outcome, r.Who, r.Action, r.Cluster, r.Outcome, r.Duration)
}

// YAML renders the record.
func (r Record) YAML() ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(r); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
