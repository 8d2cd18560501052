package cli

import (
	"strings"
	"testing"
)

// Mistakes that need no repository are refused before anything is opened.
func TestNewRefusesBadArguments(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"new"}, "accepts 1 arg"},
		{[]string{"new", "go-service", "-o", "json"}, "-o json needs --yes or --dry-run"},
		{[]string{"new", "go-service", "--changes", "yolo", "--yes"}, `--changes is "yolo"`},
		{[]string{"new", "go-service", "--yes"}, "no GitOps repository"},
		{[]string{"--gitops", "/nowhere", "new", "go-service", "--yes"}, "no forge for new repositories"},
	} {
		code, _, errOut := run(t, tc.args...)
		if code == 0 || !strings.Contains(errOut, tc.want) {
			t.Errorf("idp %v: exit %d, %q; want %q", tc.args, code, errOut, tc.want)
		}
	}
}
