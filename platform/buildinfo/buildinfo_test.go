package buildinfo

import (
	"encoding/json"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

func TestGetPrefersLinkerValues(t *testing.T) {
	bi := &debug.BuildInfo{
		Main:     debug.Module{Version: "v9.9.9"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "fromvcs"}},
	}
	got := get("v1.2.3", "abc123", bi)
	if got.Version != "v1.2.3" || got.Commit != "abc123" {
		t.Fatalf("got %+v, want linker values", got)
	}
	if got.GoVersion != runtime.Version() || got.Platform != runtime.GOOS+"/"+runtime.GOARCH {
		t.Fatalf("go/platform wrong: %+v", got)
	}
}

func TestGetFallsBackToBuildInfo(t *testing.T) {
	bi := &debug.BuildInfo{
		Main: debug.Module{Version: "v0.4.0"},
		Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "deadbeef"},
			{Key: "vcs.modified", Value: "true"},
		},
	}
	got := get("dev", "", bi)
	if got.Version != "v0.4.0" || got.Commit != "deadbeef-dirty" {
		t.Fatalf("got %+v", got)
	}
	got = get("dev", "", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}})
	if got.Version != "dev" || got.Commit != "" {
		t.Fatalf("devel build: got %+v", got)
	}
	if got := get("dev", "", nil); got.Version != "dev" {
		t.Fatalf("nil build info: got %+v", got)
	}
}

func TestInfoJSONAndString(t *testing.T) {
	i := Info{Version: "v1", Commit: "", GoVersion: "go1.26", Platform: "linux/amd64"}
	b, err := json.Marshal(i)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"version":"v1","commit":"","goVersion":"go1.26","platform":"linux/amd64"}`
	if string(b) != want {
		t.Fatalf("json = %s, want %s", b, want)
	}
	if s := i.String(); !strings.Contains(s, "idp v1") || !strings.Contains(s, "commit:   unknown") {
		t.Fatalf("String() = %q", s)
	}
}
