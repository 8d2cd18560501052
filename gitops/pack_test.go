package gitops

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/back-stack/idp/internal/testworld"
	"github.com/go-git/go-git/v5/plumbing"
)

// Every object of packs written by git, with deep OFS_DELTA chains and with
// REF_DELTA bases, reads back with the content its name is the hash of.
func TestPackReaderReadsEveryObject(t *testing.T) {
	isolate(t)
	for _, offsets := range []string{"true", "false"} {
		t.Run("useDeltaBaseOffset="+offsets, func(t *testing.T) {
			dir := t.TempDir()
			testworld.Git(t, dir, "init", "--quiet", "--initial-branch=main")
			var big strings.Builder
			for i := 0; i < 2000; i++ {
				fmt.Fprintf(&big, "line %d of a file that changes a little in every commit\n", i)
			}
			for c := 0; c < 40; c++ {
				body := strings.Replace(big.String(), fmt.Sprintf("line %d ", c*37), fmt.Sprintf("LINE %d ", c), 1)
				writeFiles(t, dir, map[string]string{"big.txt": body, fmt.Sprintf("apps/svc-%d/app.yaml", c%7): fmt.Sprintf("v: %d\n", c)})
				testworld.Git(t, dir, "add", "-A")
				testworld.Git(t, dir, "commit", "--quiet", "-m", fmt.Sprintf("c%d", c))
			}
			testworld.Git(t, dir, "-c", "repack.useDeltaBaseOffset="+offsets, "repack", "-a", "-d", "-f", "-q", "--depth=50", "--window=50")
			if offsets == "true" {
				if out := testworld.Git(t, dir, "verify-pack", "-v", packFile(t, dir, ".idx")); !strings.Contains(out, "chain length = 10") {
					t.Fatalf("the test pack has no long delta chains:\n%s", out[max(0, len(out)-600):])
				}
			}
			ps := newPackSet(filepath.Join(dir, ".git"))
			defer ps.close()
			if err := ps.refresh(); err != nil || len(ps.packs) != 1 {
				t.Fatalf("packs %d, %v", len(ps.packs), err)
			}
			var p *pack
			for _, p = range ps.packs {
			}
			n := len(p.names) / 20
			types := map[plumbing.ObjectType]int{}
			for i := 0; i < n; i++ {
				var h plumbing.Hash
				copy(h[:], p.names[i*20:])
				off, _ := p.find(h)
				b := make([]byte, 1)
				p.f.ReadAt(b, off)
				types[plumbing.ObjectType((b[0]>>4)&7)]++
				obj, ok, err := ps.get(h, func(plumbing.Hash) (packed, error) { return packed{}, fmt.Errorf("base outside the pack") })
				if err != nil || !ok {
					t.Fatalf("object %s: %v %v", h, ok, err)
				}
				if got := plumbing.ComputeHash(obj.t, obj.data); got != h {
					t.Fatalf("object %s read back as %s %s", h, obj.t, got)
				}
			}
			want := plumbing.OFSDeltaObject
			if offsets == "false" {
				want = plumbing.REFDeltaObject
			}
			if types[want] < 20 {
				t.Fatalf("object types in the pack %v: want %s deltas", types, want)
			}
			if _, ok, _ := ps.get(plumbing.NewHash(strings.Repeat("ab", 20)), nil); ok {
				t.Fatal("found an object that is not there")
			}
		})
	}
}

func packFile(t *testing.T, dir, ext string) string {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(dir, ".git", "objects", "pack", "*"+ext))
	if len(m) != 1 {
		t.Fatalf("packs: %v", m)
	}
	return m[0]
}

// Packs over 2 GiB keep large offsets in a second table; an index that
// uses it for one object finds that object.
func TestPackReaderLargeOffsets(t *testing.T) {
	isolate(t)
	dir := t.TempDir()
	testworld.Git(t, dir, "init", "--quiet", "--initial-branch=main")
	writeFiles(t, dir, map[string]string{"a": "a\n", "b": "b\n"})
	testworld.Git(t, dir, "add", "-A")
	testworld.Git(t, dir, "commit", "--quiet", "-m", "c")
	testworld.Git(t, dir, "repack", "-a", "-d", "-q")
	idxPath := packFile(t, dir, ".idx")
	idx, _ := os.ReadFile(idxPath)
	n := int(binary.BigEndian.Uint32(idx[8+1020:]))
	offAt := 8 + 1024 + n*24
	var h plumbing.Hash
	copy(h[:], idx[8+1024:])
	real := binary.BigEndian.Uint32(idx[offAt:])
	binary.BigEndian.PutUint32(idx[offAt:], 0x80000000) // entry 0 of the 64-bit table
	large := binary.BigEndian.AppendUint64(nil, uint64(real))
	idx = append(idx[:len(idx)-40], append(large, idx[len(idx)-40:]...)...)
	os.Chmod(idxPath, 0o644)
	if err := os.WriteFile(idxPath, idx, 0o644); err != nil {
		t.Fatal(err)
	}
	ps := newPackSet(filepath.Join(dir, ".git"))
	defer ps.close()
	obj, ok, err := ps.get(h, nil)
	if err != nil || !ok || plumbing.ComputeHash(obj.t, obj.data) != h {
		t.Fatalf("object %s through the 64-bit table: %v %v", h, ok, err)
	}
}
