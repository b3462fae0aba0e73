// Package slotmigration moves whole hash slots from one redgo master to
// another in one stream (CLUSTER MIGRATESLOTS, after Valkey 9's atomic
// slot migration), and falls back to the key-by-key MIGRATE procedure
// when the target is not redgo.
//
// The source (Migrator.Run):
//
//  1. connects to the target and sends CLUSTER SYNCSLOTS START <source-id>
//     <start> <end>...; the target checks that the source serves those
//     slots, empties them and marks the connection as their import link:
//     commands on it for those slots run although the target does not
//     serve them (other clients still get -MOVED to the source);
//  2. for each slot, with the slot's shard locked: every live key goes
//     into the stream as RESTORE key <abs-expiry> <DUMP payload> REPLACE
//     ABSTTL, and from then on every write to the slot, as the AOF and
//     the replicas get it (the Capture propagator), follows it in the
//     stream. The lock makes the cut exact: a write is either in the
//     snapshot or in the stream, never both, never neither;
//  3. waits until the target has applied nearly everything sent;
//  4. the flip: it locks the shards of the slots (writes to them, and to
//     the other slots of those shards, wait), sends CLUSTER SYNCSLOTS
//     FINISH after the last write and waits for its +OK: the target has
//     applied the whole stream, taken the slots under a new configEpoch
//     (nodes.conf saved and fsynced first) and broadcast it. The source
//     then records the new owner and unlocks: the commands that waited
//     are routed again under their lock and get -MOVED. Then it deletes
//     its copies of the keys (as DELs to its AOF and replicas).
//
// Any failure before FINISH (the target dies, the link drops, an error
// reply, CLUSTER CANCELSLOTMIGRATIONS, a FLUSHALL on the source) rolls
// back: the source closes the link and keeps serving the slots, and the
// target deletes what it received when the link closes. When FINISH was
// sent but its reply is lost, the source keeps the slots locked and
// waits up to the timeout for the cluster to show the target's claim
// (then the transfer succeeded) before it rolls back.
//
// The target's side (Imports) only keeps the registry of import links;
// the server runs the commands through its normal path, so they reach
// the target's AOF and replicas.
package slotmigration
