package gitops

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/back-stack/idp/internal/testworld"
)

// A pushed or discarded change set leaves no folder behind under
// refs/idp/pending (each commit used to leave an empty <id>/heads).
func TestPendingFoldersRemoved(t *testing.T) {
	isolate(t)
	srv := testworld.StartGitServer(t)
	seed(t, srv, "gitops", map[string]string{"a.yaml": "a\n"})
	repo := srv.RepoPath("gitops")
	r, err := Open(ctxT(t), repo, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := r.Apply(ctxT(t), ChangeSet{Message: "direct", Files: []FileChange{write("b.yaml", "b\n")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Apply(ctxT(t), ChangeSet{Message: "pr", PullRequest: true, Slug: "new-service-x", Files: []FileChange{write("c.yaml", "c\n")}}); err != nil {
		t.Fatal(err)
	}
	c, err := r.Commit(ctxT(t), ChangeSet{Message: "dropped", Files: []FileChange{write("d.yaml", "d\n")}})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Discard(ctxT(t), c.ID); err != nil {
		t.Fatal(err)
	}
	var left []string
	filepath.Walk(filepath.Join(repo, "refs", "idp", "pending"), func(p string, _ os.FileInfo, err error) error {
		if err == nil && !strings.HasSuffix(p, filepath.Join("refs", "idp", "pending")) {
			left = append(left, p)
		}
		return nil
	})
	if len(left) > 0 {
		t.Fatalf("left under refs/idp/pending:\n%s", strings.Join(left, "\n"))
	}
}
