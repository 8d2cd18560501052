// Command argocd is Argo CD's multicall binary cut down to the three commands
// the test world runs: the application controller, the repo-server and the
// git askpass helper the repo-server hands to git (as "argocd" on PATH with
// ARGOCD_BINARY_NAME=argocd-git-ask-pass). The commands are Argo CD's own
// packages; only the dispatch is here, so the build skips the API server,
// UI, Dex, ApplicationSet controller and CLI, which the tests never run.
//
// A fourth name, argocd-redis, serves an in-memory Redis (miniredis) on
// the address in its first argument, for the controller's and the
// repo-server's caches.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/alicebob/miniredis/v2"
	"github.com/spf13/cobra"
	"k8s.io/klog/v2"

	appcontroller "github.com/argoproj/argo-cd/v3/cmd/argocd-application-controller/commands"
	gitaskpass "github.com/argoproj/argo-cd/v3/cmd/argocd-git-ask-pass/commands"
	reposerver "github.com/argoproj/argo-cd/v3/cmd/argocd-repo-server/commands"
	"github.com/argoproj/argo-cd/v3/common"
	"github.com/argoproj/argo-cd/v3/util/log"
)

func init() {
	klog.SetLogger(log.NewLogrusLogger(log.NewWithCurrentConfig()))
}

func main() {
	// Upstream's main calls grpc.DisableSRVLookups here, which turns off
	// the DNS SRV lookups that gRPC's grpclb balancer switches on. That
	// balancer is linked into the full binary but not into this one, so the
	// lookups are already off (and the call would panic finding them so).
	name := filepath.Base(os.Args[0])
	if v := os.Getenv("ARGOCD_BINARY_NAME"); v != "" {
		name = v
	}
	var command *cobra.Command
	switch name {
	case common.CommandApplicationController:
		command = appcontroller.NewCommand()
	case common.CommandRepoServer:
		command = reposerver.NewCommand()
	case common.CommandGitAskPass:
		command = gitaskpass.NewCommand()
	case "argocd-redis":
		redis()
		return
	default:
		fmt.Fprintf(os.Stderr, "argocd (test world build): unknown command %q; set ARGOCD_BINARY_NAME to %s, %s, %s or argocd-redis\n",
			name, common.CommandApplicationController, common.CommandRepoServer, common.CommandGitAskPass)
		os.Exit(2)
	}
	if err := command.Execute(); err != nil {
		os.Exit(1)
	}
}

// redis serves miniredis on os.Args[1] until SIGTERM or SIGINT.
func redis() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: argocd-redis 127.0.0.1:PORT")
		os.Exit(2)
	}
	m := miniredis.NewMiniRedis()
	if err := m.StartAddr(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("argocd-redis: serving on %s\n", m.Addr())
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	<-sig
	m.Close()
}
