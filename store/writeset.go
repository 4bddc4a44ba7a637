package store

// A write-set is the effect of one transaction, as the bbolt writes it made:
// what a cluster replicates instead of the transaction's closure, which
// reads the clock and allocates ids and so would not replay alike on
// another node. It becomes one Raft log entry, so it is binary and compact:
//
//	version  byte (writeSetVersion)
//	base     uvarint: the Raft index last applied when it was captured
//
// or, for a write-set captured on top of others still in flight
// (pipeline.go),
//
//	version  byte (writeSetStacked)
//	prev     16 bytes: the hash of the write-set it was captured on
//
// and then
//
//	ops      until the end, each an op byte and its operands:
//	  opPath         flags byte, bytes: declares the bucket the next ops act
//	                 on (it gets the next number, from 0), a run of
//	                 segments (uvarint length, name) from the root;
//	                 flag 1 = appending (FillPercent appendFill)
//	  opSwitch       uvarint: the ops act on declared bucket n again
//	  opPut          key bytes, value bytes
//	  opDelete       key bytes
//	  opSequence     uvarint: the bucket's sequence after NextSequence
//	  opCreateBucket name bytes: a nested bucket (root-level if the path is empty)
//	  opDeleteBucket name bytes
//
// where bytes is a uvarint length and that many bytes. A path is written
// once and then switched to by number, so a pin, which writes its entry,
// its source index and the entry again, names each bucket once. An
// opDeleteBucket forgets every declared path (a bucket deleted and made
// again is a new bucket to bbolt). Every op sets an absolute state (a
// value, a sequence, a bucket being there or not), so applying a write-set
// again changes nothing.

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// writeSetVersion is the first byte of every write-set. A node refuses a
// version it does not know rather than misapplying it; a new version is
// written only once every node reads it.
const writeSetVersion = 1

// The ops, by the byte that starts each: persisted in Raft logs and
// snapshots-to-be, so never renumbered (writeset_test.go pins them).
const (
	opPath         byte = 1
	opPut          byte = 2
	opDelete       byte = 3
	opSequence     byte = 4
	opCreateBucket byte = 5
	opDeleteBucket byte = 6
	opSwitch       byte = 7
)

const pathAppending = 1 // opPath flag

// writeSet records the writes of one capturing transaction.
type writeSet struct {
	buf   []byte
	ops   int        // writes recorded (opPath and opSwitch not counted)
	paths []declared // declared by opPath, by number
	cur   int        // the current one, -1 for none
}

type declared struct {
	path []byte
	fill bool
}

func newWriteSet(base uint64) *writeSet {
	ws := &writeSet{buf: make([]byte, 0, 256), cur: -1}
	ws.buf = append(ws.buf, writeSetVersion)
	ws.buf = binary.AppendUvarint(ws.buf, base)
	return ws
}

// at makes path the bucket the next op acts on. A path declared appending
// serves for writes that are not: bbolt keeps FillPercent on the handle.
func (ws *writeSet) at(path []byte, fill bool) {
	match := func(d declared) bool { return bytes.Equal(d.path, path) && (d.fill || !fill) }
	if ws.cur >= 0 && match(ws.paths[ws.cur]) {
		return
	}
	for i, d := range ws.paths {
		if match(d) {
			ws.buf = binary.AppendUvarint(append(ws.buf, opSwitch), uint64(i))
			ws.cur = i
			return
		}
	}
	var flags byte
	if fill {
		flags = pathAppending
	}
	ws.buf = append(ws.buf, opPath, flags)
	ws.buf = appendBytes(ws.buf, path)
	ws.paths = append(ws.paths, declared{path, fill})
	ws.cur = len(ws.paths) - 1
}

func (ws *writeSet) put(path []byte, fill bool, key, value []byte) {
	ws.at(path, fill)
	ws.buf = appendBytes(appendBytes(append(ws.buf, opPut), key), value)
	ws.ops++
}

func (ws *writeSet) delete(path []byte, fill bool, key []byte) {
	ws.at(path, fill)
	ws.buf = appendBytes(append(ws.buf, opDelete), key)
	ws.ops++
}

func (ws *writeSet) sequence(path []byte, fill bool, n uint64) {
	ws.at(path, fill)
	ws.buf = binary.AppendUvarint(append(ws.buf, opSequence), n)
	ws.ops++
}

func (ws *writeSet) createBucket(path []byte, fill bool, name []byte) {
	ws.at(path, fill)
	ws.buf = appendBytes(append(ws.buf, opCreateBucket), name)
	ws.ops++
}

func (ws *writeSet) deleteBucket(path []byte, fill bool, name []byte) {
	ws.at(path, fill)
	ws.buf = appendBytes(append(ws.buf, opDeleteBucket), name)
	ws.ops++
	ws.paths, ws.cur = ws.paths[:0], -1
}

func appendBytes(dst, b []byte) []byte {
	return append(binary.AppendUvarint(dst, uint64(len(b))), b...)
}

// appendSegment adds a bucket name to an encoded path.
func appendSegment(path, name []byte) []byte { return appendBytes(path, name) }

// errWriteSet is a write-set that cannot be decoded.
var errWriteSet = errors.New("malformed write-set")

// wsHeader is what precedes a write-set's ops.
type wsHeader struct {
	stacked bool   // version 2 (pipeline.go): prev names its predecessor
	base    uint64 // version 1: the Raft index last applied at capture
	prev    wsHash
}

// parseHeader checks the version and returns the header and the ops.
func parseHeader(data []byte) (h wsHeader, ops []byte, err error) {
	if len(data) == 0 {
		return h, nil, fmt.Errorf("%w: empty", errWriteSet)
	}
	switch data[0] {
	case writeSetVersion:
		d := decoder{b: data[1:]}
		h.base = d.uvarint()
		if d.err != nil {
			return h, nil, d.err
		}
		return h, d.b, nil
	case writeSetStacked:
		if len(data) < 1+len(h.prev) {
			return h, nil, fmt.Errorf("%w: truncated", errWriteSet)
		}
		h.stacked = true
		copy(h.prev[:], data[1:])
		return h, data[1+len(h.prev):], nil
	}
	return h, nil, fmt.Errorf("%w: version %d, this incidentbot reads versions %d and %d only (upgrade it)", errWriteSet, data[0], writeSetVersion, writeSetStacked)
}

// decodeHeader is parseHeader for the base index and the ops (0 for a
// stacked write-set).
func decodeHeader(data []byte) (base uint64, ops []byte, err error) {
	h, ops, err := parseHeader(data)
	return h.base, ops, err
}

// applyOps applies the ops of a write-set in tx, creating the buckets of a
// path that are missing.
func applyOps(tx *bolt.Tx, ops []byte) error {
	d := decoder{b: ops}
	var cur *bolt.Bucket     // nil: the root, or no opPath yet
	var paths []*bolt.Bucket // declared
	havePath := false
	for len(d.b) > 0 && d.err == nil {
		op := d.byte()
		if op != opPath && op != opSwitch && !havePath {
			return fmt.Errorf("%w: op %d before a path", errWriteSet, op)
		}
		if cur == nil && (op == opPut || op == opDelete || op == opSequence) {
			return fmt.Errorf("%w: op %d on the root", errWriteSet, op)
		}
		var err error
		switch op {
		case opPath:
			flags, path := d.byte(), d.bytes()
			if d.err != nil {
				break
			}
			if cur, err = openPath(tx, path); err == nil && cur != nil && flags&pathAppending != 0 {
				cur.FillPercent = appendFill
			}
			paths, havePath = append(paths, cur), true
		case opSwitch:
			n := d.uvarint()
			if d.err == nil && n >= uint64(len(paths)) {
				return fmt.Errorf("%w: switch to bucket %d of %d declared", errWriteSet, n, len(paths))
			}
			if d.err == nil {
				cur, havePath = paths[n], true
			}
		case opPut:
			k, v := d.bytes(), d.bytes()
			if d.err == nil {
				err = cur.Put(k, v)
			}
		case opDelete:
			if k := d.bytes(); d.err == nil {
				err = cur.Delete(k)
			}
		case opSequence:
			if n := d.uvarint(); d.err == nil {
				err = cur.SetSequence(n)
			}
		case opCreateBucket:
			if k := d.bytes(); d.err == nil {
				if cur == nil {
					_, err = tx.CreateBucketIfNotExists(k)
				} else {
					_, err = cur.CreateBucketIfNotExists(k)
				}
			}
		case opDeleteBucket:
			if k := d.bytes(); d.err == nil {
				if cur == nil {
					err = tx.DeleteBucket(k)
				} else {
					err = cur.DeleteBucket(k)
				}
				if errors.Is(err, bolt.ErrBucketNotFound) {
					err = nil // already gone: applied before
				}
				paths = paths[:0] // as the writer forgets them: they may be gone
			}
		default:
			return fmt.Errorf("%w: unknown op %d", errWriteSet, op)
		}
		if err != nil {
			return err
		}
	}
	return d.err
}

// openPath returns the bucket at an encoded path (nil for the root),
// creating what is missing.
func openPath(tx *bolt.Tx, path []byte) (*bolt.Bucket, error) {
	d := decoder{b: path}
	var cur *bolt.Bucket
	for len(d.b) > 0 {
		name := d.bytes()
		if d.err != nil {
			return nil, d.err
		}
		var next *bolt.Bucket
		var err error
		if cur == nil {
			next, err = tx.CreateBucketIfNotExists(name)
		} else {
			next, err = cur.CreateBucketIfNotExists(name)
		}
		if err != nil {
			return nil, fmt.Errorf("bucket %q: %w", name, err)
		}
		cur = next
	}
	return cur, nil
}

// decoder reads a write-set; the first error sticks.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail() {
	if d.err == nil {
		d.err = fmt.Errorf("%w: truncated", errWriteSet)
	}
	d.b = nil
}

func (d *decoder) byte() byte {
	if d.err != nil || len(d.b) == 0 {
		d.fail()
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	n, k := binary.Uvarint(d.b)
	if k <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[k:]
	return n
}

func (d *decoder) bytes() []byte {
	n := d.uvarint()
	if d.err != nil || n > uint64(len(d.b)) {
		d.fail()
		return nil
	}
	v := d.b[:n:n]
	d.b = d.b[n:]
	return v
}
