// Package platform is idp's domain: plain Go with context.Context, callable
// from the TUI and from the plain commands alike. Its subpackages never
// import tui/ or any Charm library; boundary_test.go enforces that.
package platform
