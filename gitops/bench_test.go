package gitops

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/back-stack/idp/internal/testworld"
	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing/object"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
)

// The benchmark's repositories look like a GitOps repository:
// clusters/cNN/apps/svc-NNNNN/<kind>.yaml, ten files per service, a hundred
// services per cluster, history made of commits that add five files and
// change one. They are generated once with git fast-import and kept in the
// user cache dir (idp/bench); only `go test -bench` builds them.
var benchSizes = []struct{ files, commits int }{{1000, 200}, {10000, 2000}, {100000, 20000}}

var benchKinds = []string{"application", "kustomization", "deployment", "service", "ingress",
	"configmap", "hpa", "pdb", "networkpolicy", "serviceaccount"}

func benchPath(svc int, kind string) string {
	return fmt.Sprintf("clusters/c%02d/apps/svc-%05d/%s.yaml", svc/100, svc, kind)
}

func benchContent(svc int, kind string, version int) string {
	return fmt.Sprintf("apiVersion: idp.example.com/v1\nkind: %s\nmetadata:\n  name: svc-%05d\n  namespace: team-%02d\n"+
		"  labels:\n    app.kubernetes.io/name: svc-%05d\n    app.kubernetes.io/part-of: cluster-%02d\nspec:\n"+
		"  replicas: %d\n  image: registry.example.com/team-%02d/svc-%05d:1.%d.0\n",
		kind, svc, svc%50, svc, svc/100, 2+version%5, svc%50, svc, version)
}

// benchRepo returns the cached bare repository with files files and
// commits commits, generating it when it is missing.
func benchRepo(b *testing.B, files, commits int) string {
	b.Helper()
	base, err := os.UserCacheDir()
	if err != nil {
		b.Fatal(err)
	}
	dir := filepath.Join(base, "idp", "bench", fmt.Sprintf("gitops-%d-files-%d-commits-v1.git", files, commits))
	if isBare(dir) {
		return dir
	}
	lock, err := lockPath(context.Background(), dir+".lock")
	if err != nil {
		b.Fatal(err)
	}
	defer lock.release()
	if isBare(dir) {
		return dir
	}
	b.Logf("generating %s (once; cached)", dir)
	start := time.Now()
	defer func() { b.Logf("generated %s in %s", dir, time.Since(start).Round(time.Second)) }()
	tmp := dir + ".tmp-" + randomHex(4)
	defer os.RemoveAll(tmp)
	testworld.Git(b, "", "init", "--quiet", "--bare", "--initial-branch=main", tmp)
	cmd := exec.Command("git", "fast-import", "--quiet", "--done")
	cmd.Dir, cmd.Env = tmp, testworld.GitEnv()
	in, _ := cmd.StdinPipe()
	out, err := os.CreateTemp("", "fast-import-*.log")
	if err != nil {
		b.Fatal(err)
	}
	defer os.Remove(out.Name())
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(in, 1<<20)
	data := func(s string) { fmt.Fprintf(w, "data %d\n%s\n", len(s), s) }
	perCommit := files / commits
	for k := 0; k < commits; k++ {
		fmt.Fprintf(w, "commit refs/heads/main\ncommitter Bench <bench@example.com> %d +0000\n", 1700000000+60*k)
		data(fmt.Sprintf("change %d", k))
		for f := k * perCommit; f < (k+1)*perCommit; f++ {
			svc, kind := f/len(benchKinds), benchKinds[f%len(benchKinds)]
			fmt.Fprintf(w, "M 100644 inline %s\n", benchPath(svc, kind))
			data(benchContent(svc, kind, 0))
		}
		if k > 0 { // and a change to an older service
			svc := (k * 7919) % max(1, k*perCommit/len(benchKinds))
			fmt.Fprintf(w, "M 100644 inline %s\n", benchPath(svc, "deployment"))
			data(benchContent(svc, "deployment", k))
		}
	}
	fmt.Fprintf(w, "done\n")
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	in.Close()
	if err := cmd.Wait(); err != nil {
		log, _ := os.ReadFile(out.Name())
		b.Fatalf("git fast-import: %v\n%s", err, log)
	}
	testworld.Git(b, tmp, "repack", "-a", "-d", "-q")
	testworld.Git(b, tmp, "pack-refs", "--all")
	if err := os.Rename(tmp, dir); err != nil {
		b.Fatal(err)
	}
	return dir
}

// benchChange is the 3-file change set of iteration i: two files of one
// service changed, one file added to another.
func benchChange(files, i int) []FileChange {
	last := files/len(benchKinds) - 1
	return []FileChange{
		write(benchPath(0, "deployment"), benchContent(0, "deployment", 1000+i)),
		write(benchPath(0, "service"), benchContent(0, "service", 1000+i)),
		write(fmt.Sprintf("clusters/c%02d/apps/svc-%05d/bench-%d.yaml", last/100, last, i), benchContent(last, "bench", i)),
	}
}

// BenchmarkChangeSet commits and pushes a 3-file change set with idp, with
// git add && git commit, and with go-git's worktree Add/Commit, timing
// commit and push apart. See docs/benchmarks.md.
func BenchmarkChangeSet(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(fmt.Sprintf("files=%d", size.files), func(b *testing.B) {
			src := benchRepo(b, size.files, size.commits) // before isolate: it moves HOME, and the cache with it
			isolate(b)
			srv := testworld.StartGitServer(b)
			testworld.Git(b, "", "clone", "--quiet", "--bare", src, srv.RepoPath("gitops"))
			for _, br := range []string{"bench-idp", "bench-git", "bench-gogit"} {
				testworld.Git(b, srv.RepoPath("gitops"), "branch", br, "main")
			}
			work := b.TempDir()

			// idp: a bare clone whose origin is the server.
			idpDir := filepath.Join(work, "idp.git")
			testworld.Git(b, "", "clone", "--quiet", "--bare", src, idpDir)
			testworld.Git(b, idpDir, "remote", "set-url", "origin", srv.AuthURL("gitops"))
			testworld.Git(b, idpDir, "config", "remote.origin.fetch", "+refs/heads/*:refs/remotes/origin/*")
			testworld.Git(b, idpDir, "fetch", "--quiet", "origin")
			openIDP := func(b *testing.B) *Repo {
				r, err := Open(context.Background(), idpDir, Options{Branch: "bench-idp"})
				if err != nil {
					b.Fatal(err)
				}
				return r
			}
			// git CLI and go-git: work trees with every file checked out.
			gitDir := filepath.Join(work, "git")
			testworld.Git(b, "", "clone", "--quiet", src, gitDir)
			testworld.Git(b, gitDir, "remote", "set-url", "origin", srv.AuthURL("gitops"))
			gogitDir := filepath.Join(work, "gogit")
			testworld.Git(b, "", "clone", "--quiet", src, gogitDir)
			testworld.Git(b, gogitDir, "remote", "set-url", "origin", srv.RepoURL("gitops"))
			gogit, err := git.PlainOpen(gogitDir)
			if err != nil {
				b.Fatal(err)
			}
			wt, err := gogit.Worktree()
			if err != nil {
				b.Fatal(err)
			}
			iter := 0
			gitCommit := func(b *testing.B) {
				iter++
				b.StopTimer()
				var paths []string
				for _, f := range benchChange(size.files, iter) {
					writeFiles(b, gitDir, map[string]string{f.Path: string(f.Content)})
					paths = append(paths, f.Path)
				}
				b.StartTimer()
				testworld.Git(b, gitDir, append([]string{"add", "--"}, paths...)...)
				testworld.Git(b, gitDir, "commit", "--quiet", "-m", fmt.Sprintf("bench %d", iter))
			}
			gogitCommit := func(b *testing.B) {
				iter++
				b.StopTimer()
				var paths []string
				for _, f := range benchChange(size.files, iter) {
					writeFiles(b, gogitDir, map[string]string{f.Path: string(f.Content)})
					paths = append(paths, f.Path)
				}
				b.StartTimer()
				for _, p := range paths {
					if _, err := wt.Add(p); err != nil {
						b.Fatal(err)
					}
				}
				if _, err := wt.Commit(fmt.Sprintf("bench %d", iter), &git.CommitOptions{
					Author: &object.Signature{Name: "Bench", Email: "bench@example.com"}}); err != nil {
					b.Fatal(err)
				}
			}

			b.Run("commit/idp", func(b *testing.B) {
				r := openIDP(b)
				defer r.Close()
				if _, err := r.Commit(context.Background(), ChangeSet{Message: "warm-up", Files: benchChange(size.files, -1)}); err != nil {
					b.Fatal(err)
				}
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					iter++
					if _, err := r.Commit(context.Background(), ChangeSet{Message: "bench", Files: benchChange(size.files, iter)}); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("commit/idp-cold", func(b *testing.B) {
				// A fresh Repo each time, as a one-shot idp command has.
				for i := 0; i < b.N; i++ {
					b.StopTimer()
					r := openIDP(b)
					iter++
					b.StartTimer()
					if _, err := r.Commit(context.Background(), ChangeSet{Message: "bench", Files: benchChange(size.files, iter)}); err != nil {
						b.Fatal(err)
					}
					b.StopTimer()
					r.Close()
					b.StartTimer()
				}
			})
			b.Run("commit/git-cli", func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					gitCommit(b)
				}
			})
			b.Run("commit/go-git-worktree", func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					gogitCommit(b)
				}
			})

			b.Run("push/idp", func(b *testing.B) {
				r := openIDP(b)
				defer r.Close()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					b.StopTimer()
					iter++
					c, err := r.Commit(context.Background(), ChangeSet{Message: "bench", Files: benchChange(size.files, iter)})
					if err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
					if _, err := r.Push(context.Background(), c); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("push/git-cli", func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					b.StopTimer()
					gitCommit(b)
					b.StartTimer()
					testworld.Git(b, gitDir, "push", "--quiet", "origin", "HEAD:refs/heads/bench-git")
				}
			})
			b.Run("push/go-git-worktree", func(b *testing.B) {
				auth := &githttp.BasicAuth{Username: srv.User, Password: srv.Password}
				for i := 0; i < b.N; i++ {
					b.StopTimer()
					gogitCommit(b)
					b.StartTimer()
					err := gogit.Push(&git.PushOptions{RemoteName: "origin", Auth: auth,
						RefSpecs: []config.RefSpec{"refs/heads/main:refs/heads/bench-gogit"}})
					if err != nil {
						b.Fatal(err)
					}
				}
			})
			testworld.Git(b, srv.RepoPath("gitops"), "fsck", "--no-dangling")
		})
	}
}
