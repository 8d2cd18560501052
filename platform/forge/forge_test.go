package forge

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/back-stack/idp/internal/testworld"
)

func TestLocalForge(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	l, err := NewLocal("file://"+dir, "")
	if err != nil {
		t.Fatal(err)
	}
	if got := l.Locate("", "pay").CloneURL; got != "file://"+dir+"/pay.git" {
		t.Errorf("Locate = %s", got)
	}
	if ok, err := l.Exists(ctx, "", "pay"); ok || err != nil {
		t.Fatalf("Exists before Create = %v, %v", ok, err)
	}
	r, err := l.Create(ctx, CreateOptions{Name: "pay", Description: "Payments", DefaultBranch: "trunk"})
	if err != nil {
		t.Fatal(err)
	}
	if ok, _ := l.Exists(ctx, "", "pay"); !ok {
		t.Error("Exists after Create = false")
	}
	if _, err := l.Create(ctx, CreateOptions{Name: "pay"}); !errors.Is(err, ErrExists) {
		t.Errorf("second Create = %v; want ErrExists", err)
	}
	// git itself sees an empty bare repository whose HEAD is the branch asked for.
	bare := filepath.Join(dir, "pay.git")
	if head := testworld.Git(t, "", "--git-dir", bare, "symbolic-ref", "HEAD"); head != "refs/heads/trunk" {
		t.Errorf("HEAD = %s", head)
	}
	work := filepath.Join(t.TempDir(), "w")
	testworld.Git(t, "", "clone", "--quiet", r.CloneURL, work)
	os.WriteFile(filepath.Join(work, "a"), []byte("a\n"), 0o644)
	testworld.Git(t, work, "add", "a")
	testworld.Git(t, work, "commit", "--quiet", "-m", "first")
	testworld.Git(t, work, "push", "--quiet", "origin", "HEAD:trunk")
	testworld.Git(t, "", "--git-dir", bare, "fsck", "--strict")

	owned, err := l.Create(ctx, CreateOptions{Owner: "team-a", Name: "pay"})
	if err != nil || !strings.HasSuffix(owned.CloneURL, "/team-a/pay.git") {
		t.Errorf("Create with an owner = %+v, %v", owned, err)
	}
	for _, bad := range []CreateOptions{{Name: "../x"}, {Name: ".."}, {Owner: "../up", Name: "x"}, {Name: "a/b"}, {Name: ""}} {
		if _, err := l.Create(ctx, bad); err == nil {
			t.Errorf("Create(%+v) succeeded", bad)
		}
	}
	if _, err := l.OpenPullRequest(ctx, PullRequest{}); !errors.Is(err, ErrNoPullRequests) {
		t.Errorf("OpenPullRequest = %v", err)
	}
	served, _ := NewLocal(dir, "http://127.0.0.1:9/git/")
	if got := served.Locate("", "pay").CloneURL; got != "http://127.0.0.1:9/git/pay.git" {
		t.Errorf("Locate with a base URL = %s", got)
	}
}

// fakeGitHub answers the few REST endpoints the forge uses, as GitHub
// documents them.
type fakeGitHub struct {
	mu      sync.Mutex
	repos   map[string]bool // owner/name
	created []map[string]any
	pulls   []map[string]any
	paths   []string
}

func (f *fakeGitHub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.Header.Get("Authorization") != "Bearer tok" {
		http.Error(w, `{"message":"Bad credentials"}`, http.StatusUnauthorized)
		return
	}
	p := strings.TrimPrefix(r.URL.Path, "/api/v3")
	f.paths = append(f.paths, r.Method+" "+p)
	reply := func(code int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		json.NewEncoder(w).Encode(v)
	}
	var body map[string]any
	json.NewDecoder(r.Body).Decode(&body)
	switch {
	case r.Method == "GET" && p == "/user":
		reply(200, map[string]any{"login": "jo"})
	case r.Method == "GET" && strings.HasPrefix(p, "/repos/"):
		if f.repos[strings.TrimPrefix(p, "/repos/")] {
			reply(200, map[string]any{"name": "x"})
		} else {
			reply(404, map[string]any{"message": "Not Found"})
		}
	case r.Method == "POST" && (p == "/user/repos" || strings.HasPrefix(p, "/orgs/")):
		owner := "jo"
		if strings.HasPrefix(p, "/orgs/") {
			owner = strings.Split(p, "/")[2]
		}
		name := body["name"].(string)
		if f.repos[owner+"/"+name] {
			reply(422, map[string]any{"message": "Repository creation failed.", "errors": []map[string]any{{"resource": "Repository", "code": "custom", "field": "name", "message": "name already exists on this account"}}})
			return
		}
		f.repos[owner+"/"+name] = true
		body["owner"] = owner
		f.created = append(f.created, body)
		reply(201, map[string]any{"name": name, "clone_url": "https://ghe.test/" + owner + "/" + name + ".git", "html_url": "https://ghe.test/" + owner + "/" + name})
	case r.Method == "POST" && strings.HasSuffix(p, "/pulls"):
		body["repo"] = strings.TrimSuffix(strings.TrimPrefix(p, "/repos/"), "/pulls")
		f.pulls = append(f.pulls, body)
		reply(201, map[string]any{"number": 7, "html_url": "https://ghe.test/" + body["repo"].(string) + "/pull/7"})
	default:
		reply(404, map[string]any{"message": "Not Found"})
	}
}

func TestGitHubForge(t *testing.T) {
	ctx := context.Background()
	fake := &fakeGitHub{repos: map[string]bool{"acme/taken": true}}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	g, err := NewGitHub(ctx, GitHubOptions{Token: "tok", Owner: "acme", BaseURL: srv.URL + "/api/v3/"})
	if err != nil {
		t.Fatal(err)
	}
	if r := g.Locate("", "pay"); r.CloneURL != "https://"+host+"/acme/pay.git" || r.WebURL != "https://"+host+"/acme/pay" {
		t.Errorf("Locate = %+v", r)
	}
	if ok, err := g.Exists(ctx, "", "taken"); !ok || err != nil {
		t.Errorf("Exists(taken) = %v, %v", ok, err)
	}
	if ok, err := g.Exists(ctx, "", "pay"); ok || err != nil {
		t.Errorf("Exists(pay) = %v, %v", ok, err)
	}
	r, err := g.Create(ctx, CreateOptions{Name: "pay", Description: "Payments", Private: true})
	if err != nil || r.CloneURL != "https://ghe.test/acme/pay.git" || r.WebURL != "https://ghe.test/acme/pay" {
		t.Fatalf("Create = %+v, %v", r, err)
	}
	if _, err := g.Create(ctx, CreateOptions{Name: "pay"}); !errors.Is(err, ErrExists) {
		t.Errorf("second Create = %v; want ErrExists", err)
	}
	if _, err := g.Create(ctx, CreateOptions{Owner: "jo", Name: "mine"}); err != nil {
		t.Fatal(err)
	}
	c := fake.created
	if len(c) != 2 || c[0]["owner"] != "acme" || c[0]["private"] != true || c[0]["description"] != "Payments" || c[0]["auto_init"] != false || c[1]["owner"] != "jo" {
		t.Errorf("created %v", c)
	}
	url, err := g.OpenPullRequest(ctx, PullRequest{RepoURL: "git@github.com:acme/gitops.git", Head: "idp/new-pay", Base: "main", Title: "New service pay"})
	if err == nil {
		t.Errorf("a pull request for another host was opened: %s", url)
	}
	url, err = g.OpenPullRequest(ctx, PullRequest{RepoURL: "https://" + host + "/acme/gitops.git", Head: "idp/new-pay", Base: "main", Title: "New service pay", Body: "b"})
	if err != nil || url != "https://ghe.test/acme/gitops/pull/7" {
		t.Fatalf("OpenPullRequest = %q, %v", url, err)
	}
	if p := fake.pulls[0]; p["head"] != "idp/new-pay" || p["base"] != "main" || p["title"] != "New service pay" || p["repo"] != "acme/gitops" {
		t.Errorf("pull request %v", p)
	}
	if _, err := NewGitHub(ctx, GitHubOptions{Token: "wrong", BaseURL: srv.URL + "/api/v3/"}); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("a bad token was accepted: %v", err)
	}
	if _, err := NewGitHub(ctx, GitHubOptions{}); err == nil || !strings.Contains(err.Error(), "GITHUB_TOKEN") {
		t.Errorf("no token: %v", err)
	}
}

func TestGitHubToken(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "hosts.yml"), []byte("github.com:\n  oauth_token: from-gh\n  user: jo\nghe.acme.com:\n  oauth_token: from-gh-ghe\n"), 0o600)
	t.Setenv("GH_CONFIG_DIR", dir)
	for _, v := range []string{"GITHUB_TOKEN", "GH_TOKEN", "GH_ENTERPRISE_TOKEN", "GITHUB_ENTERPRISE_TOKEN"} {
		t.Setenv(v, "")
	}
	if got := GitHubToken("github.com"); got != "from-gh" {
		t.Errorf("from gh's hosts.yml: %q", got)
	}
	if got := GitHubToken("ghe.acme.com"); got != "from-gh-ghe" {
		t.Errorf("Enterprise from hosts.yml: %q", got)
	}
	t.Setenv("GH_TOKEN", "env-gh")
	if got := GitHubToken(""); got != "env-gh" {
		t.Errorf("GH_TOKEN: %q", got)
	}
	t.Setenv("GITHUB_TOKEN", "env")
	if got := GitHubToken("github.com"); got != "env" {
		t.Errorf("GITHUB_TOKEN first: %q", got)
	}
	t.Setenv("GH_ENTERPRISE_TOKEN", "env-ghe")
	if got := GitHubToken("ghe.acme.com"); got != "env-ghe" {
		t.Errorf("GH_ENTERPRISE_TOKEN: %q", got)
	}
}
