package bootstrap

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"time"
)

// CheckpointVersion is the format of the checkpoint file.
const CheckpointVersion = 1

// Checkpoint is what a bootstrap run remembers between runs: which steps are
// done and what later steps need from earlier ones. It lives in the user's
// state directory, never in Git, and holds no secret: kubeconfigs are files
// of their own next to it (mode 0600), and the Azure credentials are asked
// for again when a step still needs them.
type Checkpoint struct {
	Version  int       `json:"version"`
	Platform string    `json:"platform"`
	Started  time.Time `json:"started"`
	Updated  time.Time `json:"updated"`
	// Finished is set when the last step is done.
	Finished time.Time `json:"finished,omitzero"`

	Steps []StepRecord `json:"steps,omitempty"`

	// Seed is how to reach the seed cluster.
	Seed ClusterRecord `json:"seed,omitzero"`
	// SeedKind is "kind" or "existing" (see Seed.Kind).
	SeedKind string `json:"seedKind,omitempty"`
	// AKS is how to reach the AKS cluster: a kubeconfig written from the
	// AKS connection secret.
	AKS ClusterRecord `json:"aks,omitzero"`

	// Releases are the Helm releases idp installed or upgraded.
	Releases []ReleaseRecord `json:"releases,omitempty"`
	// SeedObjects are the objects idp applied on the seed, so that
	// removing what idp installed on an existing seed removes exactly those.
	SeedObjects []ObjectRef `json:"seedObjects,omitempty"`
	// Adopted are the managed resources that moved from the seed to AKS,
	// with the external names they had on the seed.
	Adopted []AdoptedResource `json:"adopted,omitempty"`
}

// StepRecord is one step's outcome in the last run that reached it.
type StepRecord struct {
	ID       StepID        `json:"id"`
	Done     bool          `json:"done"`
	Started  time.Time     `json:"started,omitzero"`
	Ended    time.Time     `json:"ended,omitzero"`
	Duration time.Duration `json:"duration,omitempty"`
	// Skipped: the step's check found it done already.
	Skipped bool `json:"skipped,omitempty"`
	// Error is the last failure's message, cleared when the step is done.
	Error string `json:"error,omitempty"`
}

// ClusterRecord locates a cluster through a kubeconfig file.
type ClusterRecord struct {
	Kubeconfig string `json:"kubeconfig,omitempty"`
	Context    string `json:"context,omitempty"`
}

// ReleaseRecord is a Helm release idp installed.
type ReleaseRecord struct {
	Cluster   string `json:"cluster"` // "seed" or "aks"
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	Chart     string `json:"chart"`
	Version   string `json:"version,omitempty"`
	Revision  int    `json:"revision"`
	// Created: idp installed the release (revision 1 was its own), so
	// removing what idp installed uninstalls it.
	Created bool `json:"created"`
}

// ObjectRef names a Kubernetes object.
type ObjectRef struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Namespace  string `json:"namespace,omitempty"`
	Name       string `json:"name"`
}

func (r ObjectRef) String() string {
	if r.Namespace == "" {
		return r.Kind + "/" + r.Name
	}
	return r.Kind + " " + r.Namespace + "/" + r.Name
}

// AdoptedResource is a managed resource handed from the seed to AKS.
type AdoptedResource struct {
	ObjectRef
	// Composite is the XR that composes it.
	Composite    ObjectRef `json:"composite"`
	ExternalName string    `json:"externalName"`
}

// Step returns the record of id, or a zero record.
func (c *Checkpoint) Step(id StepID) StepRecord {
	for _, s := range c.Steps {
		if s.ID == id {
			return s
		}
	}
	return StepRecord{ID: id}
}

// Done reports whether step id finished in an earlier run.
func (c *Checkpoint) Done(id StepID) bool { return c.Step(id).Done }

func (c *Checkpoint) setStep(r StepRecord) {
	for i := range c.Steps {
		if c.Steps[i].ID == r.ID {
			c.Steps[i] = r
			return
		}
	}
	c.Steps = append(c.Steps, r)
}

func (c *Checkpoint) addSeedObject(r ObjectRef) {
	for _, o := range c.SeedObjects {
		if o == r {
			return
		}
	}
	c.SeedObjects = append(c.SeedObjects, r)
}

func (c *Checkpoint) setRelease(r ReleaseRecord) {
	for i, o := range c.Releases {
		if o.Cluster == r.Cluster && o.Namespace == r.Namespace && o.Name == r.Name {
			r.Created = r.Created || o.Created
			c.Releases[i] = r
			return
		}
	}
	c.Releases = append(c.Releases, r)
}

// ErrNoCheckpoint is returned by LoadCheckpoint when no run was recorded.
var ErrNoCheckpoint = errors.New("no bootstrap checkpoint")

var platformNameRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9._-]{0,61}[a-z0-9])?$`)

// StateDir is where idp keeps the bootstrap state: $XDG_STATE_HOME/idp/bootstrap,
// or ~/.local/state/idp/bootstrap.
func StateDir() (string, error) {
	base := os.Getenv("XDG_STATE_HOME")
	if base == "" || !filepath.IsAbs(base) {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("bootstrap: no state directory: %w", err)
		}
		base = filepath.Join(home, ".local", "state")
	}
	return filepath.Join(base, "idp", "bootstrap"), nil
}

// CheckpointPath is the checkpoint file of a platform, in dir (StateDir when empty).
func CheckpointPath(dir, platform string) (string, error) {
	if !platformNameRE.MatchString(platform) {
		return "", fmt.Errorf("bootstrap: platform name %q is not usable as a file name: use lowercase letters, digits, '-', '.' and '_'", platform)
	}
	if dir == "" {
		var err error
		if dir, err = StateDir(); err != nil {
			return "", err
		}
	}
	return filepath.Join(dir, platform+".json"), nil
}

// LoadCheckpoint reads a checkpoint file; ErrNoCheckpoint when there is none.
func LoadCheckpoint(path string) (*Checkpoint, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNoCheckpoint
	}
	if err != nil {
		return nil, err
	}
	var c Checkpoint
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("bootstrap: checkpoint %s is damaged (%v): move it away to start over", path, err)
	}
	if c.Version != CheckpointVersion {
		return nil, fmt.Errorf("bootstrap: checkpoint %s has format %d, this idp reads %d", path, c.Version, CheckpointVersion)
	}
	return &c, nil
}

// Save writes the checkpoint atomically: a temporary file in the same
// directory, synced, then renamed over the old one, so a crash leaves either
// the old or the new checkpoint and never half of one.
func (c *Checkpoint) Save(path string) error {
	c.Version = CheckpointVersion
	c.Updated = time.Now().UTC()
	data, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(path, append(data, '\n'), 0o600)
}

// writeFileAtomic replaces path with data; the directory is created 0700.
func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // a no-op once renamed
	if err := f.Chmod(mode); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync() // the rename itself survives a power cut; best effort where unsupported
		d.Close()
	}
	return nil
}
