package gitops

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	gitssh "github.com/go-git/go-git/v5/plumbing/transport/ssh"
	"github.com/skeema/knownhosts"
	"golang.org/x/crypto/ssh"
)

// AuthError is a remote refusing idp's credentials, or asking for some when
// idp found none. Source says where the credentials came from.
type AuthError struct {
	URL    string
	Source string
	Err    error
}

func (e *AuthError) Error() string {
	switch {
	case e.Source == "":
		return fmt.Sprintf("gitops: %s needs credentials and none were found: set IDP_GIT_TOKEN (GITHUB_TOKEN for github.com), configure a git credential helper, or use an ssh URL with an ssh agent (%v)", e.URL, e.Err)
	case errors.Is(e.Err, transport.ErrAuthorizationFailed):
		return fmt.Sprintf("gitops: %s refused access with the credentials from %s: they lack permission to read or push (%v)", e.URL, e.Source, e.Err)
	}
	return fmt.Sprintf("gitops: authentication to %s failed with the credentials from %s: check them (%v)", e.URL, e.Source, e.Err)
}

func (e *AuthError) Unwrap() error { return e.Err }

func isAuthErr(err error) bool {
	return errors.Is(err, transport.ErrAuthenticationRequired) || errors.Is(err, transport.ErrAuthorizationFailed) ||
		(err != nil && strings.Contains(err.Error(), "ssh: unable to authenticate"))
}

// staticAuth finds the credentials that need no asking, in order: Options,
// the URL itself, the environment; ssh remotes use a key file or the agent.
func (r *Repo) staticAuth() (transport.AuthMethod, string, error) {
	ep := r.remote.ep
	switch ep.Protocol {
	case "http", "https":
		user := func(dflt string) string { return or(r.opts.Username, or(ep.User, dflt)) }
		if r.opts.Token != "" {
			return &githttp.BasicAuth{Username: user("x-access-token"), Password: r.opts.Token}, "Options.Token", nil
		}
		if r.remote.password != "" {
			return &githttp.BasicAuth{Username: ep.User, Password: r.remote.password}, "the URL", nil
		}
		if t := os.Getenv("IDP_GIT_TOKEN"); t != "" {
			return &githttp.BasicAuth{Username: user(or(os.Getenv("IDP_GIT_USERNAME"), "x-access-token")), Password: t}, "IDP_GIT_TOKEN", nil
		}
		// Forge tokens go only to their own forge, never to another host.
		host := strings.ToLower(ep.Host)
		for _, v := range forgeTokenVars(host) {
			if t := os.Getenv(v); t != "" {
				return &githttp.BasicAuth{Username: user("x-access-token"), Password: t}, v, nil
			}
		}
		if r.helperAuth != nil {
			return r.helperAuth, "the git credential helper", nil
		}
		return nil, "", nil
	case "ssh":
		return r.sshAuth()
	}
	return nil, "", nil
}

func forgeTokenVars(host string) []string {
	switch {
	case host == "github.com":
		return []string{"GITHUB_TOKEN", "GH_TOKEN"}
	case host == "dev.azure.com" || host == "ssh.dev.azure.com" || strings.HasSuffix(host, ".visualstudio.com"):
		return []string{"AZURE_DEVOPS_EXT_PAT", "SYSTEM_ACCESSTOKEN"}
	}
	return nil
}

// withAuth runs a network operation, asking git's credential helper (as git
// would) only when the server wants credentials that idp does not have. The
// helper is told whether they worked (approve/reject), as git does.
func (r *Repo) withAuth(ctx context.Context, op func(transport.AuthMethod) error) error {
	auth, source, err := r.staticAuth()
	if err != nil {
		return err
	}
	err = op(auth)
	if !isAuthErr(err) {
		return err
	}
	if auth != nil || (r.remote.ep.Protocol != "http" && r.remote.ep.Protocol != "https") {
		if source == "the git credential helper" {
			r.helperAuth = nil
			credential(ctx, r.gitDir, "reject", r.helperCred)
		}
		return &AuthError{URL: r.remote.url, Source: source, Err: err}
	}
	cred, ok := credential(ctx, r.gitDir, "fill", r.credentialQuery())
	if !ok || cred["password"] == "" {
		return &AuthError{URL: r.remote.url, Err: err}
	}
	helper := &githttp.BasicAuth{Username: cred["username"], Password: cred["password"]}
	err = op(helper)
	if isAuthErr(err) {
		credential(ctx, r.gitDir, "reject", cred)
		return &AuthError{URL: r.remote.url, Source: "the git credential helper", Err: err}
	}
	if err == nil {
		credential(ctx, r.gitDir, "approve", cred)
	}
	r.helperAuth, r.helperCred = helper, cred
	return err
}

func (r *Repo) credentialQuery() map[string]string {
	ep := r.remote.ep
	host := ep.Host
	if ep.Port != 0 && !(ep.Protocol == "https" && ep.Port == 443) && !(ep.Protocol == "http" && ep.Port == 80) {
		host = net.JoinHostPort(ep.Host, strconv.Itoa(ep.Port))
	}
	q := map[string]string{"protocol": ep.Protocol, "host": host, "path": strings.TrimPrefix(ep.Path, "/")}
	if ep.User != "" {
		q["username"] = ep.User
	}
	return q
}

// credential runs `git credential <action>`. Terminal prompts are off: idp
// may own the terminal, and a missing credential is reported, not asked for.
func credential(ctx context.Context, dir, action string, fields map[string]string) (map[string]string, bool) {
	if _, err := exec.LookPath("git"); err != nil || fields == nil {
		return nil, false
	}
	var in bytes.Buffer
	for _, k := range []string{"protocol", "host", "path", "username", "password"} {
		if v, ok := fields[k]; ok {
			fmt.Fprintf(&in, "%s=%s\n", k, v)
		}
	}
	in.WriteString("\n")
	cmd := exec.CommandContext(ctx, "git", "credential", action)
	if _, err := os.Stat(dir); err != nil {
		dir = filepath.Dir(dir) // a clone still being made: its cache folder
	}
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0")
	cmd.Stdin = &in
	out, err := cmd.Output()
	if err != nil {
		return nil, false
	}
	res := map[string]string{}
	for k, v := range fields {
		res[k] = v
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			res[k] = v
		}
	}
	return res, true
}

// sshAuth uses, in order, a key file (Options.SSHKeyFile, IDP_SSH_KEY), the
// ssh agent (SSH_AUTH_SOCK), or the default keys in ~/.ssh. Host keys are
// always checked against known_hosts (SSH_KNOWN_HOSTS, ~/.ssh/known_hosts,
// /etc/ssh/ssh_known_hosts); an unknown host is refused, never trusted.
func (r *Repo) sshAuth() (transport.AuthMethod, string, error) {
	ep := r.remote.ep
	user := or(ep.User, "git")
	port := ep.Port
	if port == 0 {
		port = 22
	}
	db, err := gitssh.NewKnownHostsDb()
	if err != nil {
		return nil, "", fmt.Errorf("gitops: ssh to %s needs a known_hosts file to check the host key: %w", ep.Host, err)
	}
	addr := net.JoinHostPort(ep.Host, strconv.Itoa(port))
	check := hostKeyCheck(db.HostKeyCallback(), ep.Host, port)
	algos := db.HostKeyAlgorithms(addr)

	keyFile := or(r.opts.SSHKeyFile, os.Getenv("IDP_SSH_KEY"))
	if keyFile == "" && os.Getenv("SSH_AUTH_SOCK") != "" {
		a, err := gitssh.NewSSHAgentAuth(user)
		if err != nil {
			return nil, "", fmt.Errorf("gitops: ssh agent (SSH_AUTH_SOCK): %w", err)
		}
		a.HostKeyCallback, a.HostKeyAlgorithms = check, algos
		return a, "the ssh agent", nil
	}
	var candidates []string
	if keyFile != "" {
		candidates = []string{keyFile}
	} else if home, err := os.UserHomeDir(); err == nil {
		for _, n := range []string{"id_ed25519", "id_ecdsa", "id_rsa"} {
			candidates = append(candidates, filepath.Join(home, ".ssh", n))
		}
	}
	var errs []error
	for _, f := range candidates {
		if _, err := os.Stat(f); err != nil && keyFile == "" {
			continue
		}
		k, err := gitssh.NewPublicKeysFromFile(user, f, os.Getenv("IDP_SSH_KEY_PASSPHRASE"))
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", f, err))
			continue
		}
		k.HostKeyCallback, k.HostKeyAlgorithms = check, algos
		return k, "ssh key " + f, nil
	}
	return nil, "", fmt.Errorf("gitops: no ssh credentials for %s: start an ssh agent with your key, or set IDP_SSH_KEY (and IDP_SSH_KEY_PASSPHRASE for an encrypted key): %w",
		r.remote.url, errors.Join(errs...))
}

// hostKeyCheck turns knownhosts' errors into ones that say what to do.
func hostKeyCheck(inner ssh.HostKeyCallback, host string, port int) ssh.HostKeyCallback {
	return func(hostname string, remote net.Addr, key ssh.PublicKey) error {
		err := inner(hostname, remote, key)
		switch {
		case knownhosts.IsHostUnknown(err):
			scan := "ssh-keyscan " + host
			if port != 22 {
				scan = fmt.Sprintf("ssh-keyscan -p %d %s", port, host)
			}
			return fmt.Errorf("host key of %s (%s %s) is not in known_hosts: verify the fingerprint, then add it (%s >> ~/.ssh/known_hosts): %w",
				hostname, key.Type(), ssh.FingerprintSHA256(key), scan, err)
		case knownhosts.IsHostKeyChanged(err):
			return fmt.Errorf("host key of %s (%s %s) does not match known_hosts: the connection may be intercepted, or the host key changed; refusing: %w",
				hostname, key.Type(), ssh.FingerprintSHA256(key), err)
		}
		return err
	}
}
