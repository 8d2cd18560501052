// Package secrets is the one secret scanner in front of every commit idp
// makes: the GitOps repository, new service repositories, audit records and
// the bootstrap. It runs gitleaks' detection library with gitleaks' own,
// maintained default rules; the only exceptions are the explicit ones an
// allow-list names (secrets.allow in .idp/platform.yaml).
//
// The rules are compiled on the first scan, not at start-up, so a command
// that never commits never pays for them.
package secrets

import (
	"bytes"
	"errors"
	"fmt"
	"path"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/rs/zerolog"
	"github.com/zricethezav/gitleaks/v8/detect"
	"github.com/zricethezav/gitleaks/v8/logging"
)

// File is one file about to be committed.
type File struct {
	// Path is slash-separated, relative to the repository root.
	Path    string
	Content []byte
}

// MessagePath names the commit message in findings.
const MessagePath = "the commit message"

// Allow is one explicit exception: findings of Rule in the files whose path
// matches Path are let through, for the Reason given.
type Allow struct {
	// Path is a path.Match pattern on the file's path in the repository
	// being written ("apps/web/application.yaml", "docs/*.md").
	Path string `json:"path" yaml:"path"`
	// Rule is the gitleaks rule id a finding names ("generic-api-key").
	Rule string `json:"rule" yaml:"rule"`
	// Reason says why this is not a leak; it is required.
	Reason string `json:"reason" yaml:"reason"`
}

// Validate refuses an entry that would allow more than it says.
func (a Allow) Validate() error {
	switch {
	case a.Path == "":
		return errors.New("path is required (a file path or a path.Match pattern)")
	case a.Rule == "":
		return errors.New("rule is required (the gitleaks rule id a finding names)")
	case strings.TrimSpace(a.Reason) == "":
		return errors.New("reason is required: say why this is not a secret")
	}
	if _, err := path.Match(a.Path, ""); err != nil {
		return fmt.Errorf("path %q: %w", a.Path, err)
	}
	return nil
}

func (a Allow) allows(f Finding) bool {
	ok, _ := path.Match(a.Path, f.Path)
	return ok && a.Rule == f.Rule
}

// Finding is something that looks like a credential. It names where and
// which rule, never the secret itself.
type Finding struct {
	Path string `json:"path"`
	// Line is 1-based.
	Line        int    `json:"line"`
	Rule        string `json:"rule"`
	Description string `json:"description,omitempty"`
}

func (f Finding) String() string { return fmt.Sprintf("%s line %d: %s", f.Path, f.Line, f.Rule) }

// Error is returned when a scan found something; nothing was written.
type Error struct {
	Findings []Finding
}

func (e *Error) Error() string {
	parts := make([]string, 0, len(e.Findings))
	for _, f := range e.Findings {
		parts = append(parts, f.String())
	}
	return "refusing to commit what looks like a secret (" + strings.Join(parts, "; ") +
		"); nothing was written. Remove it, or, if it is not a secret, allow it explicitly under secrets.allow in .idp/platform.yaml (path, rule, reason)"
}

var (
	once     sync.Once
	detector *detect.Detector
	loadErr  error
	scanMu   sync.Mutex // gitleaks' Detector keeps per-scan state
)

func load() (*detect.Detector, error) {
	once.Do(func() {
		logging.Logger = zerolog.Nop() // gitleaks logs to stderr by default
		d, err := detect.NewDetectorDefaultConfig()
		if err != nil {
			loadErr = fmt.Errorf("secrets: loading gitleaks' default rules: %w", err)
			return
		}
		d.MaxDecodeDepth = 5 // what the gitleaks CLI does: base64, hex and unicode-escaped secrets too
		detector = d
	})
	return detector, loadErr
}

// Scan looks for credentials in files and returns an *Error listing every
// finding that allow does not name. Invalid allow entries are an error.
func Scan(files []File, allow []Allow) error {
	if len(files) == 0 {
		return nil
	}
	for i, a := range allow {
		if err := a.Validate(); err != nil {
			return fmt.Errorf("secrets.allow[%d]: %w", i, err)
		}
	}
	d, err := load()
	if err != nil {
		return err
	}
	var found []Finding
	scanMu.Lock()
	for _, f := range files {
		for _, g := range d.Detect(detect.Fragment{Raw: string(f.Content), FilePath: f.Path}) {
			found = append(found, Finding{Path: f.Path, Line: g.StartLine + 1, Rule: g.RuleID, Description: g.Description})
		}
	}
	scanMu.Unlock()
	for _, f := range files {
		found = append(found, urlCredentials(f)...)
	}
	out := found[:0]
	seen := map[Finding]bool{}
	for _, f := range found {
		if seen[f] || allowed(allow, f) {
			continue
		}
		seen[f] = true
		out = append(out, f)
	}
	if len(out) == 0 {
		return nil
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Path != out[j].Path {
			return out[i].Path < out[j].Path
		}
		return out[i].Line < out[j].Line
	})
	return &Error{Findings: out}
}

// URLCredentialsRule is the one rule idp adds to gitleaks' defaults, which
// have none for a password or token written into a URL
// (https://user:token@host/...), the way a Git or database URL leaks one.
const URLCredentialsRule = "url-credentials"

var urlCredRE = regexp.MustCompile(`[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@"'<>]+:([^/\s@"'<>]+)@`)

func urlCredentials(f File) []Finding {
	if !bytes.Contains(f.Content, []byte("://")) {
		return nil
	}
	var out []Finding
	for i, line := range strings.Split(string(f.Content), "\n") {
		for _, m := range urlCredRE.FindAllStringSubmatch(line, -1) {
			if pw := m[1]; strings.ContainsAny(pw[:1], "$%{<*") || strings.Trim(pw, "*x") == "" {
				continue // a placeholder (${TOKEN}, {{ .token }}, ****), not a secret
			}
			out = append(out, Finding{Path: f.Path, Line: i + 1, Rule: URLCredentialsRule, Description: "a password or token in a URL"})
		}
	}
	return out
}

func allowed(allow []Allow, f Finding) bool {
	for _, a := range allow {
		if a.allows(f) {
			return true
		}
	}
	return false
}
