package cli

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/back-stack/idp/gitops"
	"github.com/back-stack/idp/internal/testworld"
	"github.com/back-stack/idp/platform/aks/akstest"
)

// A change set committed but not pushed is listed, written out as a patch,
// pushed again and discarded through idp gitops, against the real git server.
func TestGitOpsPendingRetryPatchDiscard(t *testing.T) {
	url, srv := aksWorld(t, &akstest.Cluster{})
	ctx := context.Background()
	repo, err := gitops.Open(ctx, url, gitops.Options{})
	if err != nil {
		t.Fatal(err)
	}
	first, err := repo.Commit(ctx, gitops.ChangeSet{Message: "apps: add web", Files: []gitops.FileChange{{Path: "apps/web/application.yaml", Content: []byte("kind: Application\n")}}})
	if err != nil {
		t.Fatal(err)
	}
	repo.Close()
	cl := &akstest.Cluster{}
	gitopsCmd := func(args ...string) (int, string, string) {
		return runAKS(t, cl, append([]string{"--gitops", url, "gitops"}, args...)...)
	}

	code, out, errOut := gitopsCmd("pending", "-o", "json")
	var pending []pendingJSON
	if code != 0 || json.Unmarshal([]byte(out), &pending) != nil || len(pending) != 1 || pending[0].ID != first.ID {
		t.Fatalf("pending: code %d, %s %s", code, out, errOut)
	}
	if code, out, _ = gitopsCmd("patch", first.ID); code != 0 || !strings.Contains(out, "Subject: [PATCH] apps: add web") {
		t.Fatalf("patch: code %d\n%s", code, out)
	}
	if code, out, errOut = gitopsCmd("retry", first.ID); code != 0 || !strings.Contains(out, "pushed") {
		t.Fatalf("retry: code %d, %s %s", code, out, errOut)
	}
	if got := testworld.Git(t, "", "--git-dir", srv.RepoPath("gitops"), "log", "-1", "--format=%s"); got != "apps: add web" {
		t.Errorf("remote tip %q", got)
	}
	if code, out, _ = gitopsCmd("pending"); code != 0 || !strings.Contains(out, "nothing pending") {
		t.Errorf("pending after retry: %s", out)
	}

	repo, err = gitops.Open(ctx, url, gitops.Options{})
	if err != nil {
		t.Fatal(err)
	}
	second, err := repo.Commit(ctx, gitops.ChangeSet{Message: "apps: add api", Files: []gitops.FileChange{{Path: "apps/api/application.yaml", Content: []byte("kind: Application\n")}}})
	repo.Close()
	if err != nil {
		t.Fatal(err)
	}
	if code, _, errOut = gitopsCmd("discard", second.ID); code != 0 {
		t.Fatalf("discard: %s", errOut)
	}
	if code, out, _ = gitopsCmd("pending"); !strings.Contains(out, "nothing pending") {
		t.Errorf("pending after discard: %s", out)
	}
	if code, _, errOut = gitopsCmd("retry", "no-such-id"); code == 0 || errOut == "" {
		t.Errorf("retry of an unknown id: code %d", code)
	}
	if code, _, errOut = runAKS(t, cl, "gitops", "pending"); code == 0 || !strings.Contains(errOut, "pass --gitops") {
		t.Errorf("without a repository: code %d, %s", code, errOut)
	}
}
