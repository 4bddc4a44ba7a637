package store

import (
	"encoding/json"

	bolt "go.etcd.io/bbolt"
)

// putJSON writes v as JSON straight to a bbolt bucket, for tests that build
// files without the store (the store's own writes go through bucket.putJSON,
// which records them for replication).
func putJSON(b *bolt.Bucket, key []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put(key, data)
}
