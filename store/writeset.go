package store

// A write-set is the effect of one transaction, as the bbolt writes it made:
// what a cluster replicates instead of the transaction's closure, which
// reads the clock and allocates ids and so would not replay alike on
// another node. It becomes one Raft log entry, so it is binary and compact:
//
//	version  byte (writeSetVersion)
//	base     uvarint: the Raft index last applied when it was captured
//	ops      until the end, each an op byte and its operands:
//	  opPath         flags byte, bytes: the bucket the next ops act on, a
//	                 run of segments (uvarint length, name) from the root;
//	                 flag 1 = appending (FillPercent appendFill)
//	  opPut          key bytes, value bytes
//	  opDelete       key bytes
//	  opSequence     uvarint: the bucket's sequence after NextSequence
//	  opCreateBucket name bytes: a nested bucket (root-level if the path is empty)
//	  opDeleteBucket name bytes
//
// where bytes is a uvarint length and that many bytes. A path is written
// only when it changes, so a transaction that writes an incident and its
// index names each bucket once. Every op sets an absolute state (a value, a
// sequence, a bucket being there or not), so applying a write-set again
// changes nothing.

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

const (
	opPath byte = 1 + iota
	opPut
	opDelete
	opSequence
	opCreateBucket
	opDeleteBucket
)

const pathAppending = 1 // opPath flag

// writeSet records the writes of one capturing transaction.
type writeSet struct {
	buf      []byte
	ops      int    // writes recorded (opPath not counted)
	path     []byte // path of the last opPath written
	fill     bool
	havePath bool
}

func newWriteSet(base uint64) *writeSet {
	ws := &writeSet{buf: make([]byte, 0, 256)}
	ws.buf = append(ws.buf, writeSetVersion)
	ws.buf = binary.AppendUvarint(ws.buf, base)
	return ws
}

// at makes path the bucket the next op acts on.
func (ws *writeSet) at(path []byte, fill bool) {
	if ws.havePath && bytes.Equal(path, ws.path) && (ws.fill || !fill) {
		return // bbolt keeps FillPercent on the handle, so once is enough
	}
	var flags byte
	if fill {
		flags = pathAppending
	}
	ws.buf = append(ws.buf, opPath, flags)
	ws.buf = appendBytes(ws.buf, path)
	ws.path, ws.fill, ws.havePath = path, fill, true
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
}

func appendBytes(dst, b []byte) []byte {
	return append(binary.AppendUvarint(dst, uint64(len(b))), b...)
}

// appendSegment adds a bucket name to an encoded path.
func appendSegment(path, name []byte) []byte { return appendBytes(path, name) }

// errWriteSet is a write-set that cannot be decoded.
var errWriteSet = errors.New("malformed write-set")

// decodeHeader checks the version and returns the base index and the ops.
func decodeHeader(data []byte) (base uint64, ops []byte, err error) {
	if len(data) == 0 {
		return 0, nil, fmt.Errorf("%w: empty", errWriteSet)
	}
	if data[0] != writeSetVersion {
		return 0, nil, fmt.Errorf("%w: version %d, this incidentbot reads version %d only (upgrade it)", errWriteSet, data[0], writeSetVersion)
	}
	d := decoder{b: data[1:]}
	base = d.uvarint()
	if d.err != nil {
		return 0, nil, d.err
	}
	return base, d.b, nil
}

// applyOps applies the ops of a write-set in tx, creating the buckets of a
// path that are missing.
func applyOps(tx *bolt.Tx, ops []byte) error {
	d := decoder{b: ops}
	var cur *bolt.Bucket // nil: the root, or no opPath yet
	havePath := false
	for len(d.b) > 0 && d.err == nil {
		op := d.byte()
		if op != opPath && !havePath {
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
			havePath = true
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
