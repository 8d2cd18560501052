package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"

	"github.com/back-stack/idp/internal/livetest"
	"github.com/back-stack/idp/internal/testworld"
	"github.com/back-stack/idp/platform/argocd"
	"github.com/back-stack/idp/platform/environment"
	"github.com/back-stack/idp/platform/kube"
	"github.com/back-stack/idp/platform/live"
	"github.com/back-stack/idp/platform/watch"
	"github.com/back-stack/idp/tui/nav"
	"github.com/back-stack/idp/tui/screens/apps"
	"github.com/back-stack/idp/tui/theme"
)

// The live views at scale: a private API server seeded with
// IDP_BENCH_APPS Applications (default 10,000) and IDP_BENCH_MRS managed
// resources (default 50,000, five per XR), kubectl measured beside idp.
// Only with -bench; the numbers go to docs/benchmarks.md:
//
//	go test ./e2e -run '^$' -bench Live -benchtime 1x -timeout 60m
//
// Each measurement runs a fixed number of times whatever b.N is and is
// reported as custom metrics; the seeded API server is shared by the
// sub-benchmarks and stopped at the end.

type benchWorld struct {
	c          *testworld.Cluster
	apps, mrs  int
	seedApps   time.Duration
	seedMRs    time.Duration
	probeNS    string
	probeApp   string
	kubectlBin string
}

var (
	benchOnce sync.Once
	bench     *benchWorld
	benchErr  error
)

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v >= 0 {
		return v
	}
	return def
}

func world(b *testing.B) *benchWorld {
	b.Helper()
	benchOnce.Do(func() { bench, benchErr = seedWorld(b) })
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return bench
}

func seedWorld(b *testing.B) (*benchWorld, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Minute)
	defer cancel()
	bins, err := testworld.EnsureBinaries(ctx, os.Stderr)
	if err != nil {
		return nil, err
	}
	c, err := testworld.StartCluster(ctx, bins)
	if err != nil {
		return nil, err
	}
	livetest.ArgoCD(b, c)
	livetest.Crossplane(b, c)
	w := &benchWorld{c: c, apps: envInt("IDP_BENCH_APPS", 10000), mrs: envInt("IDP_BENCH_MRS", 50000), probeNS: "bench-probe", probeApp: "probe"}
	w.kubectlBin, _ = exec.LookPath("kubectl")
	dyn, err := dynamic.NewForConfig(c.Config)
	if err != nil {
		return nil, err
	}
	cs := c.Clientset(b)
	nss := []string{w.probeNS}
	for i := range 10 {
		nss = append(nss, fmt.Sprintf("bench-%d", i))
	}
	for _, ns := range nss {
		if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
			return nil, err
		}
	}
	start := time.Now()
	err = parallel(ctx, w.apps, func(i int) error {
		_, err := dyn.Resource(argocd.Applications).Namespace(nss[1+i%10]).Create(ctx, seededApp(nss[1+i%10], i), metav1.CreateOptions{})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("seeding applications: %w", err)
	}
	if _, err := dyn.Resource(argocd.Applications).Namespace(w.probeNS).Create(ctx, seededApp(w.probeNS, -1), metav1.CreateOptions{}); err != nil {
		return nil, err
	}
	w.seedApps = time.Since(start)
	start = time.Now()
	if err := seedCrossplane(ctx, dyn, nss[1:], w.mrs); err != nil {
		return nil, fmt.Errorf("seeding managed resources: %w", err)
	}
	w.seedMRs = time.Since(start)
	// Let the API server digest the writes (its watch cache, etcd's
	// compaction) so that the measurements do not share the CPU with them.
	time.Sleep(30 * time.Second)
	b.Logf("seeded %d applications in %s, %d managed resources (+%d XRs) in %s", w.apps+1, w.seedApps.Round(time.Second), w.mrs, w.mrs/5, w.seedMRs.Round(time.Second))
	return w, nil
}

// parallel runs fn(0..n-1) on 16 writers.
func parallel(ctx context.Context, n int, fn func(i int) error) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				if err := fn(i); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

var (
	syncs   = []string{"Synced", "Synced", "Synced", "OutOfSync"}
	healths = []string{"Healthy", "Healthy", "Healthy", "Progressing", "Degraded", "Missing"}
)

// seededApp is an application with the status a controller leaves: a few
// resources, an operation state and, for some, a condition.
func seededApp(ns string, i int) *unstructured.Unstructured {
	name := fmt.Sprintf("svc-%05d", i)
	if i < 0 {
		name = "probe"
		i = 0
	}
	u := livetest.Application(ns, name, fmt.Sprintf("team-%d", i%25), map[string]string{"team": fmt.Sprintf("team-%d", i%25)})
	res := []any{
		map[string]any{"group": "apps", "version": "v1", "kind": "Deployment", "namespace": name, "name": name, "status": "Synced", "health": map[string]any{"status": "Healthy"}},
		map[string]any{"version": "v1", "kind": "Service", "namespace": name, "name": name, "status": "Synced", "health": map[string]any{"status": "Healthy"}},
		map[string]any{"version": "v1", "kind": "ConfigMap", "namespace": name, "name": name + "-config", "status": "Synced"},
	}
	status := map[string]any{
		"sync":      map[string]any{"status": syncs[i%len(syncs)], "revision": fmt.Sprintf("%040x", i*7919+1)},
		"health":    map[string]any{"status": healths[i%len(healths)]},
		"resources": res,
		"operationState": map[string]any{
			"phase": "Succeeded", "message": "successfully synced (all tasks run)",
			"startedAt": "2026-01-02T10:00:00Z", "finishedAt": "2026-01-02T10:00:07Z",
			"operation": map[string]any{"sync": map[string]any{"revision": "HEAD"}, "initiatedBy": map[string]any{"automated": true}},
		},
		"reconciledAt": "2026-01-02T10:05:00Z",
	}
	if i%17 == 0 {
		status["conditions"] = []any{map[string]any{"type": "SyncError", "message": "one or more objects failed to apply"}}
	}
	u.Object["status"] = status
	return u
}

// seedCrossplane creates mrs managed resources, five per namespaced XR,
// with the conditions a provider writes.
func seedCrossplane(ctx context.Context, dyn dynamic.Interface, nss []string, mrs int) error {
	xrs := mrs / 5
	api := livetest.FlexibleServerDBs.GroupVersion().String()
	ready := []any{livetest.Cond("Synced", "True", "ReconcileSuccess", ""), livetest.Cond("Ready", "True", "Available", "")}
	failing := []any{livetest.Cond("Synced", "False", "ReconcileError", "create failed: 409 Conflict: QuotaExceeded in westeurope"), livetest.Cond("Ready", "False", "Creating", "")}
	return parallel(ctx, xrs, func(i int) error {
		ns := nss[i%len(nss)]
		name := fmt.Sprintf("db-%05d", i)
		var refs []any
		for j := range 5 {
			refs = append(refs, livetest.Ref(api, "FlexibleServerDatabase", "", fmt.Sprintf("%s-%d", name, j)))
		}
		xr := livetest.Object(livetest.XPostgreSQLs, "XPostgreSQL", ns, name, map[string]any{"size": "small", "crossplane": map[string]any{"resourceRefs": refs}})
		if _, err := dyn.Resource(livetest.XPostgreSQLs).Namespace(ns).Create(ctx, xr, metav1.CreateOptions{}); err != nil {
			return err
		}
		for j := range 5 {
			mr := livetest.Object(livetest.FlexibleServerDBs, "FlexibleServerDatabase", ns, fmt.Sprintf("%s-%d", name, j), map[string]any{"forProvider": map[string]any{"charset": "UTF8"}})
			created, err := dyn.Resource(livetest.FlexibleServerDBs).Namespace(ns).Create(ctx, mr, metav1.CreateOptions{})
			if err != nil {
				return err
			}
			conds := ready
			if i%50 == 0 && j == 4 {
				conds = failing
			}
			if err := unstructured.SetNestedSlice(created.Object, conds, "status", "conditions"); err != nil {
				return err
			}
			if _, err := dyn.Resource(livetest.FlexibleServerDBs).Namespace(ns).UpdateStatus(ctx, created, metav1.UpdateOptions{}); err != nil {
				return err
			}
		}
		return nil
	})
}

func (w *benchWorld) env() environment.Environment {
	return environment.Environment{Kube: kube.Target{Context: "bench", Server: w.c.URL, User: "bench"}, Rest: w.c.Config}
}

// driver runs the Applications screen's model the way the program does,
// without a terminal: commands run on goroutines, their messages come back
// to one loop that alone touches the model.
type driver struct {
	m    *apps.Model
	msgs chan tea.Msg
}

func (d *driver) run(cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	go func() {
		msg := cmd()
		if batch, ok := msg.(tea.BatchMsg); ok {
			for _, c := range batch {
				d.run(c)
			}
			return
		}
		d.msgs <- msg
	}()
}

// step handles the next message.
func (d *driver) step() {
	_, cmd := d.m.Update(<-d.msgs)
	d.run(cmd)
}

func openApps(b *testing.B, w *benchWorld, client *live.Client) (*driver, time.Duration, time.Duration) {
	b.Helper()
	d := &driver{m: apps.New(apps.Options{Theme: theme.New(false), Source: client}), msgs: make(chan tea.Msg, 64)}
	d.m.SetSize(120, 38)
	if path := os.Getenv("IDP_BENCH_CPUPROFILE"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			b.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			b.Fatal(err)
		}
		defer pprof.StopCPUProfile()
	}
	start := time.Now()
	_, cmd := d.m.Update(nav.EnvMsg{Env: w.env()})
	d.run(cmd)
	var first time.Duration
	for {
		d.step()
		if first == 0 && len(d.m.Rows()) > 0 {
			_ = d.m.View() // the first populated frame
			first = time.Since(start)
		}
		if d.m.Status().State == watch.Live {
			_ = d.m.View()
			return d, first, time.Since(start)
		}
	}
}

func BenchmarkLive(b *testing.B) {
	w := world(b)
	defer w.c.Stop()
	var d *driver
	b.Run("load", func(b *testing.B) {
		b.ReportMetric(float64(w.apps+1), "apps")
		b.ReportMetric(float64(w.seedApps.Seconds()), "seed-apps-s")
		b.ReportMetric(float64(w.seedMRs.Seconds()), "seed-mrs-s")
		// kubectl get applications -A: wall time and peak RSS.
		if w.kubectlBin != "" {
			start := time.Now()
			cmd := exec.Command(w.kubectlBin, "--kubeconfig", w.c.Kubeconfig, "get", "applications.argoproj.io", "-A", "--no-headers")
			if err := cmd.Run(); err != nil {
				b.Fatalf("kubectl: %v", err)
			}
			b.ReportMetric(float64(time.Since(start).Milliseconds()), "kubectl-get-ms")
			b.ReportMetric(float64(cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss)/1024, "kubectl-rss-MB")
		}
		var first, full time.Duration
		d, first, full = openApps(b, w, live.New())
		b.ReportMetric(float64(first.Milliseconds()), "first-frame-ms")
		b.ReportMetric(float64(full.Milliseconds()), "all-loaded-ms")
		if n := len(d.m.Rows()); n != w.apps+1 {
			b.Fatalf("%d rows, want %d", n, w.apps+1)
		}
	})
	if d == nil {
		b.Fatal("the applications did not load")
	}
	// View render with every application loaded.
	b.Run("view", func(b *testing.B) {
		var ds []time.Duration
		for range 300 {
			start := time.Now()
			_ = d.m.View()
			ds = append(ds, time.Since(start))
		}
		b.ReportMetric(ms(pct(ds, 50)), "p50-ms")
		b.ReportMetric(ms(pct(ds, 99)), "p99-ms")
	})
	// One filter keystroke: the rows are filtered and sorted again, and
	// the frame drawn.
	b.Run("filter-keystroke", func(b *testing.B) {
		d.m.Update(tea.KeyPressMsg{Code: '/', Text: "/"})
		d.m.Update(tea.KeyPressMsg{Code: 's', Text: "s"})
		var ds []time.Duration
		for i := range 300 {
			start := time.Now()
			if i%2 == 0 {
				d.m.Update(tea.KeyPressMsg{Code: '1', Text: "1"})
			} else {
				d.m.Update(tea.KeyPressMsg{Code: tea.KeyBackspace})
			}
			_ = d.m.View()
			ds = append(ds, time.Since(start))
		}
		d.m.Update(tea.KeyPressMsg{Code: tea.KeyEscape})
		b.ReportMetric(ms(pct(ds, 50)), "p50-ms")
		b.ReportMetric(ms(pct(ds, 99)), "p99-ms")
	})
	// A status patch acknowledged -> the row updated, as percentiles, next
	// to a bare client-go watch on the same object (the floor).
	b.Run("patch-to-row", func(b *testing.B) {
		dyn := livetest.Dynamic(b, w.c.Config)
		floor := bareWatch(b, w)
		var lat, floorLat []time.Duration
		healthsCycle := []string{"Degraded", "Healthy"}
		for i := range 200 {
			want := healthsCycle[i%2]
			u, err := dyn.Resource(argocd.Applications).Namespace(w.probeNS).Get(b.Context(), w.probeApp, metav1.GetOptions{})
			if err != nil {
				b.Fatal(err)
			}
			if err := unstructured.SetNestedField(u.Object, want, "status", "health", "status"); err != nil {
				b.Fatal(err)
			}
			if _, err := dyn.Resource(argocd.Applications).Namespace(w.probeNS).Update(b.Context(), u, metav1.UpdateOptions{}); err != nil {
				b.Fatal(err)
			}
			acked := time.Now()
			floorDone := make(chan time.Duration, 1)
			go func() { floorDone <- floor(want, acked) }()
			for !probeHas(d.m, w.probeNS+"/"+w.probeApp, want) {
				d.step()
			}
			_ = d.m.View()
			lat = append(lat, time.Since(acked))
			floorLat = append(floorLat, <-floorDone)
		}
		b.ReportMetric(ms(pct(lat, 50)), "p50-ms")
		b.ReportMetric(ms(pct(lat, 99)), "p99-ms")
		b.ReportMetric(ms(pct(floorLat, 50)), "floor-p50-ms")
		b.ReportMetric(ms(pct(floorLat, 99)), "floor-p99-ms")
	})
	b.Run("binary-rss", func(b *testing.B) { binaryRSS(b, w) })
}

func probeHas(m *apps.Model, key, health string) bool {
	for _, a := range m.Rows() {
		if a.Key() == key {
			return a.Health == health
		}
	}
	return false
}

// bareWatch watches the probe application with client-go alone and returns
// a function that waits for the given health and says how long after acked
// it arrived.
func bareWatch(b *testing.B, w *benchWorld) func(health string, acked time.Time) time.Duration {
	dyn := livetest.Dynamic(b, w.c.Config)
	wi, err := dyn.Resource(argocd.Applications).Namespace(w.probeNS).Watch(b.Context(), metav1.ListOptions{FieldSelector: "metadata.name=" + w.probeApp})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(wi.Stop)
	return func(health string, acked time.Time) time.Duration {
		for ev := range wi.ResultChan() {
			u, ok := ev.Object.(*unstructured.Unstructured)
			if !ok {
				continue
			}
			if h, _, _ := unstructured.NestedString(u.Object, "status", "health", "status"); h == health {
				return time.Since(acked)
			}
		}
		return 0
	}
}

func pct(ds []time.Duration, p int) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, len(s)*p/100)]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// binaryRSS opens the real binary in tmux on the seeded cluster and reads
// its resident memory with every application listed, then with the
// Crossplane trees open as well.
func binaryRSS(b *testing.B, w *benchWorld) {
	idp := testworld.IdpBinary(b)
	term := testworld.StartTerminal(b, testworld.TerminalOptions{Env: benchEnv(b)}, idp, "--kubeconfig", w.c.Kubeconfig)
	start := time.Now()
	openLive(b, term, "Applications")
	term.WaitFor(fmt.Sprintf("%d applications", w.apps+1), 5*time.Minute)
	term.WaitFor("● live", time.Minute)
	b.ReportMetric(float64(time.Since(start).Milliseconds()), "tmux-all-loaded-ms")
	pid := pidOf(b, idp)
	rss, hwm := memory(b, pid)
	b.ReportMetric(rss, "apps-rss-MB")
	b.ReportMetric(hwm, "apps-peak-rss-MB")

	term.SendKeys("Escape")
	start = time.Now()
	openLive(b, term, "Crossplane")
	term.WaitFor(fmt.Sprintf("%d trees", w.mrs/5), 10*time.Minute)
	b.ReportMetric(float64(time.Since(start).Milliseconds()), "tmux-trees-loaded-ms")
	rss, hwm = memory(b, pid)
	b.ReportMetric(rss, "apps+trees-rss-MB")
	b.ReportMetric(hwm, "apps+trees-peak-rss-MB")
	term.SendKeys("C-c")
	term.WaitExit(time.Minute)

	if w.kubectlBin != "" {
		cmd := exec.Command(w.kubectlBin, "--kubeconfig", w.c.Kubeconfig, "get", livetest.FlexibleServerDBs.GroupResource().String(), "-A", "--no-headers")
		start := time.Now()
		if err := cmd.Run(); err != nil {
			b.Fatalf("kubectl: %v", err)
		}
		b.ReportMetric(float64(time.Since(start).Milliseconds()), "kubectl-get-mrs-ms")
		b.ReportMetric(float64(cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss)/1024, "kubectl-get-mrs-rss-MB")
	}
}

func benchEnv(b *testing.B) []string {
	home := b.TempDir()
	return []string{"HOME=" + home, "XDG_CONFIG_HOME=" + filepath.Join(home, ".config"), "XDG_CACHE_HOME=" + filepath.Join(home, ".cache"), "KUBECONFIG="}
}

// pidOf finds the process running the binary at path (the test built it
// into a folder of its own, so the path is unique).
func pidOf(b *testing.B, path string) int {
	b.Helper()
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if exe, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe")); err == nil && exe == path {
			return pid
		}
	}
	b.Fatalf("no process runs %s", path)
	return 0
}

// memory reads VmRSS and VmHWM (peak) of pid, in MB.
func memory(b *testing.B, pid int) (rss, peak float64) {
	b.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for _, l := range strings.Split(string(data), "\n") {
		f := strings.Fields(l)
		if len(f) < 2 {
			continue
		}
		kb, _ := strconv.ParseFloat(f[1], 64)
		switch f[0] {
		case "VmRSS:":
			rss = kb / 1024
		case "VmHWM:":
			peak = kb / 1024
		}
	}
	return rss, peak
}
