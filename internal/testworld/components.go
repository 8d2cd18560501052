package testworld

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// Component is a set of real programs the test world builds from one build
// module under tools/ (its go.mod pins exact versions, with the upstream
// project's replace directives), once per machine, into the user cache dir.
type Component struct {
	// Name and Version name the cache folder, with a hash of the build
	// module and the toolchain, so a change to either builds anew.
	Name, Version string
	// Module is the build module's folder under tools/.
	Module string
	// Toolchain is the GOTOOLCHAIN the module needs ("" builds with the
	// running toolchain); the go command fetches it through the module proxy.
	Toolchain string
	Programs  []Program
}

// Program is one executable of a component.
type Program struct {
	Name    string // file name in the cache folder
	Package string // import path to build, or "." for the module's own main
	LDFlags string
}

// Ensure returns the folder holding the component's programs, building them
// when they are not cached yet. Builds are serialized machine-wide (one big
// build at a time on a shared machine), and each component under its own lock,
// so concurrent test processes build it once. Progress goes to log.
func (c Component) Ensure(ctx context.Context, log io.Writer) (string, error) {
	mod := filepath.Join(RepoRoot(), "tools", c.Module)
	key, err := c.key(mod)
	if err != nil {
		return "", err
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("testworld: no user cache dir: %w", err)
	}
	root := filepath.Join(cache, "idp", "testworld")
	dir := filepath.Join(root, fmt.Sprintf("%s-%s-%s", c.Name, c.Version, key))
	if c.built(dir) {
		return dir, nil
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return "", err
	}
	unlock, err := LockFile(dir + ".lock")
	if err != nil {
		return "", err
	}
	defer unlock()
	if c.built(dir) { // built by another process while we waited
		return dir, nil
	}
	fmt.Fprintf(log, "testworld: %s %s needs a build; waiting for any other test-world build to finish first\n", c.Name, c.Version)
	unlockAll, err := LockFile(filepath.Join(root, "build.lock"))
	if err != nil {
		return "", err
	}
	defer unlockAll()
	return dir, c.build(ctx, mod, dir, log)
}

func (c Component) built(dir string) bool {
	for _, p := range c.Programs {
		if !IsExecutable(filepath.Join(dir, p.Name)) {
			return false
		}
	}
	return true
}

func (c Component) env() []string {
	env := append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
	if c.Toolchain != "" {
		env = append(env, "GOTOOLCHAIN="+c.Toolchain)
	}
	return env
}

// build compiles into a temporary folder and renames it into place, so an
// interrupted build never leaves half a cache entry.
func (c Component) build(ctx context.Context, mod, dir string, log io.Writer) error {
	tmp, err := os.MkdirTemp(filepath.Dir(dir), ".build-"+c.Name+"-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	total := time.Now()
	for _, p := range c.Programs {
		fmt.Fprintf(log, "testworld: building %s %s (%s; cold: minutes, then cached in %s)\n", c.Name, c.Version, p.Name, dir)
		start := time.Now()
		args := []string{"build", "-buildvcs=false", "-ldflags", strings.TrimSpace("-s -w " + p.LDFlags), "-o", filepath.Join(tmp, p.Name), p.Package}
		cmd := exec.CommandContext(ctx, "go", args...)
		cmd.Dir = mod
		cmd.Env = c.env()
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		done := progress(log, c.Name+" "+p.Name, start)
		err := cmd.Run()
		close(done)
		if err != nil {
			return fmt.Errorf("testworld: building %s in %s: %w\n%s", p.Name, mod, err, out.String())
		}
		fmt.Fprintf(log, "testworld: built %s %s in %s\n", c.Name, p.Name, time.Since(start).Round(time.Second))
	}
	if err := os.Rename(tmp, dir); err != nil {
		return err
	}
	fmt.Fprintf(log, "testworld: %s %s ready in %s\n", c.Name, c.Version, time.Since(total).Round(time.Second))
	return nil
}

// key hashes what decides the programs: the build module's files, the
// programs' flags and the toolchain.
func (c Component) key(mod string) (string, error) {
	h := sha256.New()
	entries, err := os.ReadDir(mod)
	if err != nil {
		return "", fmt.Errorf("testworld: reading build module %s: %w", mod, err)
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		data, err := os.ReadFile(filepath.Join(mod, e.Name()))
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", e.Name(), len(data))
		h.Write(data)
	}
	for _, p := range c.Programs {
		fmt.Fprintf(h, "%s\x00%s\x00%s\x00", p.Name, p.Package, p.LDFlags)
	}
	if c.Toolchain != "" {
		h.Write([]byte(c.Toolchain))
	} else {
		h.Write([]byte(runtime.Version()))
	}
	return hex.EncodeToString(h.Sum(nil))[:12], nil
}

// Components are the real controllers the test world can run, in the order
// prepare builds them.
func Components() []Component {
	return []Component{ArgoCDComponent, KubeControllersComponent, KwokComponent}
}
