package gitops

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/format/packfile"
)

// packSet reads objects straight from a repository's packs. Each .idx file
// is read into memory once and searched in place, and an object is read at
// its offset with its delta chain followed by offset. go-git's reader builds
// a map of every offset in a pack on its first read and decodes the whole
// index first (about 50 ms at 100,000 files), which a one-shot idp command
// would pay on every run; this costs one file read and a binary search.
type packSet struct {
	mu         sync.Mutex
	dir        string
	packs      map[string]*pack
	cache      map[packOffset]packed
	cacheBytes int
}

type pack struct {
	f                         *os.File
	size                      int64
	fanout                    []byte
	names, offsets, offsets64 []byte
}

type packOffset struct {
	p   *pack
	off int64
}

type packed struct {
	t    plumbing.ObjectType
	data []byte
}

const packCacheBudget = 32 << 20

func newPackSet(gitDir string) *packSet {
	return &packSet{dir: filepath.Join(gitDir, "objects", "pack"), packs: map[string]*pack{}, cache: map[packOffset]packed{}}
}

// refresh opens packs that appeared since the last look (a fetch, or
// another process) and forgets the ones that are gone (a repack).
func (ps *packSet) refresh() error {
	entries, err := os.ReadDir(ps.dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	seen := map[string]bool{}
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".idx")
		if !ok || !strings.HasPrefix(name, "pack-") {
			continue
		}
		seen[name] = true
		if ps.packs[name] != nil {
			continue
		}
		p, err := openPack(filepath.Join(ps.dir, name))
		if errors.Is(err, os.ErrNotExist) {
			continue // an index whose pack is not there (yet)
		}
		if err != nil {
			return err
		}
		ps.packs[name] = p
	}
	for name, p := range ps.packs {
		if !seen[name] {
			p.f.Close()
			delete(ps.packs, name)
		}
	}
	return nil
}

func (ps *packSet) close() {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	for name, p := range ps.packs {
		p.f.Close()
		delete(ps.packs, name)
	}
	ps.cache, ps.cacheBytes = map[packOffset]packed{}, 0
}

// openPack reads a version 2 pack index (layout in git's
// Documentation/gitformat-pack.txt) and opens its pack.
func openPack(base string) (*pack, error) {
	f, err := os.Open(base + ".pack")
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	idx, err := os.ReadFile(base + ".idx")
	if err != nil {
		f.Close()
		return nil, err
	}
	bad := func(why string) (*pack, error) {
		f.Close()
		return nil, fmt.Errorf("gitops: %s.idx: %s", base, why)
	}
	if len(idx) < 8+1024+40 || !bytes.Equal(idx[:8], []byte{0xff, 't', 'O', 'c', 0, 0, 0, 2}) {
		return bad("not a version 2 pack index")
	}
	fanout := idx[8 : 8+1024]
	n := int(binary.BigEndian.Uint32(fanout[1020:]))
	namesAt := 8 + 1024
	offAt := namesAt + n*20 + n*4
	off64At := offAt + n*4
	if len(idx) < off64At+40 {
		return bad("truncated")
	}
	return &pack{f: f, size: fi.Size(), fanout: fanout, names: idx[namesAt : namesAt+n*20],
		offsets: idx[offAt:off64At], offsets64: idx[off64At : len(idx)-40]}, nil
}

// find returns the offset of h in the pack.
func (p *pack) find(h plumbing.Hash) (int64, bool) {
	lo := 0
	if h[0] > 0 {
		lo = int(binary.BigEndian.Uint32(p.fanout[(int(h[0])-1)*4:]))
	}
	hi := int(binary.BigEndian.Uint32(p.fanout[int(h[0])*4:]))
	i := lo + sort.Search(hi-lo, func(i int) bool { return bytes.Compare(p.names[(lo+i)*20:(lo+i)*20+20], h[:]) >= 0 })
	if i >= hi || !bytes.Equal(p.names[i*20:i*20+20], h[:]) {
		return 0, false
	}
	o := binary.BigEndian.Uint32(p.offsets[i*4:])
	if o&0x80000000 == 0 {
		return int64(o), true
	}
	j := int(o&0x7fffffff) * 8
	if j+8 > len(p.offsets64) {
		return 0, false
	}
	return int64(binary.BigEndian.Uint64(p.offsets64[j:])), true
}

func (ps *packSet) locate(h plumbing.Hash) (*pack, int64, bool) {
	for _, p := range ps.packs {
		if off, ok := p.find(h); ok {
			return p, off, true
		}
	}
	return nil, 0, false
}

// has reports whether a pack holds h (refreshing the pack list on a miss).
func (ps *packSet) has(h plumbing.Hash) bool {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if _, _, ok := ps.locate(h); ok {
		return true
	}
	if ps.refresh() != nil {
		return false
	}
	_, _, ok := ps.locate(h)
	return ok
}

// get reads h from the packs; ok is false when no pack holds it.
func (ps *packSet) get(h plumbing.Hash, other func(plumbing.Hash) (packed, error)) (obj packed, ok bool, err error) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	p, off, found := ps.locate(h)
	if !found {
		if err := ps.refresh(); err != nil {
			return obj, false, err
		}
		if p, off, found = ps.locate(h); !found {
			return obj, false, nil
		}
	}
	obj, err = ps.read(p, off, other, 0)
	return obj, err == nil, err
}

var zlibReaders sync.Pool

func inflate(r io.Reader, size int64) ([]byte, error) {
	var zr io.ReadCloser
	if pooled, ok := zlibReaders.Get().(io.ReadCloser); ok {
		if err := pooled.(zlib.Resetter).Reset(r, nil); err != nil {
			return nil, err
		}
		zr = pooled
	} else {
		var err error
		if zr, err = zlib.NewReader(r); err != nil {
			return nil, err
		}
	}
	defer zlibReaders.Put(zr)
	buf := make([]byte, size)
	if _, err := io.ReadFull(zr, buf); err != nil {
		return nil, err
	}
	return buf, nil
}

// read decodes the object at off, following its delta chain. other finds
// a REF_DELTA base that is not in this pack.
func (ps *packSet) read(p *pack, off int64, other func(plumbing.Hash) (packed, error), depth int) (packed, error) {
	if obj, ok := ps.cache[packOffset{p, off}]; ok {
		return obj, nil
	}
	if depth > 5000 || off < 12 || off >= p.size {
		return packed{}, fmt.Errorf("gitops: corrupt pack %s at offset %d", p.f.Name(), off)
	}
	r := bufio.NewReaderSize(io.NewSectionReader(p.f, off, p.size-off), 4096)
	c, err := r.ReadByte()
	if err != nil {
		return packed{}, err
	}
	typ := plumbing.ObjectType((c >> 4) & 7)
	size := int64(c & 15)
	for shift := 4; c&0x80 != 0; shift += 7 {
		if c, err = r.ReadByte(); err != nil {
			return packed{}, err
		}
		size |= int64(c&0x7f) << shift
	}
	var obj packed
	switch typ {
	case plumbing.CommitObject, plumbing.TreeObject, plumbing.BlobObject, plumbing.TagObject:
		data, err := inflate(r, size)
		if err != nil {
			return packed{}, err
		}
		obj = packed{typ, data}
	case plumbing.OFSDeltaObject, plumbing.REFDeltaObject:
		var base packed
		var delta []byte
		if typ == plumbing.OFSDeltaObject {
			if c, err = r.ReadByte(); err != nil {
				return packed{}, err
			}
			rel := int64(c & 0x7f)
			for c&0x80 != 0 {
				if c, err = r.ReadByte(); err != nil {
					return packed{}, err
				}
				rel = (rel+1)<<7 | int64(c&0x7f)
			}
			if delta, err = inflate(r, size); err != nil {
				return packed{}, err
			}
			base, err = ps.read(p, off-rel, other, depth+1)
		} else {
			var h plumbing.Hash
			if _, err := io.ReadFull(r, h[:]); err != nil {
				return packed{}, err
			}
			if delta, err = inflate(r, size); err != nil {
				return packed{}, err
			}
			if boff, ok := p.find(h); ok {
				base, err = ps.read(p, boff, other, depth+1)
			} else {
				base, err = other(h)
			}
		}
		if err != nil {
			return packed{}, err
		}
		data, err := packfile.PatchDelta(base.data, delta)
		if err != nil {
			return packed{}, err
		}
		obj = packed{base.t, data}
	default:
		return packed{}, fmt.Errorf("gitops: corrupt pack %s: object type %d at offset %d", p.f.Name(), typ, off)
	}
	if ps.cacheBytes+len(obj.data) > packCacheBudget {
		ps.cache, ps.cacheBytes = map[packOffset]packed{}, 0
	}
	ps.cache[packOffset{p, off}] = obj
	ps.cacheBytes += len(obj.data)
	return obj, nil
}
