package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/back-stack/idp/gitops"
)

// newGitOpsCmd gives back change sets that were committed but not pushed
// (the network was down, the push conflicted or was refused, idp was killed).
func newGitOpsCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "gitops",
		Short: "Change sets idp committed but could not push: list, retry, write out as a patch, discard",
		Long: `Every change idp makes is one commit in the GitOps repository. A commit whose push
failed (network, conflict, a refusal, idp killed mid-push) is kept in idp's clone
until it is pushed, written out as a patch, or discarded. These commands reach it.`,
		Example: `  idp gitops pending
  idp gitops retry 20261123T210509-new-service-payments
  idp gitops patch 20261123T210509-new-service-payments > change.patch   # then: git am change.patch
  idp gitops discard 20261123T210509-new-service-payments`,
	}
	open := func(cmd *cobra.Command) (*gitops.Repo, error) {
		cfg, err := g.config(cmd)
		if err != nil {
			return nil, err
		}
		if cfg.GitOps == "" {
			return nil, errors.New("no GitOps repository is set: pass --gitops (or set gitops: in the idp config)")
		}
		return gitops.Open(cmd.Context(), cfg.GitOps, gitops.Options{})
	}
	cmd.AddCommand(newPendingCmd(open), newRetryCmd(open), newPatchCmd(open), newDiscardCmd(open))
	return cmd
}

// pendingJSON and pushedJSON are the -o json shapes.
type pendingJSON struct {
	ID      string   `json:"id"`
	Commit  string   `json:"commit"`
	Parent  string   `json:"parent,omitempty"`
	Branch  string   `json:"branch"`
	Paths   []string `json:"paths"`
	Message string   `json:"message"`
}

type pushedJSON struct {
	Commit         string `json:"commit"`
	Branch         string `json:"branch"`
	Attempts       int    `json:"attempts"`
	AlreadyApplied bool   `json:"alreadyApplied"`
	PullRequestURL string `json:"pullRequestURL,omitempty"`
}

type openRepo func(*cobra.Command) (*gitops.Repo, error)

func newPendingCmd(open openRepo) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "pending",
		Short: "List the change sets committed but not pushed, oldest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(output, outputText, outputJSON); err != nil {
				return err
			}
			repo, err := open(cmd)
			if err != nil {
				return err
			}
			defer repo.Close()
			pending, err := repo.Pending(cmd.Context())
			if err != nil {
				return err
			}
			if output == outputJSON {
				list := make([]pendingJSON, 0, len(pending))
				for _, c := range pending {
					list = append(list, pendingJSON{ID: c.ID, Commit: c.Hash, Parent: c.Parent, Branch: c.Branch, Paths: c.Paths, Message: c.Message})
				}
				return writeJSON(cmd.OutOrStdout(), list)
			}
			if len(pending) == 0 {
				fmt.Fprintln(cmd.OutOrStdout(), "nothing pending: every change set idp made is pushed")
				return nil
			}
			for _, c := range pending {
				fmt.Fprintf(cmd.OutOrStdout(), "%s  %s → %s  %s\n", c.ID, short(c.Hash), c.Branch, subjectOf(c.Message))
			}
			return nil
		},
	}
	addOutputFlag(cmd, &output, outputText, outputJSON)
	return cmd
}

func newRetryCmd(open openRepo) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "retry ID",
		Short: "Push a pending change set again, rebuilt on the branch's current tip (never forced)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(output, outputText, outputJSON); err != nil {
				return err
			}
			repo, err := open(cmd)
			if err != nil {
				return err
			}
			defer repo.Close()
			res, err := repo.PushPending(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if output == outputJSON {
				return writeJSON(cmd.OutOrStdout(), pushedJSON{Commit: res.Commit, Branch: res.Branch, Attempts: res.Attempts, AlreadyApplied: res.AlreadyApplied, PullRequestURL: res.PullRequestURL})
			}
			if res.AlreadyApplied {
				fmt.Fprintf(cmd.OutOrStdout(), "%s was already on %s; nothing pushed\n", args[0], res.Branch)
			} else {
				fmt.Fprintf(cmd.OutOrStdout(), "pushed %s to %s as %s\n", args[0], res.Branch, short(res.Commit))
			}
			if res.PullRequestURL != "" {
				fmt.Fprintf(cmd.OutOrStdout(), "open the pull request: %s\n", res.PullRequestURL)
			}
			return nil
		},
	}
	addOutputFlag(cmd, &output, outputText, outputJSON)
	return cmd
}

func newPatchCmd(open openRepo) *cobra.Command {
	return idCmd(open, "patch ID", "Write a pending change set to stdout as a patch (git format-patch form, for git am)",
		func(cmd *cobra.Command, repo *gitops.Repo, id string) error {
			return repo.WritePatch(cmd.Context(), id, cmd.OutOrStdout())
		})
}

func newDiscardCmd(open openRepo) *cobra.Command {
	return idCmd(open, "discard ID", "Drop a pending change set (write it out with patch first to keep it)",
		func(cmd *cobra.Command, repo *gitops.Repo, id string) error {
			if err := repo.Discard(cmd.Context(), id); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "discarded %s\n", id)
			return nil
		})
}

// idCmd is a command on one pending change set: it opens the repository,
// runs, and closes it.
func idCmd(open openRepo, use, short string, run func(*cobra.Command, *gitops.Repo, string) error) *cobra.Command {
	return &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			repo, err := open(cmd)
			if err != nil {
				return err
			}
			defer repo.Close()
			return run(cmd, repo, args[0])
		},
	}
}

func short(hash string) string {
	if len(hash) > 10 {
		return hash[:10]
	}
	return hash
}

func subjectOf(msg string) string {
	for i, r := range msg {
		if r == '\n' {
			return msg[:i]
		}
	}
	return msg
}
