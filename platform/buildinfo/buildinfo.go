// Package buildinfo reports which idp build is running.
//
// Release builds set the version and commit with the linker:
//
//	go build -ldflags "-X github.com/back-stack/idp/platform/buildinfo.Version=v1.2.3 \
//	  -X github.com/back-stack/idp/platform/buildinfo.Commit=$(git rev-parse HEAD)" ./cmd/idp
package buildinfo

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Set with -ldflags -X; see the package comment.
var (
	Version = "dev"
	Commit  = ""
)

// Info describes a build. The JSON names are part of `idp version -o json`.
type Info struct {
	Version   string `json:"version"`
	Commit    string `json:"commit"`
	GoVersion string `json:"goVersion"`
	Platform  string `json:"platform"`
}

// Get returns the running build's Info. Values not set by the linker fall back
// to what the Go toolchain recorded (module version, vcs.revision).
func Get() Info {
	bi, _ := debug.ReadBuildInfo()
	return get(Version, Commit, bi)
}

func get(version, commit string, bi *debug.BuildInfo) Info {
	info := Info{
		Version:   version,
		Commit:    commit,
		GoVersion: runtime.Version(),
		Platform:  runtime.GOOS + "/" + runtime.GOARCH,
	}
	if bi == nil {
		return info
	}
	if info.Version == "" || info.Version == "dev" {
		// `go install github.com/back-stack/idp/cmd/idp@v1.2.3` records the module version.
		if v := bi.Main.Version; v != "" && v != "(devel)" {
			info.Version = v
		}
	}
	if info.Commit == "" {
		info.Commit = vcsRevision(bi)
	}
	return info
}

func vcsRevision(bi *debug.BuildInfo) string {
	var rev string
	var modified bool
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if rev != "" && modified {
		rev += "-dirty"
	}
	return rev
}

// String is the human-readable form printed by `idp version`.
func (i Info) String() string {
	commit := i.Commit
	if commit == "" {
		commit = "unknown"
	}
	return fmt.Sprintf("idp %s\ncommit:   %s\ngo:       %s\nplatform: %s\n", i.Version, commit, i.GoVersion, i.Platform)
}
