package gitops

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/back-stack/idp/internal/testworld"
)

// pushCLI commits files with the git CLI on top of the server's main: the
// other writer that moves the branch under idp.
func pushCLI(t *testing.T, srv *testworld.GitServer, name string, files map[string]string, msg string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "other")
	testworld.Git(t, "", "clone", "--quiet", srv.AuthURL(name), dir)
	writeFiles(t, dir, files)
	testworld.Git(t, dir, "add", "-A")
	testworld.Git(t, dir, "commit", "--quiet", "-m", msg)
	testworld.Git(t, dir, "push", "--quiet", "origin", "HEAD:main")
	return testworld.Git(t, dir, "rev-parse", "HEAD")
}

// checkFastForwards reads the server's reflog of main: every update must
// have moved main from a commit to one of its children, which is what "no
// force push" means.
func checkFastForwards(t *testing.T, srv *testworld.GitServer, name string) int {
	t.Helper()
	repo := srv.RepoPath(name)
	log := testworld.Git(t, repo, "reflog", "show", "--format=%H", "refs/heads/main")
	hashes := strings.Fields(log)
	for i := 0; i+1 < len(hashes); i++ {
		newer, older := hashes[i], hashes[i+1]
		if parent := testworld.Git(t, repo, "rev-parse", newer+"^1"); parent != older {
			t.Fatalf("main moved from %s to %s, whose parent is %s: not a fast-forward", older, newer, parent)
		}
	}
	return len(hashes)
}

// The branch moved after idp committed: Push fetches, rebuilds the change
// set on the new tip and pushes it as a fast-forward; nothing is lost.
func TestPushRebuildsOnNewTip(t *testing.T) {
	isolate(t)
	srv := testworld.StartGitServer(t)
	base := seed(t, srv, "gitops", map[string]string{"apps/a.yaml": "a: 1\n", "apps/b.yaml": "b: 1\n"})
	r := openURL(t, srv, "gitops", Options{})
	c, err := r.Commit(ctxT(t), ChangeSet{Message: "idp change", Files: []FileChange{write("apps/a.yaml", "a: 2\n")}})
	if err != nil {
		t.Fatal(err)
	}
	if c.Parent != base {
		t.Fatalf("commit built on %s, want %s", c.Parent, base)
	}
	other := pushCLI(t, srv, "gitops", map[string]string{"apps/b.yaml": "b: 2\n"}, "other change")
	// With a single attempt allowed, the moved branch is an error and the
	// commit stays pending.
	one := openURL(t, srv, "gitops", Options{CacheDir: filepath.Dir(r.Dir()), MaxAttempts: 1})
	if _, err := one.PushPending(ctxT(t), c.ID); !errors.Is(err, ErrTooManyAttempts) {
		t.Fatalf("one attempt: %v, want ErrTooManyAttempts", err)
	}
	if p, _ := one.Pending(ctxT(t)); len(p) != 1 {
		t.Fatalf("%d pending after running out of attempts", len(p))
	}
	res, err := r.Push(ctxT(t), c)
	if err != nil {
		t.Fatalf("Push: %v", err)
	}
	if !res.Rebuilt || res.Attempts != 2 {
		t.Fatalf("result %+v, want a rebuild and two attempts", res)
	}
	dir := cloneCLI(t, srv, "gitops")
	if got := testworld.Git(t, dir, "log", "--format=%s|%P", "-1"); got != "idp change|"+other {
		t.Fatalf("head commit %q, want idp change on %s", got, other)
	}
	if a, b := readFile(t, filepath.Join(dir, "apps/a.yaml")), readFile(t, filepath.Join(dir, "apps/b.yaml")); a != "a: 2\n" || b != "b: 2\n" {
		t.Fatalf("a=%q b=%q", a, b)
	}
	checkFastForwards(t, srv, "gitops")
}

// The same path changed upstream: the push fails with a conflict naming
// it, the remote is untouched, and the change set survives as a pending
// commit that becomes a patch git am applies.
func TestConflictFailsClearlyAndKeepsChangeSet(t *testing.T) {
	isolate(t)
	srv := testworld.StartGitServer(t)
	base := seed(t, srv, "gitops", map[string]string{"apps/a.yaml": "a: 1\n", "apps/c.yaml": "c: 1\n"})
	r := openURL(t, srv, "gitops", Options{})
	c, err := r.Commit(ctxT(t), ChangeSet{Message: "Scale a\n\nMore replicas.", Files: []FileChange{
		write("apps/a.yaml", "a: 2\n"), write("apps/new.yaml", "new: 1\n"), write("apps/c.yaml", "c: 2\n")}})
	if err != nil {
		t.Fatal(err)
	}
	other := pushCLI(t, srv, "gitops", map[string]string{"apps/a.yaml": "a: 3\n", "apps/c.yaml": "c: 3\n"}, "other")
	_, err = r.Push(ctxT(t), c)
	var ce *ConflictError
	if !errors.As(err, &ce) {
		t.Fatalf("err %v, want a ConflictError", err)
	}
	if strings.Join(ce.Paths, ",") != "apps/a.yaml,apps/c.yaml" || ce.Tip != other || ce.Pending != c.ID {
		t.Fatalf("conflict %+v", ce)
	}
	for _, want := range []string{"apps/a.yaml", "apps/c.yaml", c.ID, "nothing was pushed"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message %q lacks %q", err, want)
		}
	}
	if got := testworld.Git(t, srv.RepoPath("gitops"), "rev-parse", "main"); got != other {
		t.Fatalf("remote main %s, want it untouched at %s", got, other)
	}
	pending, err := r.Pending(ctxT(t))
	if err != nil || len(pending) != 1 || pending[0].ID != c.ID {
		t.Fatalf("pending %v %v", pending, err)
	}
	if strings.Join(pending[0].Paths, ",") != "apps/a.yaml,apps/c.yaml,apps/new.yaml" || pending[0].Parent != base {
		t.Fatalf("pending commit %+v", pending[0])
	}
	var patch bytes.Buffer
	if err := r.WritePatch(ctxT(t), c.ID, &patch); err != nil {
		t.Fatal(err)
	}
	// git am applies the patch on the change set's base and reproduces
	// the very tree idp committed, with its message and author.
	dir := cloneCLI(t, srv, "gitops")
	testworld.Git(t, dir, "checkout", "--quiet", "-b", "replay", base)
	pf := filepath.Join(t.TempDir(), "change.patch")
	os.WriteFile(pf, patch.Bytes(), 0o644)
	testworld.Git(t, dir, "am", "--quiet", pf)
	pendingTree := testworld.Git(t, r.Dir(), "rev-parse", c.Hash+"^{tree}")
	if got := testworld.Git(t, dir, "rev-parse", "HEAD^{tree}"); got != pendingTree {
		t.Fatalf("git am made tree %s, idp's commit has %s\n%s", got, pendingTree, patch.String())
	}
	if got := testworld.Git(t, dir, "log", "-1", "--format=%an|%s|%b"); got != "Ada Ops|Scale a|More replicas." {
		t.Fatalf("replayed commit %q", got)
	}
	// The conflict resolved upstream (back to what the change set expects)
	// lets the very same pending commit go through.
	pushCLI(t, srv, "gitops", map[string]string{"apps/a.yaml": "a: 1\n", "apps/c.yaml": "c: 1\n"}, "revert other")
	res, err := r.PushPending(ctxT(t), c.ID)
	if err != nil {
		t.Fatalf("PushPending: %v", err)
	}
	check := cloneCLI(t, srv, "gitops")
	if got := readFile(t, filepath.Join(check, "apps/a.yaml")) + readFile(t, filepath.Join(check, "apps/new.yaml")); got != "a: 2\nnew: 1\n" {
		t.Fatalf("after retry: %q (result %+v)", got, res)
	}
	if p, _ := r.Pending(ctxT(t)); len(p) != 0 {
		t.Fatalf("%d pending after the retry", len(p))
	}
	checkFastForwards(t, srv, "gitops")
}

// Upstream made exactly the change set's change: nothing to push, and the
// pending commit is cleared.
func TestAlreadyAppliedUpstream(t *testing.T) {
	isolate(t)
	srv := testworld.StartGitServer(t)
	seed(t, srv, "gitops", map[string]string{"a.yaml": "a: 1\n"})
	r := openURL(t, srv, "gitops", Options{})
	c, err := r.Commit(ctxT(t), ChangeSet{Message: "set a", Files: []FileChange{write("a.yaml", "a: 2\n")}})
	if err != nil {
		t.Fatal(err)
	}
	other := pushCLI(t, srv, "gitops", map[string]string{"a.yaml": "a: 2\n"}, "same change")
	res, err := r.Push(ctxT(t), c)
	if err != nil {
		t.Fatal(err)
	}
	if !res.AlreadyApplied || res.Commit != other {
		t.Fatalf("result %+v", res)
	}
	if got := testworld.Git(t, srv.RepoPath("gitops"), "rev-parse", "main"); got != other {
		t.Fatalf("remote moved to %s", got)
	}
	if p, _ := r.Pending(ctxT(t)); len(p) != 0 {
		t.Fatalf("%d pending", len(p))
	}
}

// Preview's diff is the change Apply makes: git apply of the preview on its
// base gives the tree of the commit. A preview that went stale (the path
// changed upstream) makes Apply fail with a conflict and commit nothing.
func TestPreviewMatchesCommitAndGuardsBase(t *testing.T) {
	isolate(t)
	srv := testworld.StartGitServer(t)
	seed(t, srv, "gitops", map[string]string{"apps/a.yaml": "a: 1\nb: 2\nc: 3\n", "old.txt": "old\n"})
	r := openURL(t, srv, "gitops", Options{})
	cs := ChangeSet{Message: "preview me", Files: []FileChange{
		write("apps/a.yaml", "a: 1\nb: 20\nc: 3\n"), {Path: "old.txt", Delete: true},
		write("apps/new/app.yaml", "new\n"), {Path: "run.sh", Content: []byte("#!/bin/sh\n"), Mode: 0o755}}}
	p, err := r.Preview(ctxT(t), cs)
	if err != nil {
		t.Fatal(err)
	}
	wantChanges := "modify apps/a.yaml|add apps/new/app.yaml|delete old.txt|add run.sh"
	var got []string
	for _, c := range p.Changes {
		got = append(got, c.Action+" "+c.Path)
	}
	if strings.Join(got, "|") != wantChanges {
		t.Fatalf("changes %v, want %s", got, wantChanges)
	}
	if !strings.Contains(p.Diff, "-b: 2\n+b: 20\n") {
		t.Fatalf("diff lacks the change:\n%s", p.Diff)
	}
	dir := cloneCLI(t, srv, "gitops")
	testworld.Git(t, dir, "checkout", "--quiet", p.Base)
	pf := filepath.Join(t.TempDir(), "p.diff")
	os.WriteFile(pf, []byte(p.Diff), 0o644)
	testworld.Git(t, dir, "apply", "--index", pf)
	previewTree := testworld.Git(t, dir, "write-tree")

	cs.Base = p.Base
	res, err := r.Apply(ctxT(t), cs)
	if err != nil {
		t.Fatal(err)
	}
	if got := testworld.Git(t, srv.RepoPath("gitops"), "rev-parse", res.Commit+"^{tree}"); got != previewTree {
		t.Fatalf("commit tree %s, preview applied gives %s", got, previewTree)
	}

	// A stale preview.
	p2, err := r.Preview(ctxT(t), ChangeSet{Message: "x", Files: []FileChange{write("apps/a.yaml", "mine\n")}})
	if err != nil {
		t.Fatal(err)
	}
	other := pushCLI(t, srv, "gitops", map[string]string{"apps/a.yaml": "theirs\n"}, "other")
	_, err = r.Apply(ctxT(t), ChangeSet{Message: "x", Base: p2.Base, Files: []FileChange{write("apps/a.yaml", "mine\n")}})
	var ce *ConflictError
	if !errors.As(err, &ce) || ce.Pending != "" || !strings.Contains(err.Error(), "nothing was committed") {
		t.Fatalf("err %v, want a conflict with nothing committed", err)
	}
	if got := testworld.Git(t, srv.RepoPath("gitops"), "rev-parse", "main"); got != other {
		t.Fatalf("remote moved")
	}
	if pend, _ := r.Pending(ctxT(t)); len(pend) != 0 {
		t.Fatalf("%d pending", len(pend))
	}
}

// A push the server refuses for its own reasons (a hook, a protected
// branch) is not retried: it fails with the server's reason and the commit
// stays pending.
func TestServerRejection(t *testing.T) {
	isolate(t)
	srv := testworld.StartGitServer(t)
	base := seed(t, srv, "gitops", map[string]string{"a.yaml": "a\n"})
	hook := filepath.Join(srv.RepoPath("gitops"), "hooks", "pre-receive")
	os.WriteFile(hook, []byte("#!/bin/sh\necho 'main is protected: open a pull request' >&2\nexit 1\n"), 0o755)
	r := openURL(t, srv, "gitops", Options{})
	res, err := r.Apply(ctxT(t), ChangeSet{Message: "direct", Files: []FileChange{write("b.yaml", "b\n")}})
	var re *RejectedError
	if !errors.As(err, &re) || !strings.Contains(re.Reason, "hook declined") {
		t.Fatalf("err %v, want a RejectedError from the hook", err)
	}
	// The error itself carries the hook's own words, not only "declined".
	if !strings.Contains(err.Error(), "remote: main is protected: open a pull request") {
		t.Fatalf("the error does not repeat the server's message: %v", err)
	}
	if res.Attempts != 1 || !strings.Contains(strings.Join(res.RemoteMessages, "\n"), "main is protected") {
		t.Fatalf("result %+v, want one attempt and the server's message", res)
	}
	if got := testworld.Git(t, srv.RepoPath("gitops"), "rev-parse", "main"); got != base {
		t.Fatalf("remote moved")
	}
	if p, _ := r.Pending(ctxT(t)); len(p) != 1 {
		t.Fatalf("%d pending", len(p))
	}
}
