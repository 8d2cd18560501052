package gitops

import (
	"os"
	"testing"

	"github.com/back-stack/idp/internal/testworld"
)

// A repository deleted and made again empty under the same URL (a reset
// playground, a re-created forge repository) must not be mistaken for the
// old one through the cached clone's stale remote-tracking branch.
func TestRecreatedRemoteUnderSameURL(t *testing.T) {
	isolate(t)
	srv := testworld.StartGitServer(t)
	cache := t.TempDir()
	files := []FileChange{write("README.md", "hello\n")}

	srv.CreateRepo(t, "svc")
	r := openURL(t, srv, "svc", Options{CacheDir: cache})
	if _, err := r.Apply(ctxT(t), ChangeSet{Files: files, Message: "first"}); err != nil {
		t.Fatal(err)
	}
	r.Close()

	if err := os.RemoveAll(srv.RepoPath("svc")); err != nil {
		t.Fatal(err)
	}
	srv.CreateRepo(t, "svc")
	r = openURL(t, srv, "svc", Options{CacheDir: cache})
	res, err := r.Apply(ctxT(t), ChangeSet{Files: files, Message: "first again"})
	if err != nil {
		t.Fatalf("Apply on the re-created repository: %v", err)
	}
	dir := cloneCLI(t, srv, "svc")
	if got := testworld.Git(t, dir, "rev-parse", "HEAD"); got != res.Commit {
		t.Fatalf("remote HEAD = %s, want the new commit %s", got, res.Commit)
	}
	if n := testworld.Git(t, dir, "rev-list", "--count", "HEAD"); n != "1" {
		t.Fatalf("%s commits on the re-created repository, want 1", n)
	}
}
