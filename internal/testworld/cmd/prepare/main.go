// Command prepare readies the test world before `go test` runs: it builds
// (or finds cached) etcd, kube-apiserver and the real controllers
// (testworld.Components), downloads the modules whose CRDs the tests install,
// builds Crossplane's CRD generator and installs the Backstage backend from
// npm, printing progress, so no test waits minutes on a cold build inside its
// own timeout.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"time"

	"github.com/back-stack/idp/internal/testworld"
	"github.com/back-stack/idp/internal/xcrdgen"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	start := time.Now()
	bins, err := testworld.EnsureBinaries(ctx, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for _, mod := range []string{testworld.ArgoCDModule, testworld.CrossplaneModule} {
		if _, err := testworld.ModuleDir(ctx, mod); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	// The real controllers (Argo CD, ...), one build at a time.
	for _, c := range testworld.Components() {
		if _, err := c.Ensure(ctx, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	// Crossplane's own XRD-to-CRD code, built once, for the golden-path tests.
	if _, err := xcrdgen.Binary(ctx, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	// The Backstage backend from npm (catalog and scaffolder), installed once.
	backstage, err := testworld.EnsureBackstage(ctx, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("testworld: Backstage backend in %s\n", backstage.Dir)
	fmt.Printf("testworld: ready in %s (binaries in %s)\n", time.Since(start).Round(time.Second), bins.Dir())
}
