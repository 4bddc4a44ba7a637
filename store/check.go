package store

// What Open checks before it trusts a file. bbolt maps the file into memory
// and follows the page numbers it finds: a file cut short (a full disk while
// copying, a restore that stopped half way, a volume snapshot taken
// mid-write) ends in a SIGBUS or one of bbolt's assertion panics, which no
// recover catches, and a read-write open writes to the cut file. So the
// file's meta pages are read with plain reads first, and bbolt gets the file
// only when they are sound and the file is as long as they say.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math/bits"
	"os"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// ErrDamaged means a database file failed the checks Open makes before it
// trusts one. The error wrapping it is a *DamagedError.
var ErrDamaged = errors.New("the database file is damaged")

// DamagedError says which file failed the checks and why.
type DamagedError struct {
	Path   string
	Reason string
}

// Error says what is wrong and how to get going again: incidentbot will
// not touch the file, so the way out is the last backup.
func (e *DamagedError) Error() string {
	return fmt.Sprintf("database file %s is damaged: %s. incidentbot will neither read nor write it. "+
		"Restore the newest backup (made by 'incidentbot backup FILE'): stop incidentbot, move the damaged file aside, "+
		"cp backup.db %s, start incidentbot", e.Path, e.Reason, e.Path)
}

// Unwrap makes errors.Is(err, ErrDamaged) true.
func (e *DamagedError) Unwrap() error { return ErrDamaged }

func damaged(path, format string, args ...any) error {
	return &DamagedError{Path: path, Reason: fmt.Sprintf(format, args...)}
}

// MaxCheckSize is the largest file a read-write Open runs bbolt's full
// consistency check (Tx.Check, which reads every page) on before starting:
// 256 MiB take about 0.1 s from the page cache and a few seconds from a cold
// disk. Larger files get the O(1) checks of checkFile only. Read-only opens
// (list, export, and every backup's verification) always run it.
const MaxCheckSize = 256 << 20

// bbolt's on-disk layout (go.etcd.io/bbolt/internal/common), in the host's
// byte order as bbolt writes it.
const (
	boltMagic        = 0xED0CDAED
	boltVersion      = 2
	pageHeaderSize   = 16 // id u64, flags u16, count u16, overflow u32
	metaSize         = 64 // magic, version, pageSize, flags u32; root, sequence, freelist, pgid, txid, checksum u64
	metaChecksummed  = 56 // the checksum covers the fields before it
	flagBranch       = 0x01
	flagLeaf         = 0x02
	flagFreelist     = 0x10
	pgidNoFreelist   = ^uint64(0)
	minPageSize      = 1024
	maxPageSize      = 1 << 24 // bbolt looks for the second meta page up to 16 MiB
	minPages         = 4       // two meta pages, a freelist and the root bucket
	freelistOverflow = 0xFFFF  // a count this large is stored in the first id slot
)

type meta struct {
	valid          bool // magic, version and checksum hold
	pageSize       uint32
	root, freelist uint64 // page ids
	pages, txid    uint64 // pages: the high-water mark, the number of pages in use
}

func parseMeta(b []byte) meta {
	if len(b) < pageHeaderSize+metaSize {
		return meta{}
	}
	m := b[pageHeaderSize : pageHeaderSize+metaSize]
	ne := binary.NativeEndian
	h := fnv.New64a()
	_, _ = h.Write(m[:metaChecksummed])
	out := meta{
		pageSize: ne.Uint32(m[8:]),
		root:     ne.Uint64(m[16:]),
		freelist: ne.Uint64(m[32:]),
		pages:    ne.Uint64(m[40:]),
		txid:     ne.Uint64(m[48:]),
	}
	if ne.Uint32(m[0:]) == boltMagic && ne.Uint32(m[4:]) == boltVersion && ne.Uint64(m[56:]) == h.Sum64() {
		out.valid = true
	}
	return out
}

// readAt reads up to n bytes at off; a short read at the end of the file
// is not an error, the caller sees the short slice.
func readAt(f *os.File, off int64, n int) ([]byte, error) {
	b := make([]byte, n)
	k, err := f.ReadAt(b, off)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return b[:k], nil
}

// checkFile makes the checks on path that need no bbolt and take constant
// time: both meta pages found where bbolt looks, at least one of them valid
// (bbolt keeps two so that a write torn by a crash leaves the other), the
// file as long as the high-water mark of the meta page bbolt would use, and
// that meta page's freelist and root page inside it and of the right kind.
// An empty file is refused too: bbolt would silently start a new database
// in it.
func checkFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("database file %s cannot be opened for reading: %w", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("database file %s: %w", path, err)
	}
	size := st.Size()
	if size == 0 {
		return damaged(path, "it is empty (0 bytes): if incidentbot never ran with it, delete it and incidentbot creates a new one")
	}
	head, err := readAt(f, 0, 4096)
	if err != nil {
		return fmt.Errorf("database file %s: %w", path, err)
	}
	m0 := parseMeta(head)
	var m1 meta
	if m0.valid && validPageSize(m0.pageSize) {
		b, err := readAt(f, int64(m0.pageSize), 4096)
		if err != nil {
			return fmt.Errorf("database file %s: %w", path, err)
		}
		m1 = parseMeta(b)
	} else {
		// As bbolt does: with the first meta page unreadable, look for the
		// second one at every page size it might have been written with.
		for ps := int64(minPageSize); ps <= maxPageSize && ps < size; ps <<= 1 {
			b, err := readAt(f, ps, 4096)
			if err != nil {
				return fmt.Errorf("database file %s: %w", path, err)
			}
			if m1 = parseMeta(b); m1.valid && int64(m1.pageSize) == ps {
				break
			}
			m1 = meta{}
		}
	}
	// bbolt uses the valid meta page with the higher transaction id.
	use := m0
	if m1.valid && (!m0.valid || m1.txid > m0.txid) {
		use = m1
	}
	if !use.valid {
		if size < 2*minPageSize {
			return damaged(path, "it is %d bytes, too short to hold its two meta pages: it was cut short", size)
		}
		return damaged(path, "neither of its two meta pages is valid: it is not an incidentbot (bbolt) database, or its start was overwritten")
	}
	ps := uint64(use.pageSize)
	if !validPageSize(use.pageSize) || use.pages < minPages || use.pages > (1<<62)/ps {
		return damaged(path, "its meta page is inconsistent (page size %d, %d pages)", use.pageSize, use.pages)
	}
	if need := use.pages * ps; uint64(size) < need {
		return damaged(path, "it is %d bytes, but its last commit needs %d: the file was cut short", size, need)
	}
	if err := checkPage(f, use, use.root, "root bucket", flagBranch, flagLeaf); err != nil {
		return damaged(path, "%v", err)
	}
	if use.freelist != pgidNoFreelist {
		if err := checkPage(f, use, use.freelist, "freelist", flagFreelist); err != nil {
			return damaged(path, "%v", err)
		}
	}
	return nil
}

func validPageSize(ps uint32) bool {
	return ps >= minPageSize && ps <= maxPageSize && bits.OnesCount32(ps) == 1
}

// checkPage checks that page id of the file described by m lies inside its
// data, with all its overflow pages, and has one of the flags wanted; for a
// freelist, that the ids it lists fit in it, since bbolt reads them from the
// mapped file without looking.
func checkPage(f *os.File, m meta, id uint64, what string, flags ...uint16) error {
	ps := uint64(m.pageSize)
	if id < 2 || id >= m.pages {
		return fmt.Errorf("its %s is page %d, outside its %d pages", what, id, m.pages)
	}
	b, err := readAt(f, int64(id*ps), int(ps))
	if err != nil || len(b) < pageHeaderSize+8 {
		return fmt.Errorf("its %s (page %d) cannot be read: %v", what, id, err)
	}
	ne := binary.NativeEndian
	pid, flag, count, overflow := ne.Uint64(b), ne.Uint16(b[8:]), uint64(ne.Uint16(b[10:])), uint64(ne.Uint32(b[12:]))
	ok := false
	for _, want := range flags {
		ok = ok || flag == want
	}
	if pid != id || !ok {
		return fmt.Errorf("its %s (page %d) holds something else (page id %d, flags %#x)", what, id, pid, flag)
	}
	if id+overflow >= m.pages {
		return fmt.Errorf("its %s (page %d) runs past its %d pages", what, id, m.pages)
	}
	if flag == flagFreelist {
		ids := count
		if count == freelistOverflow {
			ids = ne.Uint64(b[pageHeaderSize:]) + 1
		}
		if ids > (overflow+1)*ps/8 {
			return fmt.Errorf("its freelist (page %d) claims %d entries, more than it has room for", id, ids)
		}
	}
	return nil
}

// verify runs bbolt's own consistency check (every page reachable once,
// freed or in use, keys in order) on a database bbolt has opened read-only.
// It reads the whole channel, since bbolt's checker blocks until it is
// drained and keeps its transaction open meanwhile.
func verify(path string, b *bolt.DB) error {
	var problems []string
	n := 0
	err := b.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			if n++; len(problems) < 3 {
				problems = append(problems, err.Error())
			}
		}
		return nil
	})
	if err != nil {
		return damaged(path, "bbolt's consistency check could not run: %v", err)
	}
	if n > 0 {
		return damaged(path, "bbolt's consistency check found %d problem(s), e.g. %s", n, strings.Join(problems, "; "))
	}
	return nil
}
