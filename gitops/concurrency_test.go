package gitops

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/back-stack/idp/internal/testworld"
)

const writers = 20

// checkAllLanded verifies, with the git CLI, that every writer's change is
// on main exactly once, in a linear history of fast-forwards.
func checkAllLanded(t *testing.T, srv *testworld.GitServer, commits []string) {
	t.Helper()
	dir := cloneCLI(t, srv, "gitops")
	if got := testworld.Git(t, dir, "rev-list", "--count", "HEAD"); got != strconv.Itoa(writers+1) {
		t.Fatalf("%s commits on main, want %d (seed + one per writer)", got, writers+1)
	}
	if got := testworld.Git(t, dir, "rev-list", "--merges", "--count", "HEAD"); got != "0" {
		t.Fatalf("%s merges", got)
	}
	for i := 0; i < writers; i++ {
		want := fmt.Sprintf("writer: %d\n", i)
		if got := readFile(t, filepath.Join(dir, fmt.Sprintf("apps/svc-%02d/app.yaml", i))); got != want {
			t.Errorf("writer %d's file: %q", i, got)
		}
		if got := testworld.Git(t, dir, "log", "--format=%H", "--grep", fmt.Sprintf("^writer %d$", i)); got != commits[i] {
			t.Errorf("writer %d's commit on main: %q, idp reported %s", i, got, commits[i])
		}
	}
	if n := checkFastForwards(t, srv, "gitops"); n != writers+1 {
		t.Fatalf("main was updated %d times, want %d", n, writers+1)
	}
}

func writerChange(i int) ChangeSet {
	return ChangeSet{Message: fmt.Sprintf("writer %d", i),
		Files: []FileChange{write(fmt.Sprintf("apps/svc-%02d/app.yaml", i), fmt.Sprintf("writer: %d\n", i))}}
}

// Twenty goroutines push different change sets at once through five
// clones: four goroutines share one Repo, the others each open their own
// Repo on a shared clone. The remote ends with twenty commits, none lost,
// none forced.
func TestConcurrentGoroutines(t *testing.T) {
	isolate(t)
	srv := testworld.StartGitServer(t)
	seed(t, srv, "gitops", map[string]string{"README.md": "x\n"})
	caches := make([]string, 5)
	for i := range caches {
		caches[i] = t.TempDir()
	}
	shared := openURL(t, srv, "gitops", Options{CacheDir: caches[0], MaxAttempts: 4 * writers})
	commits := make([]string, writers)
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for i := 0; i < writers; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			r := shared
			if i%5 != 0 {
				var err error
				r, err = Open(context.Background(), srv.AuthURL("gitops"), Options{CacheDir: caches[i%5], MaxAttempts: 4 * writers})
				if err != nil {
					errs <- fmt.Errorf("writer %d: Open: %w", i, err)
					return
				}
				defer r.Close()
			}
			res, err := r.Apply(context.Background(), writerChange(i))
			if err != nil {
				errs <- fmt.Errorf("writer %d: %w", i, err)
				return
			}
			commits[i] = res.Commit
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		return
	}
	checkAllLanded(t, srv, commits)
}

// childResult is what a child process reports on stdout.
type childResult struct {
	Commit   string
	Attempts int
	Err      string
}

// TestChildProcess is the body of the child processes the multi-process
// tests start (this test binary, re-executed); on its own it does nothing.
func TestChildProcess(t *testing.T) {
	mode := os.Getenv("IDP_GITOPS_CHILD")
	if mode == "" {
		t.Skip("runs only as a child process of another test")
	}
	i, _ := strconv.Atoi(os.Getenv("IDP_GITOPS_CHILD_INDEX"))
	var res childResult
	r, err := Open(context.Background(), os.Getenv("IDP_GITOPS_CHILD_URL"),
		Options{CacheDir: os.Getenv("IDP_GITOPS_CHILD_CACHE"), MaxAttempts: 4 * writers})
	if err == nil {
		var out *Result
		out, err = r.Apply(context.Background(), writerChange(i))
		if out != nil {
			res.Commit, res.Attempts = out.Commit, out.Attempts
		}
	}
	if err != nil {
		res.Err = err.Error()
	}
	data, _ := json.Marshal(res)
	fmt.Printf("CHILD-RESULT %s\n", data)
	if err != nil {
		t.Fatal(err)
	}
}

// child prepares this test binary to run as a writer process.
func child(ctx context.Context, url, cache string, i int) *exec.Cmd {
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestChildProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), "IDP_GITOPS_CHILD=apply", "IDP_GITOPS_CHILD_URL="+url,
		"IDP_GITOPS_CHILD_CACHE="+cache, "IDP_GITOPS_CHILD_INDEX="+strconv.Itoa(i))
	return cmd
}

func parseChild(out string) (childResult, bool) {
	for _, l := range strings.Split(out, "\n") {
		if data, ok := strings.CutPrefix(l, "CHILD-RESULT "); ok {
			var res childResult
			return res, json.Unmarshal([]byte(data), &res) == nil
		}
	}
	return childResult{}, false
}

// Twenty processes push different change sets at once. Four clones are
// shared by five processes each (the cache of one machine, where processes
// wait on the clone's lock), and the four machines race at the remote.
func TestConcurrentProcesses(t *testing.T) {
	isolate(t)
	srv := testworld.StartGitServer(t)
	seed(t, srv, "gitops", map[string]string{"README.md": "x\n"})
	caches := make([]string, 4)
	for i := range caches {
		caches[i] = t.TempDir()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	commits := make([]string, writers)
	outs := make([]string, writers)
	errs := make([]error, writers)
	for i := 0; i < writers; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			out, err := child(ctx, srv.AuthURL("gitops"), caches[i%4], i).CombinedOutput()
			outs[i], errs[i] = string(out), err
		}(i)
	}
	wg.Wait()
	rebuilt := 0
	for i := 0; i < writers; i++ {
		res, ok := parseChild(outs[i])
		if errs[i] != nil || !ok || res.Err != "" {
			t.Errorf("writer %d: %v %s\n%s", i, errs[i], res.Err, outs[i])
			continue
		}
		commits[i] = res.Commit
		if res.Attempts > 1 {
			rebuilt++
		}
	}
	if t.Failed() {
		return
	}
	t.Logf("%d of %d writers were rebuilt on a newer tip at least once", rebuilt, writers)
	checkAllLanded(t, srv, commits)
}
