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
	"strings"
	"time"
)

// BackstageInstall is the test world's Backstage backend installed from
// internal/testworld/backstage/package-lock.json.
type BackstageInstall struct {
	// Dir holds package.json, package-lock.json and node_modules.
	Dir string
	// Node is the node executable that installed it (the native better-sqlite3
	// addon is built for its ABI).
	Node string
}

// NodeModules is the folder Backstage's packages are in, for NODE_PATH and
// for tests that read files a package ships (create-app's example template,
// the scaffolder's JSON schema).
func (b BackstageInstall) NodeModules() string { return filepath.Join(b.Dir, "node_modules") }

// BackstageSourceDir is the project's folder holding the backend's
// package.json, package-lock.json, index.js and app-config.yaml.
func BackstageSourceDir() string {
	return filepath.Join(RepoRoot(), "internal", "testworld", "backstage")
}

// installedMarker is written last, so a folder without it is not an install.
const installedMarker = ".idp-installed"

// EnsureBackstage returns the Backstage backend's install, running `npm ci`
// into the user cache dir when it is not there yet (cold: about a quarter of
// an hour on a fresh machine, most of it downloading ~850 packages and
// compiling better-sqlite3). The folder is keyed by the lock file and the
// node version; concurrent callers wait on a file lock, so it installs once.
func EnsureBackstage(ctx context.Context, log io.Writer) (BackstageInstall, error) {
	node, err := exec.LookPath("node")
	if err != nil {
		return BackstageInstall{}, fmt.Errorf("testworld: the Backstage test world needs node (20 or later) and npm on PATH: %w", err)
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		return BackstageInstall{}, fmt.Errorf("testworld: the Backstage test world needs npm on PATH: %w", err)
	}
	nodeVersion, err := commandOutput(ctx, node, "--version")
	if err != nil {
		return BackstageInstall{}, fmt.Errorf("testworld: node --version: %w", err)
	}
	src := BackstageSourceDir()
	key, err := backstageKey(src, nodeVersion)
	if err != nil {
		return BackstageInstall{}, err
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return BackstageInstall{}, fmt.Errorf("testworld: no user cache dir: %w", err)
	}
	dir := filepath.Join(cache, "idp", "testworld", "backstage-"+key)
	inst := BackstageInstall{Dir: dir, Node: node}
	if fileExists(filepath.Join(dir, installedMarker)) {
		return inst, nil
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return BackstageInstall{}, err
	}
	unlock, err := LockFile(dir + ".lock")
	if err != nil {
		return BackstageInstall{}, err
	}
	defer unlock()
	if fileExists(filepath.Join(dir, installedMarker)) { // installed while we waited
		return inst, nil
	}
	if err := npmInstall(ctx, npm, src, dir, log); err != nil {
		return BackstageInstall{}, err
	}
	return inst, nil
}

// npmInstall runs `npm ci` in a temporary folder beside dir and renames it
// into place, so an interrupted install never leaves half a cache entry.
func npmInstall(ctx context.Context, npm, src, dir string, log io.Writer) error {
	tmp, err := os.MkdirTemp(filepath.Dir(dir), ".install-backstage-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	for _, f := range []string{"package.json", "package-lock.json"} {
		data, err := os.ReadFile(filepath.Join(src, f))
		if err != nil {
			return fmt.Errorf("testworld: %w", err)
		}
		if err := os.WriteFile(filepath.Join(tmp, f), data, 0o644); err != nil {
			return err
		}
	}
	fmt.Fprintf(log, "testworld: installing the Backstage backend with npm ci (cold: about 15 minutes, then cached in %s)\n", dir)
	start := time.Now()
	logPath := filepath.Join(filepath.Dir(dir), "backstage-npm-install.log")
	out, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer out.Close()
	cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund", "--loglevel=http")
	cmd.Dir = tmp
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Env = append(os.Environ(),
		// better-sqlite3's prebuilt binaries come from outside the npm
		// registry; build it from source with python3, make and g++.
		"npm_config_build_from_source=true",
		"npm_config_update_notifier=false",
	)
	if hdr := nodeHeaders(); hdr != "" {
		// node-gyp would download the headers it compiles against; the
		// node package installed them already.
		cmd.Env = append(cmd.Env, "npm_config_nodedir="+hdr)
	}
	done := progress(log, "the Backstage backend (npm ci)", start)
	err = cmd.Run()
	close(done)
	if err != nil {
		return fmt.Errorf("testworld: npm ci of the Backstage backend failed: %w (log: %s)\n%s", err, logPath, tail(logPath, 30))
	}
	if !fileExists(filepath.Join(tmp, "node_modules", "better-sqlite3", "build", "Release", "better_sqlite3.node")) {
		return fmt.Errorf("testworld: npm ci did not build better-sqlite3 (needs python3, make and g++; log: %s)\n%s", logPath, tail(logPath, 30))
	}
	if err := os.WriteFile(filepath.Join(tmp, installedMarker), []byte(time.Now().UTC().Format(time.RFC3339)+"\n"), 0o644); err != nil {
		return err
	}
	os.RemoveAll(dir) // a folder without the marker is a broken install
	if err := os.Rename(tmp, dir); err != nil {
		return err
	}
	fmt.Fprintf(log, "testworld: installed the Backstage backend in %s\n", time.Since(start).Round(time.Second))
	return nil
}

// nodeHeaders is the prefix whose include/node holds the running node's
// headers, when the distribution installed them.
func nodeHeaders() string {
	for _, prefix := range []string{"/usr", "/usr/local"} {
		if fileExists(filepath.Join(prefix, "include", "node", "node_version.h")) {
			return prefix
		}
	}
	return ""
}

// backstageKey hashes what decides the install: the package files and the
// node version (better-sqlite3 is a native addon).
func backstageKey(src, nodeVersion string) (string, error) {
	h := sha256.New()
	for _, f := range []string{"package.json", "package-lock.json"} {
		data, err := os.ReadFile(filepath.Join(src, f))
		if err != nil {
			return "", fmt.Errorf("testworld: reading the Backstage backend's %s: %w", f, err)
		}
		h.Write(data)
	}
	h.Write([]byte(nodeVersion))
	return hex.EncodeToString(h.Sum(nil))[:12], nil
}

func commandOutput(ctx context.Context, name string, args ...string) (string, error) {
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdout = &out
	if err := cmd.Run(); err != nil {
		return "", err
	}
	return strings.TrimSpace(out.String()), nil
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
