package testworld

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Backstage is a running Backstage backend (catalog and scaffolder plugins)
// on 127.0.0.1 with an in-memory SQLite database. Every API call needs
// "Authorization: Bearer <Token>" (a static external-access token).
type Backstage struct {
	// URL is the backend's base URL, e.g. http://127.0.0.1:7007; the catalog
	// API is under URL+"/api/catalog", the scaffolder's under URL+"/api/scaffolder".
	URL string
	// Token is the static external-access token the backend accepts.
	Token string
	// Install is the npm install the backend runs from.
	Install BackstageInstall

	dir   string
	proc  *process
	files *fileServer
}

// BackstageLocation is a catalog location configured at start
// (catalog.locations): Type "file" with an absolute path, or "url".
type BackstageLocation struct {
	Type   string `json:"type"`
	Target string `json:"target"`
}

// BackstageOptions configure StartBackstage.
type BackstageOptions struct {
	// Locations the catalog reads from the start.
	Locations []BackstageLocation
	// ReadAllow are extra hosts ("127.0.0.1:8080") the backend may read URL
	// locations and templates from (backend.reading.allow). The host of
	// ServeDir is always allowed.
	ReadAllow []string
	// Log receives install progress (default os.Stderr).
	Log io.Writer
}

// StartBackstage installs the backend if needed (see EnsureBackstage), starts
// it on a free port and waits until its catalog answers. The process dies
// with the test process (Pdeathsig); call Stop to end it sooner.
func StartBackstage(ctx context.Context, opts BackstageOptions) (*Backstage, error) {
	if opts.Log == nil {
		opts.Log = os.Stderr
	}
	inst, err := EnsureBackstage(ctx, opts.Log)
	if err != nil {
		return nil, err
	}
	sweepStale()
	dir, err := os.MkdirTemp("", fmt.Sprintf("idp-testworld-%d-backstage-", os.Getpid()))
	if err != nil {
		return nil, err
	}
	b := &Backstage{dir: dir, Token: randomHex(24), Install: inst}
	if err := b.start(ctx, opts); err != nil {
		b.Stop()
		return nil, err
	}
	return b, nil
}

func (b *Backstage) start(ctx context.Context, opts BackstageOptions) error {
	files, err := newFileServer()
	if err != nil {
		return err
	}
	b.files = files
	ports, err := freePorts(1)
	if err != nil {
		return err
	}
	port := strconv.Itoa(ports[0])
	b.URL = "http://127.0.0.1:" + port

	allow := []map[string]string{{"host": files.host}}
	for _, h := range opts.ReadAllow {
		allow = append(allow, map[string]string{"host": h})
	}
	locations := opts.Locations
	if locations == nil {
		locations = []BackstageLocation{}
	}
	// JSON is YAML: the second config file holds what differs per run.
	extra, err := json.MarshalIndent(map[string]any{
		"backend": map[string]any{"reading": map[string]any{"allow": allow}},
		"catalog": map[string]any{"locations": locations},
	}, "", "  ")
	if err != nil {
		return err
	}
	extraPath := filepath.Join(b.dir, "app-config.testworld.yaml")
	if err := os.WriteFile(extraPath, extra, 0o600); err != nil {
		return err
	}
	workdir := filepath.Join(b.dir, "work")
	if err := os.MkdirAll(workdir, 0o755); err != nil {
		return err
	}
	src := BackstageSourceDir()
	b.proc, err = startProcessIn(processSpec{
		name: "backstage",
		bin:  b.Install.Node,
		args: []string{filepath.Join(src, "index.js"),
			"--config", filepath.Join(src, "app-config.yaml"),
			"--config", extraPath},
		// The backend looks for a package.json upwards from its working
		// directory: the install's own.
		dir: b.Install.Dir,
		env: append(os.Environ(),
			"NODE_PATH="+b.Install.NodeModules(),
			"NODE_ENV=production",
			"BACKSTAGE_PORT="+port,
			"BACKSTAGE_TOKEN="+b.Token,
			"BACKSTAGE_WORKDIR="+workdir,
		),
		log: filepath.Join(b.dir, "backstage.log"),
	})
	if err != nil {
		return err
	}
	return b.waitReady(ctx)
}

// waitReady polls until the backend says it is ready and the catalog answers
// an authenticated query.
func (b *Backstage) waitReady(ctx context.Context) error {
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		select {
		case <-b.proc.done:
			return fmt.Errorf("testworld: Backstage exited while starting:\n%s", tail(b.proc.log, 30))
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		if b.ready(ctx, client) {
			return nil
		}
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("testworld: Backstage not ready after 2m:\n%s", tail(b.proc.log, 30))
}

func (b *Backstage) ready(ctx context.Context, client *http.Client) bool {
	for _, path := range []string{"/.backstage/health/v1/readiness", "/api/catalog/entities?limit=1"} {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, b.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+b.Token)
		resp, err := client.Do(req)
		if err != nil {
			return false
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return false
		}
	}
	return true
}

// Log is the backend's own log so far, for a failing test's message.
func (b *Backstage) Log() string { return tail(b.proc.log, 200) }

// Stop ends the backend and its file server and removes its data. It is
// safe to call twice.
func (b *Backstage) Stop() {
	if b.proc != nil {
		b.proc.stop()
	}
	if b.files != nil {
		b.files.close()
	}
	os.RemoveAll(b.dir)
}

// ServeDir serves dir over HTTP on 127.0.0.1 from a host the backend may
// read (backend.reading.allow), and returns its base URL without a trailing
// slash: register base+"/catalog-info.yaml" as a "url" location, or point a
// template's fetch:template at it.
func (b *Backstage) ServeDir(dir string) string { return b.files.serve(dir) }

var (
	sharedBackstage    *Backstage
	sharedBackstageErr error
)

// SharedBackstage returns the test process's one Backstage backend, starting
// it (and installing it) on first use. It starts with no locations: tests
// register their own (Register) under names of their own, so they do not see
// each other's entities by accident. It needs Main in TestMain to be stopped
// at the end; without it the process still dies with the test process.
func SharedBackstage(t testing.TB) *Backstage {
	t.Helper()
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if sharedBackstage == nil && sharedBackstageErr == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
		defer cancel()
		sharedBackstage, sharedBackstageErr = StartBackstage(ctx, BackstageOptions{})
		if sharedBackstageErr == nil {
			cleanups = append(cleanups, sharedBackstage.Stop)
		}
	}
	if sharedBackstageErr != nil {
		t.Fatalf("testworld: no Backstage backend: %v", sharedBackstageErr)
	}
	return sharedBackstage
}

// fileServer serves folders to the backend from one loopback host that its
// config allows reading from.
type fileServer struct {
	host string
	srv  *http.Server

	mu   sync.Mutex
	dirs map[string]string
}

func newFileServer() (*fileServer, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	fs := &fileServer{host: l.Addr().String(), dirs: map[string]string{}}
	fs.srv = &http.Server{Handler: http.HandlerFunc(fs.handle), ReadHeaderTimeout: 10 * time.Second}
	go fs.srv.Serve(l)
	return fs, nil
}

func (fs *fileServer) serve(dir string) string {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	id := "d" + strconv.Itoa(len(fs.dirs)+1)
	fs.dirs[id] = dir
	return "http://" + fs.host + "/" + id
}

func (fs *fileServer) handle(w http.ResponseWriter, r *http.Request) {
	id, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	fs.mu.Lock()
	dir, ok := fs.dirs[id]
	fs.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	http.StripPrefix("/"+id, http.FileServer(http.Dir(dir))).ServeHTTP(w, r)
}

func (fs *fileServer) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := fs.srv.Shutdown(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		fs.srv.Close()
	}
}
