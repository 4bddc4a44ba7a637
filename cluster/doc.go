// Package cluster replicates the bot's state across three (or five) nodes
// with hashicorp/raft: leader election, log replication and snapshots are the
// library's; this package wires them to the bot's store and adds the
// node-to-node forward RPC that followers use to hand work to the leader.
//
// Storage: the Raft log and stable store are raft-boltdb/v2 in
// DataDir/raft.db. raft-boltdb/v2 is built on go.etcd.io/bbolt, which the bot
// already ships for its own store, so cluster mode adds no storage engine;
// raft-wal, the other maintained choice, is not available here. Snapshots are
// raft's FileSnapshotStore in DataDir/snapshots (the last two are kept), each
// one the store's bbolt Tx.WriteTo stream.
//
// The cluster port (Bind) multiplexes two protocols on one TLS listener: the
// dialer's first byte inside TLS says which, 'R' for hashicorp/raft's
// NetworkTransport (over this package's StreamLayer) and 'F' for the forward
// protocol (wire.go). Mutual TLS verifies both ends against one CA.
//
// Start-up: a node with no Raft state bootstraps the full Peers
// configuration (identical on every node, so any start order is safe); a
// node with state rejoins from its log. Raft does not rebuild the store from
// the snapshot at start (NoSnapshotRestoreOnStart): the bbolt file is durable
// and newer, so raft replays the log after the last snapshot and the entries
// the store already applied are skipped. A store behind the latest snapshot
// is restored from it first; a store ahead of the Raft state is refused.
//
// Leadership is reported (IsLeader, OnLeadership) only after the new
// leader's Barrier has applied every earlier entry to its store, so the bot
// never acts on stale state. Followers hand work to the leader with Forward.
package cluster
