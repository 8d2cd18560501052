// Package config reads idp's own configuration file.
//
// The file is optional: a missing file yields the zero Config. A file that is
// present must be valid; unknown keys and wrong types are errors that name the
// file and the line, so a typo never silently falls back to a default.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Config holds the settings a user can keep in the file. Command-line flags
// override them (see Merge).
type Config struct {
	// Kubeconfig is a kubeconfig path; empty means kubectl's rules (KUBECONFIG, ~/.kube/config).
	Kubeconfig string `yaml:"kubeconfig"`
	// Context is the kubeconfig context; empty means the kubeconfig's current-context.
	Context string `yaml:"context"`
	// GitOps is the path or URL of the GitOps repository.
	GitOps string `yaml:"gitops"`

	// Path is the file the values were read from (or would have been).
	Path string `yaml:"-"`
	// Found reports whether the file at Path existed.
	Found bool `yaml:"-"`
}

// fieldNames lists the keys the file accepts, for error hints.
var fieldNames = []string{"kubeconfig", "context", "gitops"}

// DefaultPath is idp/config.yaml under the user's configuration directory
// ($XDG_CONFIG_HOME or ~/.config on Linux, ~/Library/Application Support on macOS).
func DefaultPath() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("locate config directory: %w", err)
	}
	return filepath.Join(dir, "idp", "config.yaml"), nil
}

// Load reads the file at path. A missing file is not an error: the result is
// the zero Config with Path set and Found false.
func Load(path string) (Config, error) {
	cfg := Config{Path: path}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return cfg, nil
	}
	if err != nil {
		return cfg, fmt.Errorf("config %s: %w", path, err)
	}
	cfg, err = Parse(data)
	cfg.Path, cfg.Found = path, true
	if err != nil {
		return cfg, fmt.Errorf("config %s: %w", path, err)
	}
	return cfg, nil
}

// Parse decodes the file's contents strictly. Errors carry "line N: ..." but
// no file name; Load adds it.
func Parse(data []byte) (Config, error) {
	var cfg Config
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	err := dec.Decode(&cfg)
	if errors.Is(err, io.EOF) { // empty file or only comments
		return Config{}, nil
	}
	if err != nil {
		return Config{}, yamlError(err)
	}
	cfg.Kubeconfig = expandHome(cfg.Kubeconfig)
	cfg.GitOps = expandHome(cfg.GitOps)
	return cfg, nil
}

// yamlError turns the decoder's multi-line messages into one line per problem,
// without the "yaml: " prefix, and hints at the valid keys.
func yamlError(err error) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return errors.New(strings.TrimPrefix(err.Error(), "yaml: "))
	}
	msg := strings.Join(te.Errors, "; ")
	if strings.Contains(msg, " not found in type ") {
		msg += " (valid keys: " + strings.Join(fieldNames, ", ") + ")"
	}
	return errors.New(msg)
}

// expandHome lets the file say ~/x as a shell would. URLs are left alone.
func expandHome(p string) string {
	if p != "~" && !strings.HasPrefix(p, "~/") {
		return p
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return p
	}
	return filepath.Join(home, strings.TrimPrefix(p, "~"))
}

// Merge returns c with every non-empty setting of over replacing c's.
// The command line passes its flags as over, so flags win over the file.
func (c Config) Merge(over Config) Config {
	if over.Kubeconfig != "" {
		c.Kubeconfig = over.Kubeconfig
	}
	if over.Context != "" {
		c.Context = over.Context
	}
	if over.GitOps != "" {
		c.GitOps = over.GitOps
	}
	return c
}
