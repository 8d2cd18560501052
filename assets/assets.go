// Package assets holds what idp ships inside its binary: the built-in
// golden-path templates and the platform's own manifests, handed out as
// fs.FS so that callers never depend on the files' location.
package assets

import (
	"embed"
	"io/fs"
)

// all: keeps the skeletons' dotfiles (.gitignore, .dockerignore).
//
//go:embed all:templates
var templates embed.FS

//go:embed platform
var platform embed.FS

// Templates is the folder of built-in templates: one folder per template,
// each with a template.yaml in Backstage's scaffolder format.
func Templates() fs.FS { return sub(templates, "templates") }

// Platform holds the platform's manifests, such as the database API's
// CompositeResourceDefinitions under database/.
func Platform() fs.FS { return sub(platform, "platform") }

//go:embed platform-manifests
var platformManifests embed.FS

// PlatformManifests holds the templates `idp bootstrap` renders into the
// GitOps repository (bootstrap/, platform/, infrastructure/), laid out as
// the repository is; see its README.md.
func PlatformManifests() fs.FS { return sub(platformManifests, "platform-manifests") }

// DatabaseXRD is the database API for Crossplane v2 (namespaced XRs);
// DatabaseClaimXRD the same API for platforms that use v1 claims.
const (
	DatabaseXRD      = "database/xrd.yaml"
	DatabaseClaimXRD = "database/xrd-claims.yaml"
	// DatabaseComposition composes the database API's XR into Azure
	// Database for PostgreSQL (a v2 Pipeline with function-patch-and-transform).
	DatabaseComposition = "database/composition.yaml"
)

func sub(f embed.FS, dir string) fs.FS {
	s, err := fs.Sub(f, dir)
	if err != nil {
		panic(err) // dir is a constant that go:embed has checked
	}
	return s
}
