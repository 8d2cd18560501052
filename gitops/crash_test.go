package gitops

import (
	"context"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/back-stack/idp/internal/testworld"
)

// stallProxy sits between idp and the git server and, once armed, stalls
// one request so the test can kill the client in the middle of it:
// "before" holds a request before the server sees it, "after" lets the
// server complete it and holds the answer, "half" sends half the answer.
type stallProxy struct {
	srv     *httptest.Server
	target  *url.URL
	mu      sync.Mutex
	service string // git-upload-pack or git-receive-pack
	mode    string
	hit     chan struct{}
	release chan struct{}
}

func startStallProxy(t *testing.T, gs *testworld.GitServer) *stallProxy {
	t.Helper()
	target, _ := url.Parse(gs.URL)
	p := &stallProxy{target: target, release: make(chan struct{})}
	p.srv = httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(func() {
		close(p.release)
		p.srv.Close()
	})
	return p
}

// arm makes the next POST to service stall; hit is closed when it does.
func (p *stallProxy) arm(service, mode string) chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.service, p.mode, p.hit = service, mode, make(chan struct{})
	return p.hit
}

func (p *stallProxy) serve(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	stall := r.Method == http.MethodPost && p.service != "" && strings.HasSuffix(r.URL.Path, "/"+p.service)
	mode, hit := p.mode, p.hit
	if stall {
		p.service = "" // one request only
	}
	p.mu.Unlock()
	proxy := httputil.NewSingleHostReverseProxy(p.target)
	if !stall {
		proxy.ServeHTTP(w, r)
		return
	}
	wait := func() {
		close(hit)
		select {
		case <-p.release:
		case <-r.Context().Done():
		}
	}
	switch mode {
	case "before":
		wait()
		http.Error(w, "stalled", http.StatusBadGateway)
	case "after":
		rec := httptest.NewRecorder()
		proxy.ServeHTTP(rec, r)
		wait()
	case "half":
		rec := httptest.NewRecorder()
		proxy.ServeHTTP(rec, r)
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		body := rec.Body.Bytes()
		w.Write(body[:len(body)/2])
		w.(http.Flusher).Flush()
		wait()
	}
}

// url is the repository's URL through the proxy, with credentials.
func (p *stallProxy) url(gs *testworld.GitServer, name string) string {
	return strings.Replace(p.srv.URL, "http://", fmt.Sprintf("http://%s:%s@", gs.User, gs.Password), 1) + "/" + name + ".git"
}

// killDuring starts a writer process, waits until it is inside the stalled
// request, and kills it (SIGKILL: no cleanup of any kind runs).
func killDuring(t *testing.T, hit chan struct{}, url, cache string, i int) {
	t.Helper()
	killWhen(t, hit, nil, url, cache, i)
}

// killWhen is killDuring that, once the request stalls, also waits for
// ready (polled, with a deadline) before the kill.
func killWhen(t *testing.T, hit chan struct{}, ready func() bool, url, cache string, i int) {
	t.Helper()
	cmd := child(context.Background(), url, cache, i)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-hit:
	case err := <-done:
		t.Fatalf("the writer finished (%v) before reaching the stalled request:\n%s", err, out.String())
	case <-time.After(2 * time.Minute):
		cmd.Process.Kill()
		t.Fatalf("the writer never reached the stalled request:\n%s", out.String())
	}
	for deadline := time.Now().Add(time.Minute); ready != nil && !ready(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			var files []string
			filepath.WalkDir(cache, func(p string, d fs.DirEntry, err error) error {
				if err == nil && !d.IsDir() {
					fi, _ := d.Info()
					files = append(files, fmt.Sprintf("%s %d", strings.TrimPrefix(p, cache), fi.Size()))
				}
				return nil
			})
			t.Fatalf("the writer never got ready to be killed:\n%s\nfiles:\n%s", out.String(), strings.Join(files, "\n"))
		}
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-done
}

// partialPack reports a pack being downloaded under glob.
func partialPack(glob string) func() bool {
	return func() bool {
		files, _ := filepath.Glob(glob)
		for _, f := range files {
			if fi, err := os.Stat(f); err == nil && fi.Size() > 0 {
				return true
			}
		}
		return false
	}
}

// A process killed in the middle of a push leaves a clone that the next run
// uses as it is: the change set is pending and goes through once, whether
// the server had received the push or not.
func TestKilledMidPush(t *testing.T) {
	for _, tc := range []struct {
		mode         string
		pendingFirst bool // the next run retries the pending commit before making its own
	}{{"before", false}, {"after", false}, {"after", true}} {
		mode := tc.mode
		t.Run(fmt.Sprintf("%s/pending-first=%v", mode, tc.pendingFirst), func(t *testing.T) {
			isolate(t)
			gs := testworld.StartGitServer(t)
			base := seed(t, gs, "gitops", map[string]string{"README.md": "x\n"})
			proxy := startStallProxy(t, gs)
			cache := t.TempDir()
			url := proxy.url(gs, "gitops")
			r, err := Open(ctxT(t), url, Options{CacheDir: cache}) // the clone exists before the kill
			if err != nil {
				t.Fatal(err)
			}
			r.Close()

			killDuring(t, proxy.arm("git-receive-pack", mode), url, cache, 7)

			remote := testworld.Git(t, gs.RepoPath("gitops"), "rev-parse", "main")
			if (mode == "before") != (remote == base) {
				t.Fatalf("remote main %s after a kill %s the server saw the push", remote, mode)
			}
			// The next run: no manual cleanup.
			r, err = Open(ctxT(t), url, Options{CacheDir: cache})
			if err != nil {
				t.Fatalf("next run's Open: %v", err)
			}
			defer r.Close()
			pending, err := r.Pending(ctxT(t))
			if err != nil || len(pending) != 1 || pending[0].Message != "writer 7\n" {
				t.Fatalf("pending %v %v, want the killed writer's change set", pending, err)
			}
			apply := func() {
				if _, err := r.Apply(ctxT(t), writerChange(8)); err != nil {
					t.Fatalf("next run's Apply: %v", err)
				}
			}
			if !tc.pendingFirst {
				apply()
			}
			res, err := r.PushPending(ctxT(t), pending[0].ID)
			if err != nil {
				t.Fatalf("pushing the killed run's change set: %v", err)
			}
			switch {
			case mode == "after" && tc.pendingFirst:
				// The server has that very commit: it is recognised, not pushed again.
				if res.Commit != remote || res.AlreadyApplied || res.Attempts != 1 {
					t.Fatalf("result %+v, want the commit %s the server already has", res, remote)
				}
			case mode == "after":
				// The next run's own change already built on it: found applied.
				if !res.AlreadyApplied {
					t.Fatalf("result %+v, want it found already applied", res)
				}
			case res.AlreadyApplied:
				t.Fatalf("result %+v: the server never saw this push", res)
			}
			if tc.pendingFirst {
				apply()
			}
			dir := cloneCLI(t, gs, "gitops")
			if got := testworld.Git(t, dir, "log", "--format=%s", "main"); got != "writer 8\nwriter 7\nseed" && got != "writer 7\nwriter 8\nseed" {
				t.Fatalf("history:\n%s", got)
			}
			if p, _ := r.Pending(ctxT(t)); len(p) != 0 {
				t.Fatalf("%d still pending", len(p))
			}
			checkFastForwards(t, gs, "gitops")
			testworld.Git(t, r.Dir(), "fsck", "--strict", "--no-dangling")
		})
	}
}

// A process killed while downloading (its first clone, or a later fetch)
// leaves nothing the next run trips over.
func TestKilledMidDownload(t *testing.T) {
	isolate(t)
	gs := testworld.StartGitServer(t)
	// Incompressible content, so half the answer is well past go-git's
	// 32 KiB read buffer and the partial pack reaches the disk.
	noise := func() string {
		b := make([]byte, 1024)
		for i := range b {
			b[i] = byte(rand.Uint32())
		}
		return fmt.Sprintf("%x", b)
	}
	files := map[string]string{}
	for i := 0; i < 300; i++ {
		files[fmt.Sprintf("apps/svc-%03d/app.yaml", i)] = fmt.Sprintf("name: svc-%d\nnoise: %s\n", i, noise())
	}
	seed(t, gs, "gitops", files)
	proxy := startStallProxy(t, gs)
	cache := t.TempDir()
	url := proxy.url(gs, "gitops")

	killWhen(t, proxy.arm("git-upload-pack", "half"), partialPack(filepath.Join(cache, "*.tmp-*", "objects", "pack", "tmp_pack_*")), url, cache, 1)
	if leftovers, _ := filepath.Glob(filepath.Join(cache, "*.tmp-*")); len(leftovers) != 1 {
		t.Fatalf("expected the killed clone's temporary folder, found %v", leftovers)
	}
	r, err := Open(ctxT(t), url, Options{CacheDir: cache})
	if err != nil {
		t.Fatalf("Open after a killed clone: %v", err)
	}
	if leftovers, _ := filepath.Glob(filepath.Join(cache, "*.tmp-*")); len(leftovers) != 0 {
		t.Fatalf("leftovers: %v", leftovers)
	}
	r.Close()

	// The remote moves on; the next fetch is killed half way through the pack.
	more := map[string]string{}
	for i := 0; i < 300; i++ {
		more[fmt.Sprintf("apps/svc-%03d/app.yaml", i)] = fmt.Sprintf("name: svc-%d\nnoise: %s\n", i, noise())
	}
	other := pushCLI(t, gs, "gitops", more, "big change")
	killWhen(t, proxy.arm("git-upload-pack", "half"), partialPack(filepath.Join(cache, "*", "objects", "pack", "tmp_pack_*")), url, cache, 2)

	r, err = Open(ctxT(t), url, Options{CacheDir: cache})
	if err != nil {
		t.Fatalf("Open after a killed fetch: %v", err)
	}
	defer r.Close()
	got, err := r.ReadFile(ctxT(t), "", "apps/svc-000/app.yaml")
	if err != nil || string(got) != more["apps/svc-000/app.yaml"] {
		t.Fatalf("read after recovery: %q %v", got, err)
	}
	res, err := r.Apply(ctxT(t), writerChange(3))
	if err != nil {
		t.Fatal(err)
	}
	if got := testworld.Git(t, gs.RepoPath("gitops"), "rev-parse", res.Commit+"^"); got != other {
		t.Fatalf("built on %s, want %s", got, other)
	}
	tmps, _ := filepath.Glob(filepath.Join(r.Dir(), "objects", "pack", "tmp_*"))
	if len(tmps) != 0 {
		t.Fatalf("temporary pack files left: %v", tmps)
	}
	testworld.Git(t, r.Dir(), "fsck", "--strict", "--no-dangling")
}

// What a process killed at any other moment can leave in a clone (a lock
// file of its own mid-update, a pack index without its pack, temporary
// files) is cleaned up by the next run, which then works.
func TestLeftoversOfAKilledRun(t *testing.T) {
	isolate(t)
	gs := testworld.StartGitServer(t)
	seed(t, gs, "gitops", map[string]string{"README.md": "x\n"})
	cache := t.TempDir()
	r := openURL(t, gs, "gitops", Options{CacheDir: cache})
	dir := r.Dir()
	r.Close()

	tip := testworld.Git(t, dir, "rev-parse", "refs/remotes/origin/main")
	// A journaled update of origin/main, killed after the lock was written.
	s := openStore(dir)
	lock := filepath.Join(dir, "refs", "remotes", "origin", "main.lock")
	if _, err := s.journal(lock, tip+"\n"); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(lock, []byte(tip+"\n"), 0o644)
	s.Close()
	// go-git killed after writing an index but before renaming its pack.
	orphanIdx := filepath.Join(dir, "objects", "pack", "pack-0123456789012345678901234567890123456789.idx")
	os.WriteFile(orphanIdx, []byte("half an index"), 0o644)
	tmpPack := filepath.Join(dir, "objects", "pack", "tmp_pack_123")
	os.WriteFile(tmpPack, []byte("PACK"), 0o644)
	os.MkdirAll(filepath.Join(dir, "idp", "tmp"), 0o755)
	tmpFile := filepath.Join(dir, "idp", "tmp", "0badc0de")
	os.WriteFile(tmpFile, []byte("half"), 0o644)

	r, err := Open(ctxT(t), gs.AuthURL("gitops"), Options{CacheDir: cache})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer r.Close()
	if _, err := r.Apply(ctxT(t), writerChange(1)); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	for _, f := range []string{lock, orphanIdx, tmpPack, tmpFile} {
		if _, err := os.Stat(f); err == nil {
			t.Errorf("%s is still there", f)
		}
	}
	testworld.Git(t, dir, "fsck", "--strict", "--no-dangling")
}
