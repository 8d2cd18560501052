package gitops

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"time"
	"unicode"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/format/packfile"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp/capability"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/plumbing/transport/client"
	"github.com/go-git/go-git/v5/storage"
)

// Result is a pushed change set. With an error, Push and Apply still
// return it when they got as far as the remote: Attempts and the server's
// RemoteMessages then explain the failure.
type Result struct {
	// Commit is the commit now at the tip of Branch.
	Commit string
	// Branch is the branch that was updated: the target, or idp/<slug>.
	Branch string
	// Attempts counts the pushes; more than one means the branch moved and
	// the change set was rebuilt on its new tip (Rebuilt).
	Attempts int
	Rebuilt  bool
	// AlreadyApplied: the branch already had exactly this change (an
	// earlier, interrupted run pushed it), so nothing new was pushed.
	AlreadyApplied bool
	// PullRequestURL opens a pull request for a pull-request branch, when
	// the remote is a forge idp recognises (or the server printed one).
	PullRequestURL string
	// RemoteMessages are the lines the server printed ("remote: ...").
	RemoteMessages []string
}

// RejectedError is a push the remote refused for a reason other than the
// branch having moved (a protected branch, a hook). Nothing changed there.
type RejectedError struct {
	Branch, Reason, Pending string
	// Messages are the server's own words (its "remote:" lines: a hook's
	// output, GitHub's protected-branch text), which say why.
	Messages []string
}

func (e *RejectedError) Error() string {
	msg := fmt.Sprintf("gitops: the remote rejected the push to %s: %s; nothing changed there. The change set is kept as pending commit %s",
		e.Branch, e.Reason, e.Pending)
	if len(e.Messages) == 0 {
		return msg
	}
	lines := e.Messages
	if len(lines) > maxRemoteLines {
		lines = append(lines[:maxRemoteLines:maxRemoteLines], fmt.Sprintf("(%d more lines)", len(e.Messages)-maxRemoteLines))
	}
	return msg + ". The server said:\n  remote: " + strings.Join(lines, "\n  remote: ")
}

// maxRemoteLines bounds how much of the server's output an error repeats.
const maxRemoteLines = 20

// ErrTooManyAttempts is returned (wrapped) when the branch kept moving
// under every attempt; the change set stays pending.
var ErrTooManyAttempts = errors.New("gitops: the branch kept moving while pushing")

// Push pushes a pending commit. When the branch has moved, it fetches,
// rebuilds the same change set on the new tip (a *ConflictError when the
// same paths changed there) and tries again, up to Options.MaxAttempts
// times. It never force-pushes: every update names the exact commit it
// replaces, and the server refuses it if the branch moved meanwhile.
func (r *Repo) Push(ctx context.Context, c *Commit) (*Result, error) {
	var res *Result
	err := r.locked(ctx, func() error {
		var err error
		res, err = r.push(ctx, c)
		return err
	})
	return res, err
}

func (r *Repo) push(ctx context.Context, c *Commit) (*Result, error) {
	res := &Result{Branch: c.Branch}
	for {
		res.Attempts++
		moved, msgs, err := r.update(ctx, c)
		res.RemoteMessages = append(res.RemoteMessages, msgs...)
		if err != nil {
			return res, err
		}
		if !moved {
			break
		}
		if res.Attempts >= r.opts.MaxAttempts {
			return res, fmt.Errorf("%w: %d attempts to push to %s; the change set is kept as pending commit %s", ErrTooManyAttempts, res.Attempts, c.Branch, c.ID)
		}
		if err := r.backoff(ctx, res.Attempts); err != nil {
			return res, err
		}
		if r.remote != nil {
			if _, err := r.fetch(ctx); err != nil {
				return res, err
			}
		}
		parent, err := r.parentFor(c.Branch)
		if err != nil {
			return res, err
		}
		if parent == c.hash { // an interrupted run pushed this very commit
			break
		}
		err = r.build(c, parent)
		if errors.Is(err, ErrNothingToCommit) {
			res.AlreadyApplied, res.Commit = true, parent.String()
			return res, r.st.RemoveReference(c.pendingRef())
		}
		if err != nil {
			return res, err
		}
		res.Rebuilt = true
		if err := r.save(c); err != nil {
			return res, err
		}
	}
	res.Commit = c.Hash
	if r.remote != nil {
		if err := r.st.SetReference(plumbing.NewHashReference(r.trackingRef(c.Branch), c.hash)); err != nil {
			return res, err
		}
		if c.Branch != r.branch {
			res.PullRequestURL = or(CompareURL(r.opts.Forge, r.remote.url, r.branch, c.Branch), prURLFromMessages(res.RemoteMessages))
		}
	}
	return res, r.st.RemoveReference(c.pendingRef())
}

// backoff waits a little, with jitter, so racing writers spread out.
func (r *Repo) backoff(ctx context.Context, attempt int) error {
	d := time.Duration(10<<min(attempt, 7)) * time.Millisecond
	d = d/2 + rand.N(d)
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

// update moves the branch from c's parent to c. moved reports that the
// branch is somewhere else now (the caller rebuilds and retries).
func (r *Repo) update(ctx context.Context, c *Commit) (moved bool, msgs []string, err error) {
	name := plumbing.NewBranchReferenceName(c.Branch)
	if r.remote == nil {
		cur, ok, err := r.tip(c.Branch)
		if err != nil {
			return false, nil, err
		}
		if cur == c.hash {
			return false, nil, nil
		}
		if ok && cur != c.parent {
			return true, nil, nil
		}
		err = r.st.CheckAndSetReference(plumbing.NewHashReference(name, c.hash), plumbing.NewHashReference(name, cur))
		if errors.Is(err, storage.ErrReferenceHasChanged) {
			return true, nil, nil
		}
		return false, nil, err
	}
	err = r.withAuth(ctx, func(auth transport.AuthMethod) error {
		moved, msgs, err = r.sendPack(ctx, auth, c)
		return err
	})
	if err != nil {
		var re *RejectedError
		if !errors.As(err, &re) {
			err = r.netErr("pushing to", err)
		}
	}
	return moved, msgs, err
}

func (r *Repo) sendPack(ctx context.Context, auth transport.AuthMethod, c *Commit) (moved bool, msgs []string, err error) {
	ep, err := transport.NewEndpoint(r.remote.url)
	if err != nil {
		return false, nil, err
	}
	cl, err := client.NewClient(ep)
	if err != nil {
		return false, nil, err
	}
	sess, err := cl.NewReceivePackSession(ep, auth)
	if err != nil {
		return false, nil, err
	}
	defer sess.Close()
	ar, err := sess.AdvertisedReferencesContext(ctx)
	if err != nil && !errors.Is(err, transport.ErrEmptyRemoteRepository) {
		return false, nil, err
	}
	name := plumbing.NewBranchReferenceName(c.Branch)
	var cur plumbing.Hash
	if ar != nil {
		cur = ar.References[name.String()]
	}
	switch {
	case cur == c.hash:
		return false, nil, nil // pushed by an earlier, interrupted run
	case !cur.IsZero() && cur != c.parent:
		return true, nil, nil
	}

	var pack bytes.Buffer
	enc := packfile.NewEncoder(&pack, c.objs, false)
	if _, err := enc.Encode(c.objs.order, 0); err != nil {
		return false, nil, fmt.Errorf("gitops: packing %s: %w", c.Hash, err)
	}
	caps := capability.NewList()
	if ar != nil {
		caps = ar.Capabilities
	}
	req := packp.NewReferenceUpdateRequestFromCapabilities(caps)
	var remote bytes.Buffer
	var progress io.Writer = &remote
	if r.opts.Progress != nil {
		progress = io.MultiWriter(&remote, r.opts.Progress)
	}
	req.Progress = progress
	if caps.Supports(capability.Sideband64k) {
		req.Capabilities.Set(capability.Sideband64k)
	} else if caps.Supports(capability.Sideband) {
		req.Capabilities.Set(capability.Sideband)
	}
	req.Commands = []*packp.Command{{Name: name, Old: cur, New: c.hash}}
	req.Packfile = io.NopCloser(&pack)
	rs, err := sess.ReceivePack(ctx, req)
	msgs = remoteLines(remote.String())
	if rs == nil {
		if err != nil {
			return false, msgs, err
		}
		// No report from the server: look at the branch to learn the outcome.
		now, lerr := r.list(ctx)
		if lerr != nil {
			return false, msgs, lerr
		}
		switch now.refs[name] {
		case c.hash:
			return false, msgs, nil
		case cur:
			return false, msgs, &RejectedError{Branch: c.Branch, Reason: "refused without a reason", Pending: c.ID, Messages: msgs}
		}
		return true, msgs, nil
	}
	if rs.UnpackStatus != "ok" {
		err := fmt.Errorf("gitops: the remote could not unpack the pushed objects: %s", rs.UnpackStatus)
		if len(msgs) > 0 {
			err = fmt.Errorf("%w. The server said:\n  remote: %s", err, strings.Join(msgs, "\n  remote: "))
		}
		return false, msgs, err
	}
	for _, cs := range rs.CommandStatuses {
		if cs.Error() == nil {
			continue
		}
		// Refused: a race (the branch moved after it was advertised) or a
		// real refusal. Ask again to tell which.
		now, lerr := r.list(ctx)
		if lerr != nil {
			return false, msgs, lerr
		}
		if now.refs[name] != cur {
			return true, msgs, nil
		}
		return false, msgs, &RejectedError{Branch: c.Branch, Reason: cs.Status, Pending: c.ID, Messages: msgs}
	}
	return false, msgs, nil
}

// remoteLines splits the server's sideband messages into lines.
func remoteLines(s string) []string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(strings.ReplaceAll(s, "\r", "\n")))
	for sc.Scan() {
		if l := strings.TrimSpace(strings.Map(printable, sc.Text())); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// printable drops control characters (terminal escapes a server could send)
// from what idp repeats of the server's output.
func printable(r rune) rune {
	if r == '\t' || !unicode.IsControl(r) {
		return r
	}
	return -1
}
