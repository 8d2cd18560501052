package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/back-stack/idp/platform/config"
)

// run executes idp like main does, with buffers for stdout and stderr
// (so stdout is never a terminal).
func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestNoCommandWithoutTerminalPrintsHelp(t *testing.T) {
	code, out, errOut := run(t)
	if code != 0 || errOut != "" {
		t.Fatalf("code %d, stderr %q", code, errOut)
	}
	for _, want := range []string{"Usage:", "Examples:", "idp version -o json", "completion", "version", "--kubeconfig", "--context", "--gitops", "--config"} {
		if !strings.Contains(out, want) {
			t.Errorf("help lacks %q:\n%s", want, out)
		}
	}
}

func TestHelpFlag(t *testing.T) {
	code, out, _ := run(t, "--help")
	if code != 0 || !strings.Contains(out, "Examples:") {
		t.Fatalf("code %d, out:\n%s", code, out)
	}
}

func TestVersionText(t *testing.T) {
	code, out, _ := run(t, "version")
	if code != 0 || !strings.HasPrefix(out, "idp ") || !strings.Contains(out, "go:       go1.") || !strings.Contains(out, "platform: ") {
		t.Fatalf("code %d, out %q", code, out)
	}
}

func TestVersionJSON(t *testing.T) {
	for _, args := range [][]string{{"version", "-o", "json"}, {"version", "--output=json"}} {
		code, out, _ := run(t, args...)
		if code != 0 {
			t.Fatalf("%v: code %d", args, code)
		}
		var got map[string]string
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("%v: %v in %q", args, err, out)
		}
		for _, k := range []string{"version", "commit", "goVersion", "platform"} {
			if _, ok := got[k]; !ok {
				t.Errorf("%v: no %q in %v", args, k, got)
			}
		}
		if got["version"] == "" || !strings.HasPrefix(got["goVersion"], "go") {
			t.Errorf("%v: %v", args, got)
		}
	}
}

func TestErrorsPrintedOnce(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"version", "-o", "yaml"}, `Error: invalid output format "yaml" for -o/--output: valid values are text, json` + "\n"},
		{[]string{"nope"}, `Error: unknown command "nope" for "idp"` + "\n"},
		{[]string{"--nope"}, "Error: unknown flag: --nope\n"},
	}
	for _, tt := range tests {
		code, out, errOut := run(t, tt.args...)
		if code != 1 || errOut != tt.want || out != "" {
			t.Errorf("%v: code %d, stdout %q, stderr %q; want stderr %q", tt.args, code, out, errOut, tt.want)
		}
	}
}

func TestCompletion(t *testing.T) {
	for shell, marker := range map[string]string{"bash": "__start_idp", "zsh": "#compdef idp", "fish": "complete -c idp"} {
		code, out, errOut := run(t, "completion", shell)
		if code != 0 || !strings.Contains(out, marker) {
			t.Errorf("completion %s: code %d, stderr %q, has %q: %v", shell, code, errOut, marker, strings.Contains(out, marker))
		}
	}
	// The generated scripts call back into idp; -o completes its values.
	_, out, _ := run(t, cobra.ShellCompRequestCmd, "version", "-o", "")
	if !strings.Contains(out, "text\n") || !strings.Contains(out, "json\n") {
		t.Errorf("-o completion: %q", out)
	}
}

func TestContextCompletion(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	path := filepath.Join(t.TempDir(), "kubeconfig")
	kc := "apiVersion: v1\nkind: Config\ncontexts:\n- name: dev\n  context: {cluster: c}\n- name: prod\n  context: {cluster: c}\n"
	if err := os.WriteFile(path, []byte(kc), 0o600); err != nil {
		t.Fatal(err)
	}
	_, out, _ := run(t, cobra.ShellCompRequestCmd, "--kubeconfig", path, "--context", "")
	if !strings.HasPrefix(out, "dev\nprod\n") {
		t.Errorf("--context completion: %q", out)
	}
}

// parse runs flag parsing only and returns the merged configuration.
func parse(t *testing.T, args ...string) (config.Config, error) {
	t.Helper()
	g := &globals{}
	cmd := &cobra.Command{Use: "idp", RunE: func(*cobra.Command, []string) error { return nil }}
	g.register(cmd)
	if err := cmd.ParseFlags(args); err != nil {
		t.Fatal(err)
	}
	return g.config(cmd)
}

func writeConfig(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestFlagsOverrideConfig(t *testing.T) {
	path := writeConfig(t, "kubeconfig: /file/kubeconfig\ncontext: file-ctx\ngitops: /file/gitops\n")
	cfg, err := parse(t, "--config", path, "--context", "flag-ctx")
	if err != nil {
		t.Fatal(err)
	}
	want := config.Config{Kubeconfig: "/file/kubeconfig", Context: "flag-ctx", GitOps: "/file/gitops", Path: path, Found: true}
	if !reflect.DeepEqual(cfg, want) {
		t.Fatalf("got %+v\nwant %+v", cfg, want)
	}
}

func TestDefaultConfigMayBeMissing(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("HOME", t.TempDir())
	cfg, err := parse(t, "--gitops", "https://git.example.com/gitops.git")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Found || cfg.GitOps != "https://git.example.com/gitops.git" || !strings.HasSuffix(cfg.Path, filepath.Join("idp", "config.yaml")) {
		t.Fatalf("got %+v", cfg)
	}
}

func TestConfigErrors(t *testing.T) {
	path := writeConfig(t, "context: dev\n\ncolour: blue\n")
	if _, err := parse(t, "--config", path); err == nil || err.Error() != "config "+path+": line 3: field colour not found in type config.Config (valid keys: kubeconfig, context, gitops, templates, forge)" {
		t.Fatalf("err = %v", err)
	}
	missing := filepath.Join(t.TempDir(), "absent.yaml")
	if _, err := parse(t, "--config", missing); err == nil || !strings.Contains(err.Error(), missing) {
		t.Fatalf("explicit missing --config: err = %v", err)
	}
}
