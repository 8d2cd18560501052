package gitops

import (
	"errors"
	"os"
	"path/filepath"
	"time"

	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// identity picks author and committer the way git does: the change set's
// author, then Options.Identity, then GIT_AUTHOR_* / GIT_COMMITTER_*, then
// author.* / committer.* / user.* in the repository's config, then the
// global config (GIT_CONFIG_GLOBAL, or ~/.gitconfig and XDG).
func (r *Repo) identity(author *Signature) (object.Signature, object.Signature, error) {
	now := time.Now()
	var cfgs []*config.Config
	if c, err := r.st.Config(); err == nil {
		cfgs = append(cfgs, c)
	}
	if c := globalConfig(); c != nil {
		cfgs = append(cfgs, c)
	}
	pick := func(explicit *Signature, envName, envEmail string, section func(*config.Config) (string, string)) (object.Signature, bool) {
		name, email := "", ""
		if explicit != nil {
			name, email = explicit.Name, explicit.Email
		}
		if r.opts.Identity != nil {
			name, email = or(name, r.opts.Identity.Name), or(email, r.opts.Identity.Email)
		}
		name, email = or(name, os.Getenv(envName)), or(email, os.Getenv(envEmail))
		for _, c := range cfgs {
			n, e := section(c)
			name, email = or(name, n), or(email, e)
		}
		for _, c := range cfgs {
			name, email = or(name, c.User.Name), or(email, c.User.Email)
		}
		when := now
		if explicit != nil && !explicit.When.IsZero() {
			when = explicit.When
		}
		return object.Signature{Name: name, Email: email, When: when}, name != "" && email != ""
	}
	a, ok := pick(author, "GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", func(c *config.Config) (string, string) { return c.Author.Name, c.Author.Email })
	if !ok {
		return a, a, errors.New("gitops: no author: set user.name and user.email in git config (git config --global user.name ...), or give an identity")
	}
	c, ok := pick(nil, "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL", func(c *config.Config) (string, string) { return c.Committer.Name, c.Committer.Email })
	if !ok {
		c = object.Signature{Name: a.Name, Email: a.Email, When: now}
	}
	return a, c, nil
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// globalConfig reads the user's global git config; GIT_CONFIG_GLOBAL
// replaces the usual files, as it does for git.
func globalConfig() *config.Config {
	var files []string
	if g := os.Getenv("GIT_CONFIG_GLOBAL"); g != "" {
		files = []string{g}
	} else {
		if x := os.Getenv("XDG_CONFIG_HOME"); x != "" {
			files = append(files, filepath.Join(x, "git", "config"))
		} else if home, err := os.UserHomeDir(); err == nil {
			files = append(files, filepath.Join(home, ".config", "git", "config"))
		}
		if home, err := os.UserHomeDir(); err == nil {
			files = append(files, filepath.Join(home, ".gitconfig"))
		}
	}
	merged := config.NewConfig()
	found := false
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		c := config.NewConfig()
		if err := c.Unmarshal(data); err != nil {
			continue
		}
		found = true
		// later files (~/.gitconfig) win over XDG, as in git
		merged.User.Name, merged.User.Email = or(c.User.Name, merged.User.Name), or(c.User.Email, merged.User.Email)
		merged.Author.Name, merged.Author.Email = or(c.Author.Name, merged.Author.Name), or(c.Author.Email, merged.Author.Email)
		merged.Committer.Name, merged.Committer.Email = or(c.Committer.Name, merged.Committer.Name), or(c.Committer.Email, merged.Committer.Email)
	}
	if !found {
		return nil
	}
	return merged
}

// HasGlobalIdentity reports whether git would find an author outside any
// repository: GIT_AUTHOR_NAME and GIT_AUTHOR_EMAIL, or a name and email in
// the global config.
func HasGlobalIdentity() bool {
	name, email := os.Getenv("GIT_AUTHOR_NAME"), os.Getenv("GIT_AUTHOR_EMAIL")
	if c := globalConfig(); c != nil {
		name, email = or(name, or(c.Author.Name, c.User.Name)), or(email, or(c.Author.Email, c.User.Email))
	}
	return name != "" && email != ""
}
