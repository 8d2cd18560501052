package crossplane

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

func def(group, kind, claim string) Object {
	return Object{Ref: Ref{APIVersion: "apiextensions.crossplane.io/v1", Kind: "CompositeResourceDefinition", Name: kind},
		Definition: &Definition{Group: group, Kind: kind, ClaimKind: claim}}
}

func obj(apiVersion, kind, ns, name string, synced, ready string, refs ...Ref) Object {
	return Object{
		Ref:    Ref{APIVersion: apiVersion, Kind: kind, Namespace: ns, Name: name},
		Synced: Condition{Type: "Synced", Status: synced}, Ready: Condition{Type: "Ready", Status: ready},
		Refs: refs,
	}
}

func ref(apiVersion, kind, ns, name string) Ref {
	return Ref{APIVersion: apiVersion, Kind: kind, Namespace: ns, Name: name}
}

// shape renders a tree as "Kind/name[!]" nested with parentheses; "!"
// marks failing nodes and "?" missing ones.
func shape(n *Node) string {
	s := n.Kind + "/" + n.Name
	if n.Missing {
		s += "?"
	} else if n.Failing {
		s += "!"
	}
	if len(n.Children) > 0 {
		var cs []string
		for _, c := range n.Children {
			cs = append(cs, shape(c))
		}
		s += "(" + strings.Join(cs, " ") + ")"
	}
	return s
}

const (
	xAPI = "db.example.org/v1alpha1"
	mAPI = "azure.m.upbound.io/v1beta1"
)

func TestBuild(t *testing.T) {
	objects := []Object{
		def("db.example.org", "XPostgreSQL", ""),
		def("db.example.org", "XDatabase", "Database"),
		// v2 namespaced XR: refs without a namespace are to its own.
		obj(xAPI, "XPostgreSQL", "shop", "orders", "True", "False", ref(mAPI, "Server", "", "srv"), ref(mAPI, "Firewall", "", "fw")),
		obj(mAPI, "Server", "shop", "srv", "True", "True"),
		obj(mAPI, "Firewall", "shop", "fw", "False", "False"),
		// v1 claim -> cluster XR -> nested XR -> missing MR.
		obj(xAPI, "Database", "team", "claim", "True", "False", ref(xAPI, "XDatabase", "", "claim-x")),
		obj(xAPI, "XDatabase", "", "claim-x", "True", "False", ref(xAPI, "XPostgreSQL", "shop", "inner")),
		obj(xAPI, "XPostgreSQL", "shop", "inner", "True", "False", ref(mAPI, "Server", "", "inner-srv")),
		// A healthy XR.
		obj(xAPI, "XPostgreSQL", "shop", "ok", "True", "True"),
	}
	trees := Build(objects, map[schema.GroupKind]string{{Group: "azure.m.upbound.io", Kind: "Server"}: "x"})
	var got []string
	for _, tr := range trees {
		got = append(got, shape(tr.Root))
	}
	// Failing trees first, then by namespace and name.
	want := []string{
		"XPostgreSQL/orders!(Firewall/fw! Server/srv)",
		"Database/claim!(XDatabase/claim-x!(XPostgreSQL/inner!(Server/inner-srv?)))",
		"XPostgreSQL/ok",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("trees:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if f := trees[1].Failure; f == nil || f.Name != "inner-srv" || len(trees[1].Path) != 4 || f.Problem != "x" || f.Role != RoleResource {
		t.Errorf("claim tree failure: %+v", f)
	}
	if trees[1].Root.Role != RoleClaim || trees[1].Root.Children[0].Role != RoleComposite {
		t.Errorf("roles: %s, %s", trees[1].Root.Role, trees[1].Root.Children[0].Role)
	}
	if f := trees[0].Failure; f == nil || f.Name != "fw" || f.Reason().Type != "Synced" {
		t.Errorf("XR failure: %+v", f)
	}
	if trees[2].Failure != nil || !trees[2].Root.Healthy() {
		t.Errorf("healthy XR: %+v", trees[2])
	}
}

// At equal depth an error (Synced=False) is the failure named, over a
// resource that is merely not ready yet.
func TestDeepestPrefersErrors(t *testing.T) {
	objects := []Object{
		def("db.example.org", "XPostgreSQL", ""),
		obj(xAPI, "XPostgreSQL", "ns", "x", "True", "False", ref(mAPI, "A", "", "creating"), ref(mAPI, "B", "", "broken")),
		obj(mAPI, "A", "ns", "creating", "True", "False"),
		obj(mAPI, "B", "ns", "broken", "False", "False"),
	}
	tr := Build(objects, nil)[0]
	if tr.Failure.Name != "broken" || tr.Root.Children[0].Name != "broken" {
		t.Fatalf("failure %s, first child %s", tr.Failure.Name, tr.Root.Children[0].Name)
	}
}

func TestCycleDoesNotLoop(t *testing.T) {
	objects := []Object{
		def("db.example.org", "XA", ""),
		obj(xAPI, "XA", "", "a", "True", "True", ref(xAPI, "XA", "", "b")),
		obj(xAPI, "XA", "", "b", "True", "True", ref(xAPI, "XA", "", "a")),
	}
	if trees := Build(objects, nil); len(trees) != 0 {
		t.Fatalf("a cycle with no root built %d trees", len(trees))
	}
	objects = append(objects, obj(xAPI, "XA", "", "root", "True", "True", ref(xAPI, "XA", "", "a")))
	trees := Build(objects, nil)
	if len(trees) != 1 || shape(trees[0].Root) != "XA/root(XA/a(XA/b(XA/a)))" {
		t.Fatalf("cycle under a root: %d trees, %s", len(trees), shape(trees[0].Root))
	}
}
