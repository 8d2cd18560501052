package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func writeFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadMissingFileIsFine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nope", "config.yaml")
	cfg, err := Load(path)
	if err != nil {
		t.Fatalf("Load(missing) error: %v", err)
	}
	if cfg.Found || cfg.Path != path || cfg.Kubeconfig != "" || cfg.Context != "" || cfg.GitOps != "" {
		t.Fatalf("Load(missing) = %+v", cfg)
	}
}

func TestLoadValidFile(t *testing.T) {
	path := writeFile(t, "# idp settings\nkubeconfig: /k/config\ncontext: aks-dev\ngitops: https://git.example.com/platform.git\n")
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	want := Config{Kubeconfig: "/k/config", Context: "aks-dev", GitOps: "https://git.example.com/platform.git", Path: path, Found: true}
	if !reflect.DeepEqual(cfg, want) {
		t.Fatalf("got %+v\nwant %+v", cfg, want)
	}
}

func TestLoadEmptyFile(t *testing.T) {
	path := writeFile(t, "# nothing yet\n")
	cfg, err := Load(path)
	if err != nil || !cfg.Found {
		t.Fatalf("Load(empty) = %+v, %v", cfg, err)
	}
}

func TestLoadExpandsHome(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	cfg, err := Load(writeFile(t, "kubeconfig: ~/.kube/other\ngitops: ~/src/gitops\n"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Kubeconfig != filepath.Join(home, ".kube/other") || cfg.GitOps != filepath.Join(home, "src/gitops") {
		t.Fatalf("got %+v", cfg)
	}
}

func TestLoadErrorsNameFileAndLine(t *testing.T) {
	tests := []struct {
		name    string
		content string
		want    []string
	}{
		{
			name:    "malformed yaml",
			content: "context: dev\ngitops: x: y\n",
			want:    []string{"line 2: mapping values are not allowed"},
		},
		{
			name:    "duplicate key",
			content: "context: dev\ncontext: prod\n",
			want:    []string{"line 2", `"context" already defined`},
		},
		{
			name:    "unknown field",
			content: "context: dev\ngitops: x\ncolour: blue\n",
			want:    []string{"line 3: field colour not found in type config.Config", "valid keys: kubeconfig, context, gitops, templates, forge"},
		},
		{
			name:    "wrong type",
			content: "context:\n  - a\n  - b\n",
			want:    []string{"line 2", "cannot unmarshal"},
		},
		{
			name:    "not a mapping",
			content: "- a\n",
			want:    []string{"line 1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, tt.content)
			_, err := Load(path)
			if err == nil {
				t.Fatal("expected an error")
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "config "+path+": ") {
				t.Errorf("error %q does not start with the file name", msg)
			}
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not contain %q", msg, w)
				}
			}
			if strings.Contains(msg, "\n") {
				t.Errorf("error %q spans lines", msg)
			}
		})
	}
}

func TestLoadUnreadable(t *testing.T) {
	dir := t.TempDir() // a directory cannot be read as a file
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), dir) {
		t.Fatalf("Load(dir) error = %v", err)
	}
}

func TestDefaultPath(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", "/xdg")
	t.Setenv("HOME", "/home/u")
	got, err := DefaultPath()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(got, filepath.Join("idp", "config.yaml")) {
		t.Fatalf("DefaultPath() = %q", got)
	}
}

func TestMerge(t *testing.T) {
	file := Config{Kubeconfig: "/f", Context: "file", GitOps: "file-repo", Path: "/p", Found: true}
	got := file.Merge(Config{Context: "flag"})
	want := Config{Kubeconfig: "/f", Context: "flag", GitOps: "file-repo", Path: "/p", Found: true}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Merge = %+v, want %+v", got, want)
	}
}

func TestTemplatesAndForge(t *testing.T) {
	home, _ := os.UserHomeDir()
	cfg, err := Parse([]byte("templates: [~/golden, https://git.example.com/acme/templates.git]\nforge:\n  type: local\n  dir: ~/repos\n  url: http://git.local/\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{filepath.Join(home, "golden"), "https://git.example.com/acme/templates.git"}
	if !reflect.DeepEqual(cfg.Templates, want) || cfg.Forge != (Forge{Type: "local", Dir: filepath.Join(home, "repos"), URL: "http://git.local/"}) {
		t.Errorf("got %+v", cfg)
	}
	merged := cfg.Merge(Config{Templates: []string{"/flag"}, Forge: Forge{Type: "github", Owner: "acme"}})
	if !reflect.DeepEqual(merged.Templates, append(want, "/flag")) || merged.Forge.Type != "github" || cfg.Templates[len(cfg.Templates)-1] == "/flag" {
		t.Errorf("merged %+v (file config %+v)", merged, cfg)
	}
	if _, err := Parse([]byte("forge:\n  kind: github\n")); err == nil || !strings.Contains(err.Error(), "field kind not found") {
		t.Errorf("an unknown forge key was accepted: %v", err)
	}
}

// yaml.v3 names no line when the problem is on the first one; idp does.
func TestConfigErrorOnLineOne(t *testing.T) {
	for _, in := range []string{"\tgitops: x\n", "gitops: [\n", "- a\n", "gitops: x: y\n"} {
		if _, err := Parse([]byte(in)); err == nil || !strings.HasPrefix(err.Error(), "line 1: ") {
			t.Errorf("%q: %v, want an error on line 1", in, err)
		}
	}
}
