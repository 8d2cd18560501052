package e2e

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/back-stack/idp/internal/testworld"
)

// The New service screen on the real binary, in a terminal: pick a
// template, answer the form, read the preview, create; git sees both
// commits.
func TestNewServiceScreen(t *testing.T) {
	srv, cfg, environ := newWorld(t, "direct")
	var extra []string
	for _, kv := range environ {
		for _, k := range []string{"IDP_GIT_", "GIT_AUTHOR_", "GIT_COMMITTER_"} {
			if len(kv) > len(k) && kv[:len(k)] == k {
				extra = append(extra, kv)
			}
		}
	}
	term := testworld.StartTerminal(t, testworld.TerminalOptions{Env: env(t, extra...)}, testworld.IdpBinary(t), "--config", cfg)
	term.WaitFor("New service", wait)
	fillGoService(t, term, "orders-api", false)
	term.WaitFor("GitOps change", wait)
	term.SendKeys("Enter")
	term.WaitFor("Created orders-api", wait)
	term.SendKeys("Enter")
	term.WaitFor("Environment", wait)
	term.SendKeys("q")
	if code := term.WaitExit(wait); code != 0 {
		t.Errorf("idp exited with %d", code)
	}
	clone := filepath.Join(t.TempDir(), "g")
	testworld.Git(t, "", "clone", "--quiet", srv.AuthURL("gitops"), clone)
	if _, err := os.Stat(filepath.Join(clone, "apps", "orders-api", "application.yaml")); err != nil {
		t.Error("the GitOps repository lacks apps/orders-api/application.yaml")
	}
	testworld.Git(t, "", "clone", "--quiet", srv.AuthURL("orders-api"), filepath.Join(t.TempDir(), "s"))
}

// fillGoService opens New service from the home screen (its first entry)
// and answers the go-service form: the name, every default, and whether it
// gets a database (at its default size and version).
func fillGoService(t *testing.T, term *testworld.Terminal, name string, database bool) {
	t.Helper()
	term.SendKeys("Enter")
	term.WaitFor("Choose a golden path", wait)
	term.SendKeys("Enter") // go-service
	term.WaitFor("Name *", wait)
	term.SendKeys(name, "Enter", "Enter", "Enter", "Enter")
	term.WaitFor("Replicas", wait)
	term.SendKeys("Enter", "Enter", "Enter", "Enter", "Enter")
	term.WaitFor("PostgreSQL database", wait)
	if !database {
		term.SendKeys("n") // the form is done
		return
	}
	term.SendKeys("y")
	term.WaitFor("Database size", wait)
	term.SendKeys("Enter", "Enter")
}
