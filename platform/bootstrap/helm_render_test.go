package bootstrap

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"helm.sh/helm/v4/pkg/chart/v2/loader"
	chartutil "helm.sh/helm/v4/pkg/chart/v2/util"
)

// A chart repository: the index picks the version (exact, a range, or the
// newest stable one), the archive is checked against the index's digest.
func TestChartFromRepository(t *testing.T) {
	c, err := loader.Load(filepath.Join("testdata", "charts", "lifecycle"))
	if err != nil {
		t.Fatal(err)
	}
	archive, err := chartutil.Save(c, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(archive)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	digest := hex.EncodeToString(sum[:])
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.URL.Path)
		switch r.URL.Path {
		case "/stable/index.yaml":
			fmt.Fprintf(w, `apiVersion: v1
entries:
  lifecycle:
  - {version: 2.0.0-rc.1, urls: [charts/lifecycle-2.0.0-rc.1.tgz], digest: %[1]s}
  - {version: 1.1.0, urls: [charts/lifecycle-1.1.0.tgz], digest: %[1]s}
  - {version: 1.0.0, urls: ["%[2]s/elsewhere/lifecycle-1.0.0.tgz"], digest: %[1]s}
  - {version: 0.9.0, urls: [charts/lifecycle-0.9.0.tgz], digest: "0000"}
`, digest, "http://"+r.Host)
		case "/stable/charts/lifecycle-2.0.0-rc.1.tgz", "/stable/charts/lifecycle-1.1.0.tgz", "/elsewhere/lifecycle-1.0.0.tgz", "/stable/charts/lifecycle-0.9.0.tgz":
			w.Write(data)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	for _, tc := range []struct{ version, archive, err string }{
		{"", "/stable/charts/lifecycle-1.1.0.tgz", ""},
		{"~1.0", "/elsewhere/lifecycle-1.0.0.tgz", ""},
		{"2.0.0-rc.1", "/stable/charts/lifecycle-2.0.0-rc.1.tgz", ""},
		{"0.9.0", "", "the archive's sha256"},
		{"3.x", "", `no version "3.x"`},
	} {
		got = nil
		ch, err := fromRepository(context.Background(), srv.Client(), srv.URL+"/stable", "lifecycle", tc.version)
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("version %q: error %v, want %q", tc.version, err, tc.err)
			}
		case err != nil:
			t.Errorf("version %q: %v", tc.version, err)
		case ch.Name() != "lifecycle" || len(got) != 2 || got[1] != tc.archive:
			t.Errorf("version %q: chart %s from %v, want %s", tc.version, ch.Name(), got, tc.archive)
		}
	}
	if _, err := fromRepository(context.Background(), srv.Client(), srv.URL+"/stable", "nope", ""); err == nil || !strings.Contains(err.Error(), `no chart "nope"`) {
		t.Errorf("a missing chart: %v", err)
	}
	if _, err := fromRepository(context.Background(), srv.Client(), srv.URL+"/missing", "lifecycle", ""); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("a missing repository: %v", err)
	}
}
