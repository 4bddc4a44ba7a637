package store

import bolt "go.etcd.io/bbolt"

// bucket is a bbolt bucket seen through a Tx. Every write the store's
// transactions make goes through one, so that in replicated mode, where a
// transaction's effects rather than its closure are replicated (the closure
// reads the clock and allocates ids), each write is recorded in the
// transaction's write-set (writeset.go). It has no method that writes
// without recording: its cursor cannot delete.
//
// In local mode ws is nil, nothing is recorded and path is never built, so
// the wrapper costs a nil check per write.
type bucket struct {
	b    *bolt.Bucket
	ws   *writeSet // nil: the transaction does not capture
	path []byte    // encoded path from the root (appendSegment), when ws != nil
	fill bool      // appending was called: recorded so replicas fill pages alike
}

// bucket returns the top-level bucket name. It may not exist (a file of an
// older schema opened read-only): see exists.
func (t *Tx) bucket(name []byte) bucket {
	b := bucket{b: t.tx.Bucket(name), ws: t.ws}
	if t.ws != nil {
		b.path = appendSegment(nil, name)
	}
	return b
}

// exists reports whether the bucket is there.
func (b bucket) exists() bool { return b.b != nil }

// appending sets b's FillPercent for increasing keys and returns b. bbolt
// keeps FillPercent on the bucket handle of one transaction only, so every
// write path sets it; a replica applying the write-set sets it too.
func appending(b bucket) bucket {
	if b.b != nil {
		b.b.FillPercent = appendFill
		b.fill = true
	}
	return b
}

// Get returns the value of key, or nil. The value is valid only during the
// transaction.
func (b bucket) Get(key []byte) []byte { return b.b.Get(key) }

// Put sets key to value.
func (b bucket) Put(key, value []byte) error {
	if err := b.b.Put(key, value); err != nil {
		return err
	}
	if b.ws != nil {
		b.ws.put(b.path, b.fill, key, value)
	}
	return nil
}

// Delete removes key; a missing key is not an error.
func (b bucket) Delete(key []byte) error {
	if err := b.b.Delete(key); err != nil {
		return err
	}
	if b.ws != nil {
		b.ws.delete(b.path, b.fill, key)
	}
	return nil
}

// NextSequence increments the bucket's sequence and returns it. The
// write-set records the resulting value, not the increment, so applying it
// twice sets the same sequence.
func (b bucket) NextSequence() (uint64, error) {
	n, err := b.b.NextSequence()
	if err != nil {
		return 0, err
	}
	if b.ws != nil {
		b.ws.sequence(b.path, b.fill, n)
	}
	return n, nil
}

// Bucket returns the nested bucket key (exists reports false if missing).
func (b bucket) Bucket(key []byte) bucket {
	return bucket{b: b.b.Bucket(key), ws: b.ws, path: b.child(key)}
}

// CreateBucket creates the nested bucket key, which must not exist.
func (b bucket) CreateBucket(key []byte) (bucket, error) {
	c, err := b.b.CreateBucket(key)
	if err != nil {
		return bucket{}, err
	}
	if b.ws != nil {
		b.ws.createBucket(b.path, b.fill, key)
	}
	return bucket{b: c, ws: b.ws, path: b.child(key)}, nil
}

// CreateBucketIfNotExists returns the nested bucket key, creating it if
// missing.
func (b bucket) CreateBucketIfNotExists(key []byte) (bucket, error) {
	if c := b.Bucket(key); c.exists() {
		return c, nil
	}
	return b.CreateBucket(key)
}

// DeleteBucket deletes the nested bucket key and everything in it.
func (b bucket) DeleteBucket(key []byte) error {
	if err := b.b.DeleteBucket(key); err != nil {
		return err
	}
	if b.ws != nil {
		b.ws.deleteBucket(b.path, b.fill, key)
	}
	return nil
}

// child is the encoded path of the nested bucket key.
func (b bucket) child(key []byte) []byte {
	if b.ws == nil {
		return nil
	}
	return appendSegment(append(make([]byte, 0, len(b.path)+len(key)+2), b.path...), key)
}

// ForEach calls fn for each key (nested buckets have a nil value).
func (b bucket) ForEach(fn func(k, v []byte) error) error { return b.b.ForEach(fn) }

// Stats returns bbolt's statistics of the bucket; they do not see the
// writes of the open transaction.
func (b bucket) Stats() bolt.BucketStats { return b.b.Stats() }

// Cursor returns a cursor over the bucket. It only reads: deleting under a
// cursor would bypass the write-set (and skips the next key anyway).
func (b bucket) Cursor() cursor { return cursor{b.b.Cursor()} }

// cursor is a read-only bbolt cursor.
type cursor struct{ c *bolt.Cursor }

// First moves to the first key.
func (c cursor) First() (k, v []byte) { return c.c.First() }

// Last moves to the last key.
func (c cursor) Last() (k, v []byte) { return c.c.Last() }

// Next moves to the next key.
func (c cursor) Next() (k, v []byte) { return c.c.Next() }

// Prev moves to the previous key.
func (c cursor) Prev() (k, v []byte) { return c.c.Prev() }

// Seek moves to key, or the next key after it.
func (c cursor) Seek(seek []byte) (k, v []byte) { return c.c.Seek(seek) }
