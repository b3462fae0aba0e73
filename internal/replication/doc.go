// Package replication is the pure core of master/replica replication as
// Redis 7.0 does it (replication.c): the replication stream's backlog,
// replication IDs, the master's answer to PSYNC and REPLCONF, the
// replica's side of the link as a state machine, and the framing of the
// snapshot a full resynchronization sends.
//
// Nothing here opens a socket, starts a goroutine or reads the clock:
// times come in as Unix milliseconds (now), randomness as an io.Reader,
// and what must happen outside comes back as values (a Decision, a reply
// line, Actions). The one piece of shared state is the Backlog, which is
// safe for concurrent use; everything else is serialized by the caller.
//
// # Offsets
//
// Offsets are Redis's: the stream's bytes are numbered from 1 and a
// server's offset (master_repl_offset, a replica's REPLCONF ACK) is the
// number of the last byte it has. PSYNC names the first byte missing
// (offset+1); Backlog.ReadFrom(off) returns the bytes after off.
//
// # Master side: the driver's duties
//
//  1. Keep the server's IDs (NewIDs; NewHistory when the backlog is
//     created for the first replica) and one Backlog (NewBacklog with
//     repl-backlog-size, Resize on CONFIG SET). While the node is a
//     master, register the Backlog as a Propagator: every write is fed to
//     it under the shard locks that ordered it.
//  2. On REPLCONF, call ParseREPLCONF, apply the fields it set (even
//     with an error), and send the reply unless it is "". Remember ACK
//     offsets per replica (WAIT, INFO's lag).
//  3. On SYNC/PSYNC, refuse as Redis does (ReplyNoMasterLink while our
//     own link is down, ReplyPendingOutput when replies are unsent), then
//     ParsePSYNC and Decide with the IDs and Backlog.Info; log
//     Decision.Log. For Continue, write Decision.Reply and stream the
//     backlog after Decision.From. Otherwise take the snapshot and, at its
//     instant (writes excluded), call Backlog.MarkFullSync: write
//     FullResyncReply(IDs.ID, offset), the snapshot framed as "$<len>"
//     or, for a replica with CapaEOF, "$EOF:<mark>" (mark: NewID) with
//     the mark after it (plain SYNC gets no +FULLRESYNC line), then
//     stream the backlog after offset. After an
//     EOF mark, wait for the replica's first REPLCONF ACK before streaming
//     (Redis's repl_start_cmd_stream_on_ack): a replica that saves the
//     transfer to disk looks for the mark only at the end of each read.
//  4. Stream to each replica from its own goroutine: Backlog.Send (or a
//     loop on Backlog.ReadFrom, waiting on Backlog.Wait when it returns
//     nothing). ErrTrimmed (the replica fell further behind than the
//     backlog holds) closes the link: the replica reconnects and resyncs.
//  5. Every repl-ping-replica-period, Backlog.FeedPing (not while
//     clients are paused for a manual failover). Once a second, write a
//     newline to each replica still waiting for its snapshot, and close
//     the link of an online replica whose last ACK is older than
//     repl-timeout (replicationCron's master half).
//
// # Replica side: the driver's duties
//
//  6. Create a Replica (NewReplica, after CacheMyself if this node was a
//     master) sharing the server's IDs. Call Tick about once a second
//     (replicationCron) and carry out every returned Action, in order.
//  7. ActDial: connect without blocking the caller and report with
//     Dialed. Then read the master's lines (CRLF stripped) and report each
//     with Line until an ActReceive or ActStream comes back.
//  8. ActReceive: load the snapshot from NewPayloadReader over the
//     connection (logging LogFlushing and LogLoading first), report
//     arrivals with PayloadProgress and the end with PayloadDone. Bytes
//     read past an EOF mark (PayloadReader.Rest) belong to the stream.
//     While loading, write a newline to the master once a second so it
//     does not time the link out (replicationSendNewlineToMaster).
//  9. ActResetBacklog and ActDisconnectReplicas: Backlog.Reset to the
//     offset; close our own replicas' links.
//  10. ActStream: parse the stream after the offset given and run each
//     command as the master's client (no replies, except that REPLCONF
//     GETACK sends Replica.Ack); append its raw bytes to the Backlog
//     (Append: a replica's stream is its master's, byte for byte) and
//     report the offset after it with Applied.
//  11. Report a failed or closed connection with LinkLost. On REPLICAOF
//     NO ONE call Stop, then Backlog.ForceSelect, and register the
//     Backlog as a Propagator again.
//
// Log texts are Redis's, as named constants or built where logged; a
// leading "# " marks a warning, as the server's logger expects.
package replication
