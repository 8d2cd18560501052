package gitops

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/back-stack/idp/internal/testworld"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
	"golang.org/x/crypto/ssh/knownhosts"
)

// sshGitServer is a real ssh server (golang.org/x/crypto/ssh) that runs
// git upload-pack / receive-pack for the commands clients send, over bare
// repositories in root: what GitHub or Azure DevOps look like over ssh.
type sshGitServer struct {
	addr    string
	port    int
	hostKey ssh.PublicKey
	root    string
}

func startSSHGitServer(t *testing.T, authorized ssh.PublicKey) *sshGitServer {
	t.Helper()
	_, hostPriv, _ := ed25519.GenerateKey(rand.Reader)
	hostSigner, err := ssh.NewSignerFromKey(hostPriv)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &ssh.ServerConfig{PublicKeyCallback: func(_ ssh.ConnMetadata, k ssh.PublicKey) (*ssh.Permissions, error) {
		if string(k.Marshal()) == string(authorized.Marshal()) {
			return nil, nil
		}
		return nil, errors.New("key not authorized")
	}}
	cfg.AddHostKey(hostSigner)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	s := &sshGitServer{addr: ln.Addr().String(), port: ln.Addr().(*net.TCPAddr).Port, hostKey: hostSigner.PublicKey(), root: t.TempDir()}
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go s.serve(conn, cfg)
		}
	}()
	return s
}

func (s *sshGitServer) serve(conn net.Conn, cfg *ssh.ServerConfig) {
	_, chans, reqs, err := ssh.NewServerConn(conn, cfg)
	if err != nil {
		conn.Close()
		return
	}
	go ssh.DiscardRequests(reqs)
	for nc := range chans {
		if nc.ChannelType() != "session" {
			nc.Reject(ssh.UnknownChannelType, "session only")
			continue
		}
		ch, reqs, err := nc.Accept()
		if err != nil {
			continue
		}
		go s.session(ch, reqs)
	}
}

func (s *sshGitServer) session(ch ssh.Channel, reqs <-chan *ssh.Request) {
	defer ch.Close()
	for req := range reqs {
		if req.Type != "exec" {
			req.Reply(req.Type == "env", nil)
			continue
		}
		n := binary.BigEndian.Uint32(req.Payload)
		line := string(req.Payload[4 : 4+n])
		prog, arg, _ := strings.Cut(line, " ")
		if prog != "git-upload-pack" && prog != "git-receive-pack" {
			req.Reply(false, nil)
			return
		}
		req.Reply(true, nil)
		cmd := exec.Command("git", strings.TrimPrefix(prog, "git-"), filepath.Join(s.root, strings.Trim(arg, "'/")))
		cmd.Env = testworld.GitEnv()
		stdin, _ := cmd.StdinPipe()
		cmd.Stdout, cmd.Stderr = ch, ch.Stderr()
		code := uint32(0)
		if err := cmd.Start(); err != nil {
			code = 127
		} else {
			go func() { io.Copy(stdin, ch); stdin.Close() }()
			if err := cmd.Wait(); err != nil {
				code = 1
			}
		}
		ch.SendRequest("exit-status", false, binary.BigEndian.AppendUint32(nil, code))
		return
	}
}

func (s *sshGitServer) url(name string) string {
	return fmt.Sprintf("ssh://git@127.0.0.1:%d/%s.git", s.port, name)
}

// startAgent serves an ssh agent holding key on a unix socket.
func startAgent(t *testing.T, key ed25519.PrivateKey) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "idp-agent") // short: unix socket paths are limited
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	sock := filepath.Join(dir, "agent.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	keyring := agent.NewKeyring()
	if err := keyring.Add(agent.AddedKey{PrivateKey: key}); err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { agent.ServeAgent(keyring, c); c.Close() }()
		}
	}()
	return sock
}

func writeKnownHosts(t *testing.T, port int, key ssh.PublicKey) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "known_hosts")
	line := knownhosts.Line([]string{knownhosts.Normalize(fmt.Sprintf("127.0.0.1:%d", port))}, key)
	if err := os.WriteFile(f, []byte(line+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestSSHAgentAndKnownHosts(t *testing.T) {
	isolate(t)
	userPub, userKey, _ := ed25519.GenerateKey(rand.Reader)
	sshPub, _ := ssh.NewPublicKey(userPub)
	srv := startSSHGitServer(t, sshPub)
	repo := filepath.Join(srv.root, "gitops.git")
	testworld.Git(t, "", "init", "--quiet", "--bare", "--initial-branch=main", repo)
	work := t.TempDir()
	testworld.Git(t, "", "clone", "--quiet", repo, work)
	writeFiles(t, work, map[string]string{"a.yaml": "a\n"})
	testworld.Git(t, work, "add", "-A")
	testworld.Git(t, work, "commit", "--quiet", "-m", "seed")
	testworld.Git(t, work, "push", "--quiet", "origin", "HEAD:main")

	t.Setenv("SSH_AUTH_SOCK", startAgent(t, userKey))
	t.Setenv("SSH_KNOWN_HOSTS", writeKnownHosts(t, srv.port, srv.hostKey))
	r, err := Open(ctxT(t), srv.url("gitops"), Options{CacheDir: t.TempDir()})
	if err != nil {
		t.Fatalf("Open over ssh with the agent: %v", err)
	}
	defer r.Close()
	if _, err := r.Apply(ctxT(t), ChangeSet{Message: "over ssh", Files: []FileChange{write("b.yaml", "b\n")}}); err != nil {
		t.Fatalf("Apply over ssh: %v", err)
	}
	testworld.Git(t, repo, "fsck", "--strict", "--no-dangling")
	if got := testworld.Git(t, repo, "log", "--format=%s", "main"); got != "over ssh\nseed" {
		t.Fatalf("history %q", got)
	}

	// A key file instead of the agent.
	t.Setenv("SSH_AUTH_SOCK", "")
	block, err := ssh.MarshalPrivateKey(userKey, "")
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(t.TempDir(), "id_ed25519")
	os.WriteFile(keyFile, pem.EncodeToMemory(block), 0o600)
	t.Setenv("IDP_SSH_KEY", keyFile)
	r2, err := Open(ctxT(t), srv.url("gitops"), Options{CacheDir: t.TempDir()})
	if err != nil {
		t.Fatalf("Open with IDP_SSH_KEY: %v", err)
	}
	r2.Close()

	// An unknown host is refused, not trusted on first use.
	otherPub, _, _ := ed25519.GenerateKey(rand.Reader)
	otherKey, _ := ssh.NewPublicKey(otherPub)
	t.Setenv("SSH_KNOWN_HOSTS", writeKnownHosts(t, srv.port+1, otherKey))
	_, err = Open(ctxT(t), srv.url("gitops"), Options{CacheDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "not in known_hosts") || !strings.Contains(err.Error(), ssh.FingerprintSHA256(srv.hostKey)) {
		t.Fatalf("unknown host: %v", err)
	}
	// A changed host key is refused.
	t.Setenv("SSH_KNOWN_HOSTS", writeKnownHosts(t, srv.port, otherKey))
	_, err = Open(ctxT(t), srv.url("gitops"), Options{CacheDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "does not match known_hosts") {
		t.Fatalf("changed host key: %v", err)
	}
	// A key the server does not accept fails as an authentication error.
	_, strangerKey, _ := ed25519.GenerateKey(rand.Reader)
	t.Setenv("IDP_SSH_KEY", "")
	t.Setenv("SSH_AUTH_SOCK", startAgent(t, strangerKey))
	t.Setenv("SSH_KNOWN_HOSTS", writeKnownHosts(t, srv.port, srv.hostKey))
	_, err = Open(ctxT(t), srv.url("gitops"), Options{CacheDir: t.TempDir()})
	var ae *AuthError
	if !errors.As(err, &ae) || ae.Source != "the ssh agent" {
		t.Fatalf("unauthorized key: %v", err)
	}
}
