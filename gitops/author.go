package gitops

// Author is who change sets are made as: Options.Identity, then the
// GIT_AUTHOR_* variables, then git config (repository, then global), the way
// git picks it. Records that name their author (the power audit log) use it.
func (r *Repo) Author() (Signature, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	a, _, err := r.identity(nil)
	if err != nil {
		return Signature{}, err
	}
	return Signature{Name: a.Name, Email: a.Email, When: a.When}, nil
}
