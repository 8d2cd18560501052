package argocd

import (
	"cmp"
	"slices"
	"strings"
	"time"
)

// Filter selects applications. Words match name or namespace as
// case-insensitive substrings; key=value terms match project, sync, health,
// namespace or, for any other key, a label. All terms must match.
type Filter struct {
	words []string
	terms []term
}

type term struct{ key, value string }

// ParseFilter reads a filter such as "web project=shop health=degraded".
func ParseFilter(s string) Filter {
	var f Filter
	for _, tok := range strings.Fields(s) {
		if k, v, ok := strings.Cut(tok, "="); ok && k != "" {
			f.terms = append(f.terms, term{key: strings.ToLower(k), value: v})
			continue
		}
		f.words = append(f.words, strings.ToLower(tok))
	}
	return f
}

// Empty reports whether the filter matches everything.
func (f Filter) Empty() bool { return len(f.words) == 0 && len(f.terms) == 0 }

// Match reports whether a passes the filter.
func (f Filter) Match(a *App) bool {
	for _, w := range f.words {
		if !containsFold(a.Name, w) && !containsFold(a.Namespace, w) {
			return false
		}
	}
	for _, t := range f.terms {
		if !t.match(a) {
			return false
		}
	}
	return true
}

func (t term) match(a *App) bool {
	switch t.key {
	case "project", "proj":
		return strings.EqualFold(a.Project, t.value)
	case "sync":
		return strings.EqualFold(a.Sync, t.value)
	case "health":
		return strings.EqualFold(a.Health, t.value)
	case "namespace", "ns":
		return strings.EqualFold(a.Namespace, t.value)
	}
	key := strings.TrimPrefix(t.key, "label:")
	v, ok := a.Labels[key]
	return ok && v == t.value
}

// containsFold is a case-insensitive strings.Contains for an already
// lower-case needle, without allocating for ASCII haystacks.
func containsFold(s, lowerNeedle string) bool {
	n := len(lowerNeedle)
	if n == 0 {
		return true
	}
	for i := 0; i+n <= len(s); i++ {
		j := 0
		for ; j < n; j++ {
			c := s[i+j]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != lowerNeedle[j] {
				break
			}
		}
		if j == n {
			return true
		}
	}
	if !isASCII(s) {
		return strings.Contains(strings.ToLower(s), lowerNeedle)
	}
	return false
}

func isASCII(s string) bool {
	for i := range len(s) {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// SortKey orders the table.
type SortKey int

const (
	ByName SortKey = iota
	ByHealth
	BySync
	ByProject
	ByLastOperation
	sortKeys
)

var sortNames = [...]string{"name", "health", "sync", "project", "last operation"}

func (k SortKey) String() string { return sortNames[k] }

// Next is the following key in the cycle.
func (k SortKey) Next() SortKey { return (k + 1) % sortKeys }

// ParseSortKey reads a sort key by name.
func ParseSortKey(s string) (SortKey, bool) {
	for i, n := range sortNames {
		if strings.EqualFold(s, n) || strings.EqualFold(s, strings.ReplaceAll(n, " ", "-")) {
			return SortKey(i), true
		}
	}
	return ByName, false
}

// SortKeyNames lists the keys by name, in cycle order.
func SortKeyNames() []string { return append([]string(nil), sortNames[:]...) }

// healthRank puts the worst health first.
func healthRank(h string) int {
	switch h {
	case HealthDegraded:
		return 0
	case HealthMissing:
		return 1
	case HealthProgressing:
		return 2
	case HealthSuspended:
		return 3
	case StatusUnknown:
		return 4
	case HealthHealthy:
		return 6
	}
	return 5
}

func syncRank(s string) int {
	switch s {
	case SyncOutOfSync:
		return 0
	case SyncSynced:
		return 2
	}
	return 1
}

// LastOperationTime is when the last operation finished, or started when it
// is still running; zero without one.
func (a *App) LastOperationTime() time.Time {
	if a.Operation == nil {
		return time.Time{}
	}
	if !a.Operation.FinishedAt.IsZero() {
		return a.Operation.FinishedAt
	}
	return a.Operation.StartedAt
}

// Compare orders a before b by key, then by namespace and name.
func Compare(key SortKey, a, b *App) int {
	var c int
	switch key {
	case ByHealth:
		c = cmp.Compare(healthRank(a.Health), healthRank(b.Health))
	case BySync:
		c = cmp.Compare(syncRank(a.Sync), syncRank(b.Sync))
	case ByProject:
		c = strings.Compare(a.Project, b.Project)
	case ByLastOperation:
		c = b.LastOperationTime().Compare(a.LastOperationTime()) // newest first
	}
	if c != 0 {
		return c
	}
	if c = strings.Compare(a.Name, b.Name); c != 0 {
		return c
	}
	return strings.Compare(a.Namespace, b.Namespace)
}

// Select filters and sorts apps; the result shares apps' elements.
func Select(apps []*App, f Filter, key SortKey) []*App {
	out := make([]*App, 0, len(apps))
	for _, a := range apps {
		if f.Match(a) {
			out = append(out, a)
		}
	}
	slices.SortFunc(out, func(a, b *App) int { return Compare(key, a, b) })
	return out
}
