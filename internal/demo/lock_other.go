//go:build !unix

package demo

// lock is a no-op where flock is not available: two demos in one folder
// are then the user's to avoid.
func lock(string) (func(), error) { return func() {}, nil }
