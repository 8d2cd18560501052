package crossplane

import (
	"cmp"
	"slices"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Role is an object's place in a tree.
type Role string

const (
	RoleClaim     Role = "claim"
	RoleComposite Role = "composite"
	RoleResource  Role = "resource"
)

// Node is an object in a tree.
type Node struct {
	Object
	Role Role `json:"role"`
	// Missing: a reference to an object that is not there (not created
	// yet, or its kind cannot be read; then Problem says why).
	Missing  bool    `json:"missing,omitempty"`
	Problem  string  `json:"problem,omitempty"`
	Failing  bool    `json:"failing"`
	Children []*Node `json:"children,omitempty"`
	Depth    int     `json:"-"`
}

// Healthy reports whether the node is both Synced and Ready.
func (n *Node) Healthy() bool { return n.Synced.Status == "True" && n.Ready.Status == "True" }

// Reason is the condition that explains a failing node: Synced=False wins
// over Ready=False, since a resource that cannot sync will not get ready.
func (n *Node) Reason() Condition {
	switch {
	case n.Synced.Status == "False":
		return n.Synced
	case n.Ready.Status == "False":
		return n.Ready
	case n.Missing:
		return Condition{Type: "Missing", Status: "False", Message: n.Problem}
	}
	return Condition{}
}

func (n *Node) failing() bool {
	return n.Missing || n.Synced.Status == "False" || n.Ready.Status == "False"
}

// Tree is one claim or top-level composite with everything under it.
type Tree struct {
	Root *Node `json:"root"`
	// Failure is the deepest failing node, nil when nothing fails.
	Failure *Node `json:"-"`
	// Path runs from the root down to Failure.
	Path []*Node `json:"-"`
}

// Kinds says which kinds are claims and composites, from the XRDs.
type Kinds struct {
	Claims, Composites map[schema.GroupKind]bool
}

// KindsOf collects the kinds defined by the XRDs among objects.
func KindsOf(objects []Object) Kinds {
	k := Kinds{Claims: map[schema.GroupKind]bool{}, Composites: map[schema.GroupKind]bool{}}
	for _, o := range objects {
		if d := o.Definition; d != nil {
			k.Composites[schema.GroupKind{Group: d.Group, Kind: d.Kind}] = true
			if d.ClaimKind != "" {
				k.Claims[schema.GroupKind{Group: d.Group, Kind: d.ClaimKind}] = true
			}
		}
	}
	return k
}

func (k Kinds) role(gk schema.GroupKind) Role {
	switch {
	case k.Claims[gk]:
		return RoleClaim
	case k.Composites[gk]:
		return RoleComposite
	}
	return RoleResource
}

// Build makes the trees: one per claim and per composite that no claim or
// other composite refers to. problems names kinds that cannot be read
// (forbidden, not installed), for the nodes of those kinds that are
// missing. Trees with a failure come first.
func Build(objects []Object, problems map[schema.GroupKind]string) []Tree {
	kinds := KindsOf(objects)
	index := make(map[string]*Object, len(objects))
	for i := range objects {
		if objects[i].Definition == nil {
			index[objects[i].Key()] = &objects[i]
		}
	}
	referenced := map[string]bool{}
	for _, o := range index {
		for _, r := range o.Refs {
			if c := resolve(index, r, o.Namespace); c != nil {
				referenced[c.Key()] = true
			}
		}
	}
	var trees []Tree
	for key, o := range index {
		role := kinds.role(o.GroupKind())
		if role == RoleResource || referenced[key] {
			continue
		}
		root := build(index, kinds, problems, o.Ref, o, 0, map[string]bool{})
		t := Tree{Root: root}
		t.Path = deepestFailure(root, nil, nil)
		if len(t.Path) > 0 {
			t.Failure = t.Path[len(t.Path)-1]
		}
		trees = append(trees, t)
	}
	slices.SortFunc(trees, func(a, b Tree) int {
		if (a.Failure != nil) != (b.Failure != nil) {
			if a.Failure != nil {
				return -1
			}
			return 1
		}
		return cmp.Or(cmp.Compare(a.Root.Namespace, b.Root.Namespace), cmp.Compare(a.Root.Name, b.Root.Name), cmp.Compare(a.Root.Kind, b.Root.Kind))
	})
	return trees
}

// resolve finds what ref points at. References without a namespace are to
// the referrer's namespace (v2 namespaced XRs) or to a cluster-scoped object.
func resolve(index map[string]*Object, ref Ref, parentNS string) *Object {
	if ref.Namespace != "" {
		return index[ref.Key()]
	}
	if parentNS != "" {
		r := ref
		r.Namespace = parentNS
		if o := index[r.Key()]; o != nil {
			return o
		}
	}
	return index[ref.Key()]
}

func build(index map[string]*Object, kinds Kinds, problems map[schema.GroupKind]string, ref Ref, o *Object, depth int, seen map[string]bool) *Node {
	n := &Node{Role: kinds.role(ref.GroupKind()), Depth: depth}
	if o == nil {
		n.Object = Object{Ref: ref}
		n.Missing = true
		n.Problem = problems[ref.GroupKind()]
		n.Failing = true
		return n
	}
	n.Object = *o
	n.Failing = n.failing()
	if seen[o.Key()] {
		return n // a reference cycle: show the object, not its children again
	}
	seen[o.Key()] = true
	for _, r := range o.Refs {
		c := resolve(index, r, o.Namespace)
		if c == nil && r.Namespace == "" && o.Namespace != "" && kinds.role(r.GroupKind()) != RoleComposite {
			r.Namespace = o.Namespace // v2: composed resources live beside the XR
		}
		n.Children = append(n.Children, build(index, kinds, problems, r, c, depth+1, seen))
	}
	delete(seen, o.Key())
	slices.SortStableFunc(n.Children, func(a, b *Node) int {
		return cmp.Or(cmp.Compare(worst(b), worst(a)), cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Name, b.Name))
	})
	return n
}

// worst is the highest severity in n's subtree, so that failing branches,
// errors before not-yet-ready, are listed first.
func worst(n *Node) int {
	w := severity(n)
	for _, c := range n.Children {
		w = max(w, worst(c))
	}
	return w
}

// severity ranks failures: an error (Synced=False, an unreadable or absent
// object) says more than a resource that is not ready yet.
func severity(n *Node) int {
	switch {
	case n.Synced.Status == "False", n.Missing:
		return 2
	case n.Failing:
		return 1
	}
	return 0
}

// deepestFailure returns the path to the deepest failing node under n; at
// equal depth the more severe failure wins.
func deepestFailure(n *Node, path, best []*Node) []*Node {
	path = append(path, n)
	if n.Failing && (len(path) > len(best) || len(path) == len(best) && severity(n) > severity(best[len(best)-1])) {
		best = slices.Clone(path)
	}
	for _, c := range n.Children {
		best = deepestFailure(c, path, best)
	}
	return best
}

// Walk calls fn for every node of t, depth first in display order.
func (t Tree) Walk(fn func(n *Node, last []bool)) {
	var walk func(n *Node, last []bool)
	walk = func(n *Node, last []bool) {
		fn(n, last)
		for i, c := range n.Children {
			walk(c, append(slices.Clone(last), i == len(n.Children)-1))
		}
	}
	walk(t.Root, nil)
}
