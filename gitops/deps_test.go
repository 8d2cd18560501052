package gitops

import (
	"os/exec"
	"strings"
	"testing"
)

// gitops is used by the TUI, never the other way round, and stays free of
// terminal-UI libraries.
func TestNoTUIDependencies(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/back-stack/idp/gitops").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 {
		t.Fatalf("go list -deps gave %d packages: %s", len(deps), out)
	}
	for _, d := range deps {
		if strings.HasPrefix(d, "github.com/back-stack/idp/tui") || strings.HasPrefix(d, "charm.land/") || strings.HasPrefix(d, "github.com/charmbracelet/") {
			t.Errorf("gitops depends on %s", d)
		}
	}
}
