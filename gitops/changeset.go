package gitops

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing/filemode"

	"github.com/back-stack/idp/gitops/secrets"
)

// ChangeSet is one change to the repository: it becomes exactly one commit.
type ChangeSet struct {
	// Files to add, update or delete.
	Files []FileChange
	// Message is the commit message; the first line is its subject.
	Message string
	// Author overrides the author from git config (and Options.Identity).
	Author *Signature
	// Base is the commit the change set was prepared against, usually
	// Preview's Base. When the branch has moved on since, paths changed
	// there in the meantime are a conflict. Empty means the current tip.
	Base string
	// PullRequest pushes to a new branch idp/<Slug> instead of the target
	// branch, for a pull request.
	PullRequest bool
	// Slug names the pull-request branch; by default it is made from the
	// message's subject.
	Slug string
	// AllowSecrets are the explicit exceptions to the secret scan every
	// change set passes before anything is written (secrets.allow in
	// .idp/platform.yaml).
	AllowSecrets []secrets.Allow
}

// FileChange is one path in a change set.
type FileChange struct {
	// Path is slash-separated and relative to the repository root.
	Path string
	// Content is the whole new content of the file (the link target for a
	// symbolic link).
	Content []byte
	// Mode: 0 or a permission without execute bits is a regular file, any
	// execute bit an executable, fs.ModeSymlink a symbolic link.
	Mode fs.FileMode
	// Delete removes the path: a file, or a directory with all it holds.
	Delete bool
}

// Signature names a person and, optionally, when they acted.
type Signature struct {
	Name, Email string
	When        time.Time
}

// ErrNothingToCommit is returned when a change set would not change the
// tree: no commit is made.
var ErrNothingToCommit = errors.New("gitops: nothing to commit: the change set matches the branch already")

// PathError reports a path that a change set may not touch; nothing has been
// written when it is returned.
type PathError struct {
	Path   string
	Reason string
}

func (e *PathError) Error() string { return fmt.Sprintf("gitops: path %q: %s", e.Path, e.Reason) }

// CheckPath reports whether p may be written by a change set: a clean,
// relative, slash-separated path that stays inside the repository and out of
// .git.
func CheckPath(p string) error {
	bad := func(reason string) error { return &PathError{Path: p, Reason: reason} }
	switch {
	case p == "":
		return bad("empty")
	case strings.ContainsRune(p, 0):
		return bad("contains a NUL byte")
	case strings.Contains(p, `\`):
		return bad(`contains a backslash; use "/" between directories`)
	case strings.HasPrefix(p, "/") || (len(p) >= 2 && p[1] == ':'):
		return bad("absolute; paths are relative to the repository root")
	}
	for _, c := range strings.Split(p, "/") {
		if c == ".." {
			return bad("escapes the repository")
		}
		if isDotGit(c) {
			return bad("inside .git, which only git itself may write")
		}
	}
	if clean := path.Clean(p); clean != p {
		return bad(fmt.Sprintf("not clean; write %q", clean))
	}
	return nil
}

// isDotGit matches ".git" as git's own protections do, including the
// spellings Windows and macOS file systems treat as the same name.
func isDotGit(c string) bool {
	t := strings.TrimRight(c, ". ")
	return strings.EqualFold(t, ".git") || strings.EqualFold(c, "git~1")
}

// gitMode maps a FileChange mode to the tree entry mode.
func gitMode(m fs.FileMode) (filemode.FileMode, error) {
	switch {
	case m&fs.ModeSymlink != 0:
		return filemode.Symlink, nil
	case m&fs.ModeType != 0:
		return 0, fmt.Errorf("unsupported file type %v", m.Type())
	case m&0o111 != 0:
		return filemode.Executable, nil
	}
	return filemode.Regular, nil
}

// validate checks the whole change set before anything is written.
func (cs *ChangeSet) validate() error {
	if strings.TrimSpace(cs.Message) == "" {
		return errors.New("gitops: a change set needs a commit message")
	}
	if cs.Author != nil && (cs.Author.Name == "" || cs.Author.Email == "") {
		return errors.New("gitops: the change set's author needs a name and an email")
	}
	if cs.PullRequest {
		if _, err := cs.branchSlug(); err != nil {
			return err
		}
	}
	paths := make([]string, 0, len(cs.Files))
	seen := map[string]bool{}
	for _, f := range cs.Files {
		if err := CheckPath(f.Path); err != nil {
			return err
		}
		if seen[f.Path] {
			return &PathError{Path: f.Path, Reason: "appears twice in the change set"}
		}
		seen[f.Path] = true
		if f.Delete && len(f.Content) > 0 {
			return &PathError{Path: f.Path, Reason: "deleted and given content"}
		}
		if !f.Delete {
			if _, err := gitMode(f.Mode); err != nil {
				return &PathError{Path: f.Path, Reason: err.Error()}
			}
		}
		paths = append(paths, f.Path)
	}
	sort.Strings(paths)
	for i := 1; i < len(paths); i++ {
		if strings.HasPrefix(paths[i], paths[i-1]+"/") {
			return &PathError{Path: paths[i], Reason: fmt.Sprintf("is inside %q, which the change set also writes", paths[i-1])}
		}
	}
	return cs.scan()
}

// scan refuses a change set holding anything that looks like a credential,
// in its files or its message: every commit idp makes passes here first.
func (cs *ChangeSet) scan() error {
	files := make([]secrets.File, 0, len(cs.Files)+1)
	for _, f := range cs.Files {
		if !f.Delete {
			files = append(files, secrets.File{Path: f.Path, Content: f.Content})
		}
	}
	files = append(files, secrets.File{Path: secrets.MessagePath, Content: []byte(cs.Message)})
	if err := secrets.Scan(files, cs.AllowSecrets); err != nil {
		return fmt.Errorf("gitops: %w", err)
	}
	return nil
}

// Paths lists the change set's paths, sorted.
func (cs *ChangeSet) Paths() []string {
	out := make([]string, 0, len(cs.Files))
	for _, f := range cs.Files {
		out = append(out, f.Path)
	}
	sort.Strings(out)
	return out
}

// subject is the first line of the message.
func subject(msg string) string {
	s, _, _ := strings.Cut(strings.TrimSpace(msg), "\n")
	return strings.TrimSpace(s)
}

// branchSlug is the pull-request branch name: idp/<slug>.
func (cs *ChangeSet) branchSlug() (string, error) {
	src := cs.Slug
	if src == "" {
		src = subject(cs.Message)
	}
	s := Slugify(src)
	if s == "" {
		return "", fmt.Errorf("gitops: cannot make a branch name from %q; set the change set's Slug", src)
	}
	return "idp/" + s, nil
}

// Slugify turns text into a branch-name component: lower case letters,
// digits and single dashes, at most 60 characters.
func Slugify(text string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(text) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
		default:
			dash = true
		}
	}
	s := b.String()
	if len(s) > 60 {
		s = s[:61]
		if i := strings.LastIndexByte(s, '-'); i > 0 {
			s = s[:i]
		} else {
			s = s[:60]
		}
	}
	return s
}
