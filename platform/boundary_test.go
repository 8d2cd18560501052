// The boundary test checks the direction of dependencies: the domain
// (platform/, gitops/) must never depend on the TUI or on Charm libraries,
// so every action stays callable from plain commands and CI.

package platform

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

const module = "github.com/back-stack/idp"

// domainTrees are the package trees that must stay free of UI code.
var domainTrees = []string{"platform", "gitops"}

// gitleaksLipgloss is the one Charm package the domain may reach, and only
// through github.com/zricethezav/gitleaks/v8/detect.
const gitleaksLipgloss = "github.com/charmbracelet/lipgloss"

// forbidden reports why pkg may not be a dependency of the domain, or "".
func forbidden(pkg string) string {
	switch {
	case pkg == gitleaksLipgloss:
		// Reached only through gitleaks' detect package (the secret
		// scanner), which colours its own report with Lip Gloss v1; idp
		// never calls it, and it is not the charm.land v2 line the TUI uses.
		return ""
	case pkg == module+"/tui" || strings.HasPrefix(pkg, module+"/tui/"):
		return "the TUI"
	case pkg == module+"/cmd" || strings.HasPrefix(pkg, module+"/cmd/"):
		return "the command layer"
	case strings.HasPrefix(pkg, "charm.land/"):
		return "a Charm library"
	case strings.HasPrefix(pkg, "github.com/charmbracelet/"):
		return "a Charm library"
	}
	return ""
}

func TestForbidden(t *testing.T) {
	for pkg, bad := range map[string]bool{
		module + "/tui":                    true,
		module + "/tui/theme":              true,
		module + "/tuition":                false,
		module + "/cmd/idp/cli":            true,
		"charm.land/bubbletea/v2":          true,
		"github.com/charmbracelet/x/ansi":  true,
		gitleaksLipgloss:                   false,
		gitleaksLipgloss + "/v2":           true,
		"github.com/charmbracelet2/x":      false,
		module + "/platform/kube":          false,
		"k8s.io/client-go/tools/clientcmd": false,
		"go.yaml.in/yaml/v3":               false,
	} {
		if got := forbidden(pkg) != ""; got != bad {
			t.Errorf("forbidden(%q) = %v, want %v", pkg, got, bad)
		}
	}
}

func TestDomainDoesNotImportUI(t *testing.T) {
	root := moduleRoot(t)
	checked := 0
	for _, tree := range domainTrees {
		if _, err := os.Stat(filepath.Join(root, tree)); os.IsNotExist(err) {
			t.Logf("%s/ does not exist yet; skipped", tree)
			continue
		}
		// -test includes what the tree's tests import, too; -e keeps a
		// half-written package elsewhere from hiding the import graph.
		cmd := exec.Command(goTool(), "list", "-e", "-deps", "-test", "./"+tree+"/...")
		cmd.Dir = root
		out, err := cmd.Output()
		if err != nil {
			stderr := ""
			if ee, ok := err.(*exec.ExitError); ok {
				stderr = string(ee.Stderr)
			}
			t.Fatalf("go list %s: %v\n%s", tree, err, stderr)
		}
		for _, pkg := range strings.Fields(string(out)) {
			checked++
			// go list -test names test variants "p [p.test]"; Fields splits them off.
			if why := forbidden(pkg); why != "" {
				t.Errorf("%s/ depends on %s, which is %s; move the code or invert the dependency with an interface", tree, pkg, why)
			}
		}
	}
	if checked == 0 {
		t.Fatal("no packages checked")
	}
}

func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found")
		}
		dir = parent
	}
}

func goTool() string {
	if p := filepath.Join(runtime.GOROOT(), "bin", "go"); fileExists(p) {
		return p
	}
	return "go"
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// simulators are the demo's and the tests' stand-ins for Argo CD,
// Crossplane and the playground: tests of the domain may use them, the code
// a user runs against a real cluster never does.
var simulators = []string{module + "/internal/sim", module + "/internal/demo"}

func TestDomainDoesNotRunOnSimulators(t *testing.T) {
	root := moduleRoot(t)
	args := []string{"list", "-e", "-deps"}
	for _, tree := range domainTrees {
		args = append(args, "./"+tree+"/...")
	}
	cmd := exec.Command(goTool(), args...) // no -test: what ships
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	pkgs := strings.Fields(string(out))
	if len(pkgs) == 0 {
		t.Fatal("no packages listed")
	}
	for _, pkg := range pkgs {
		for _, s := range simulators {
			if pkg == s {
				t.Errorf("the domain depends on %s, a simulator; only tests and idp demo may", pkg)
			}
		}
	}
}
