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
	// Templates are extra golden-path template sources (folders or Git
	// URLs); they add to the built-in ones, and replace those of the same name.
	Templates []string `yaml:"templates"`
	// Forge is where new service repositories are created.
	Forge Forge `yaml:"forge"`

	// Path is the file the values were read from (or would have been).
	Path string `yaml:"-"`
	// Found reports whether the file at Path existed.
	Found bool `yaml:"-"`
}

// Forge says where new service repositories go.
type Forge struct {
	// Type is "local" (bare repositories in Dir) or "github".
	Type string `yaml:"type"`
	// Dir is the local forge's folder of bare repositories (or a file:// URL).
	Dir string `yaml:"dir"`
	// URL is the base URL the local forge's folder is served at (a git
	// server); default file://Dir.
	URL string `yaml:"url"`
	// Owner is the GitHub organisation or user; default the token's user.
	Owner string `yaml:"owner"`
	// BaseURL is a GitHub Enterprise server's API URL; default github.com.
	BaseURL string `yaml:"baseURL"`
	// Public makes new repositories public; they are private by default.
	Public bool `yaml:"public"`
}

// fieldNames lists the keys the file accepts, for error hints.
var fieldNames = []string{"kubeconfig", "context", "gitops", "templates", "forge"}

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
	cfg.Forge.Dir = expandHome(cfg.Forge.Dir)
	for i, t := range cfg.Templates {
		cfg.Templates[i] = expandHome(t)
	}
	return cfg, nil
}

// yamlError turns the decoder's multi-line messages into one line per problem,
// without the "yaml: " prefix, and hints at the valid keys.
func yamlError(err error) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		if !strings.HasPrefix(msg, "line ") { // the parser names no line exactly when it is the first
			msg = "line 1: " + msg
		}
		return errors.New(msg)
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
	if len(over.Templates) > 0 { // --templates adds to the file's sources
		c.Templates = append(append([]string{}, c.Templates...), over.Templates...)
	}
	if over.Forge != (Forge{}) {
		c.Forge = over.Forge
	}
	return c
}
