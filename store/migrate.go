package store

import (
	"encoding/binary"
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/incidentbot/incidentbot/incident"
)

// migrations[v] upgrades a file from schema v+1 to v+2: migrations[0] takes
// version 1 to 2. Each runs in the transaction that records the new version,
// so an upgrade is all or nothing. They write to bbolt directly, not through
// a Tx's recorded buckets: in a cluster every node migrates its own file at
// open, before it joins, to the same result (replicate.go), and a restored
// snapshot of an older schema is migrated before it replaces the database.
var migrations = []func(*bolt.Tx) error{
	rebuildIndexes, // 1 → 2
	rebuildLive,    // 2 → 3 (index.go)
}

// migrate brings a file at version from up to SchemaVersion.
func migrate(tx *bolt.Tx, from uint64) error {
	meta := tx.Bucket(bucketMeta)
	for v := from; v < SchemaVersion; v++ {
		if err := migrations[v-1](tx); err != nil {
			return fmt.Errorf("migrate the database from schema %d to %d: %w", v, v+1, err)
		}
		if err := meta.Put(keySchema, u64(v+1)); err != nil {
			return err
		}
	}
	return nil
}

// rebuildIndexes (schema 2) rebuilds the derived indexes from the records
// they index: channel → incident, and captured message → timeline entry.
// Version 2 makes the indexes a pure function of the records, so a file
// whose indexes went stale (written by hand, restored in pieces) is
// repaired on upgrade.
func rebuildIndexes(tx *bolt.Tx) error {
	channels := tx.Bucket(bucketChannels)
	err := tx.Bucket(bucketIncidents).ForEach(func(k, v []byte) error {
		var inc incident.Incident
		if err := json.Unmarshal(v, &inc); err != nil {
			return fmt.Errorf("incident %d: %w", binary.BigEndian.Uint64(k), err)
		}
		if inc.ChannelID == "" {
			return nil
		}
		return channels.Put([]byte(inc.ChannelID), k)
	})
	if err != nil {
		return err
	}
	return tx.Bucket(bucketTimeline).ForEachBucket(func(id []byte) error {
		b := tx.Bucket(bucketTimeline).Bucket(id)
		entries, sources := b.Bucket(subEntries), b.Bucket(subSources)
		if entries == nil || sources == nil {
			return nil
		}
		return entries.ForEach(func(k, v []byte) error {
			var e incident.Entry
			if err := json.Unmarshal(v, &e); err != nil {
				return err
			}
			if e.Source == "" {
				return nil
			}
			return sources.Put([]byte(e.Source), k)
		})
	})
}
