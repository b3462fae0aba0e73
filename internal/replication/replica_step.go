package replication

// The events that drive a Replica: syncWithMaster's steps, the header of
// readSyncBulkPayload, link loss, and replicationCron's replica half.

import (
	"io"
	"strconv"
	"strings"
)

// Tick is replicationCron's replica half, to be called about once a
// second: handshake and transfer timeouts (repl-timeout since the last
// I/O), the master's silence when connected, dialing when a connection is
// due, and the periodic REPLCONF ACK.
func (r *Replica) Tick(now int64) []Action {
	var acts []Action
	timeout := r.cfg.Timeout
	switch {
	case (r.state == StateConnecting || r.state.handshake()) && now-r.lastIO > timeout:
		acts = r.cancel(now, logAct(LogTimeoutConnecting))
	case r.state == StateTransfer && now-r.lastIO > timeout:
		acts = r.cancel(now, logAct(LogTimeoutTransfer))
	case r.state == StateConnected && now-r.lastHeard > timeout:
		acts = append([]Action{logAct(LogTimeoutMaster), logAct(LogConnectionLost)}, r.lose(now)...)
	}
	if r.state == StateConnect {
		acts = append(acts, logAct("Connecting to MASTER "+r.masterName()))
		acts = append(acts, r.connect(now)...)
	}
	if r.state == StateConnected && !r.preSYNC {
		acts = append(acts, r.Ack())
	}
	return acts
}

// Ack is REPLCONF ACK <offset> (replicationSendAck); also the answer to
// REPLCONF GETACK from the master.
func (r *Replica) Ack() Action {
	off := int64(0)
	if r.master != nil {
		off = r.master.Offset
	}
	return sendAct("REPLCONF", "ACK", strconv.FormatInt(off, 10))
}

// Dialed reports the outcome of ActDial. On success the handshake starts
// with a PING.
func (r *Replica) Dialed(now int64, err error) []Action {
	if r.state != StateConnecting {
		return []Action{{Kind: ActClose}}
	}
	if err != nil {
		return r.fail(logAct("# Error condition on socket for SYNC: " + err.Error()))
	}
	r.state = StateReceivePingReply
	return []Action{logAct(LogConnectFired), sendAct("PING")}
}

// Line reports one line from the master (without CRLF) while the
// handshake waits for a reply or the transfer for its bulk header.
func (r *Replica) Line(now int64, line string) []Action {
	switch r.state {
	case StateReceivePingReply:
		return r.onPingReply(now, line)
	case StateReceiveAuthReply:
		if strings.HasPrefix(line, "-") {
			return r.fail(logAct("# Unable to AUTH to MASTER: " + line))
		}
		r.state = StateReceivePortReply
	case StateReceivePortReply:
		acts := nonCritical(line, "listening-port")
		r.state = StateReceiveCapaReply
		if r.cfg.AnnounceIP != "" {
			r.state = StateReceiveIPReply
		}
		return acts
	case StateReceiveIPReply:
		r.state = StateReceiveCapaReply
		return nonCritical(line, "ip-address")
	case StateReceiveCapaReply:
		return append(nonCritical(line, "capa"), r.sendPSYNC()...)
	case StateReceivePSYNCReply:
		return r.onPSYNCReply(now, line)
	case StateTransfer:
		return r.onBulkHeader(now, line)
	}
	return nil
}

// nonCritical logs an error reply to a REPLCONF that older masters may
// not understand.
func nonCritical(line, what string) []Action {
	if strings.HasPrefix(line, "-") {
		return []Action{logAct("(Non critical) Master does not understand REPLCONF " + what + ": " + line)}
	}
	return nil
}

// onPingReply accepts +PONG, or an authentication error (AUTH comes
// next), and sends the whole handshake.
func (r *Replica) onPingReply(now int64, line string) []Action {
	if !strings.HasPrefix(line, "+") && !strings.HasPrefix(line, "-NOAUTH") &&
		!strings.HasPrefix(line, "-NOPERM") && !strings.HasPrefix(line, "-ERR operation not permitted") {
		return r.fail(logAct("# Error reply to PING from master: '" + line + "'"))
	}
	acts := []Action{logAct(LogPingOK)}
	r.state = StateReceivePortReply
	if r.cfg.MasterAuth != "" {
		auth := []string{"AUTH", r.cfg.MasterAuth}
		if r.cfg.MasterUser != "" {
			auth = []string{"AUTH", r.cfg.MasterUser, r.cfg.MasterAuth}
		}
		acts = append(acts, sendAct(auth...))
		r.state = StateReceiveAuthReply
	}
	acts = append(acts, sendAct("REPLCONF", "listening-port", strconv.Itoa(r.cfg.ListeningPort)))
	if r.cfg.AnnounceIP != "" {
		acts = append(acts, sendAct("REPLCONF", "ip-address", r.cfg.AnnounceIP))
	}
	return append(acts, sendAct("REPLCONF", "capa", "eof", "capa", "psync2"))
}

// sendPSYNC is the writing half of slaveTryPartialResynchronization.
func (r *Replica) sendPSYNC() []Action {
	r.state = StateReceivePSYNCReply
	r.fullID, r.fullOffset = "", -1
	if r.cached == nil {
		return []Action{logAct(LogNoCachedMaster), sendAct("PSYNC", "?", "-1")}
	}
	off := strconv.FormatInt(r.cached.Offset+1, 10)
	psync := sendAct("PSYNC", r.cached.ReplID, off)
	if r.cfg.Failover {
		psync = sendAct("PSYNC", r.cached.ReplID, off, "FAILOVER")
		r.cfg.Failover = false // once: a reconnection is an ordinary replica's
		r.failoverSent = true
	}
	return []Action{logAct("Trying a partial resynchronization (request " + r.cached.ReplID + ":" + off + ")."), psync}
}

// onPSYNCReply is the reading half of slaveTryPartialResynchronization
// and what syncWithMaster does with its result.
func (r *Replica) onPSYNCReply(now int64, line string) []Action {
	if line == "" { // a newline: the master keeps the link alive
		return nil
	}
	if r.failoverSent {
		// Handing over with FAILOVER: anything but a partial or full
		// sync ends the failover (Redis's "Failover target rejected
		// psync request"); the server becomes a master again.
		r.failoverSent = false
		if !strings.HasPrefix(line, "+FULLRESYNC") && !(strings.HasPrefix(line, "+CONTINUE") && r.cached != nil) {
			r.state = StateConnect
			return []Action{logAct("Failover target replied to PSYNC: " + line), {Kind: ActClose}, {Kind: ActFailoverRejected}}
		}
	}
	switch {
	case strings.HasPrefix(line, "+FULLRESYNC"):
		return append(r.parseFullResync(line), r.startTransfer(now)...)
	case strings.HasPrefix(line, "+CONTINUE") && r.cached != nil:
		return r.continued(now, line)
	case strings.HasPrefix(line, "-NOMASTERLINK") || strings.HasPrefix(line, "-LOADING"):
		return r.fail(logAct("Master is currently unable to PSYNC but should be in the future: " + line))
	}
	var acts []Action
	if strings.HasPrefix(line, "-ERR") {
		acts = append(acts, logAct("Master does not support PSYNC or is in error state (reply: "+line+")"))
	} else {
		acts = append(acts, logAct("# Unexpected reply to PSYNC from master: "+line))
	}
	r.preSYNC = true
	acts = append(acts, logAct(LogRetrySYNC), Action{Kind: ActSend, Data: []byte("SYNC\r\n")})
	return append(acts, r.startTransfer(now)...)
}

// parseFullResync reads "+FULLRESYNC <replid> <offset>".
func (r *Replica) parseFullResync(line string) []Action {
	r.preSYNC = false
	f := strings.SplitN(line, " ", 3)
	if len(f) < 3 || len(f[1]) != IDLen {
		return []Action{logAct(LogBadFullResync)}
	}
	off, _ := strconv.ParseInt(strings.Fields(f[2] + " ")[0], 10, 64)
	r.fullID, r.fullOffset = f[1], off
	return []Action{logAct("Full resync from master: " + f[1] + ":" + strconv.FormatInt(off, 10))}
}

func (r *Replica) startTransfer(now int64) []Action {
	r.state = StateTransfer
	r.bulkSeen, r.received = false, 0
	r.lastIO = now
	return nil
}

// continued handles +CONTINUE [<replid>]: the cached master comes back,
// under its new ID if it changed (our ID becomes the secondary one).
func (r *Replica) continued(now int64, line string) []Action {
	acts := []Action{logAct(LogPartialOK)}
	if id := strings.TrimSpace(strings.TrimPrefix(line, "+CONTINUE")); len(id) == IDLen && id != r.cached.ReplID {
		acts = append(acts, logAct("# Master replication ID changed to "+id))
		r.ids.ID2, r.ids.SecondOffset = r.cached.ReplID, r.cached.Offset+1
		r.ids.ID = id
		r.cached.ReplID = id
		acts = append(acts, Action{Kind: ActDisconnectReplicas})
	}
	r.master, r.cached = r.cached, nil
	r.state, r.downSince, r.lastHeard, r.preSYNC = StateConnected, 0, now, false
	acts = append(acts, logAct(LogPartialAccepted))
	return append(acts, Action{Kind: ActStream, Offset: r.master.Offset})
}

// onBulkHeader reads the line announcing the snapshot (readSyncBulkPayload
// before the payload).
func (r *Replica) onBulkHeader(now int64, line string) []Action {
	switch {
	case r.bulkSeen:
		return nil
	case strings.HasPrefix(line, "-"):
		return r.cancel(now, logAct("# MASTER aborted replication with an error: "+line[1:]))
	case line == "":
		r.lastIO = now
		return nil
	case !strings.HasPrefix(line, "$"):
		return r.cancel(now, logAct("# Bad protocol from MASTER, the first byte is not '$' (we received '"+
			line+"'), are you sure the host and port are right?"))
	}
	b, err := ParseBulk(line)
	if err != nil {
		return r.cancel(now, logAct("# Bad bulk length from MASTER: '"+line+"'"))
	}
	r.bulk, r.bulkSeen, r.lastIO = b, true, now
	to := "to disk"
	if r.cfg.DisklessLoad {
		to = "to parser"
	}
	text := "MASTER <-> REPLICA sync: receiving streamed RDB from master with EOF " + to
	if b.Mark == "" {
		text = "MASTER <-> REPLICA sync: receiving " + strconv.FormatInt(b.Size, 10) + " bytes from master " + to
	}
	acts := []Action{logAct(text)}
	mode := LoadInPlace
	switch {
	case !r.cfg.DisklessLoad:
		mode = LoadViaDisk
	case r.cfg.SwapDB:
		mode = LoadAside
		if r.fullID != "" && r.fullID == r.ids.ID {
			// The master continues the history our dataset belongs to:
			// serve it while the new one loads (async loading).
			mode = LoadAsync
		}
	}
	r.load = mode
	// When the dataset is emptied before the load, the cached master's
	// offset no longer describes it, so a link lost during the load must
	// not PSYNC from there (replicationAttachToNewMaster before
	// emptyData). The other modes leave the dataset as it was if the
	// transfer fails.
	if r.cached != nil && mode == LoadInPlace {
		acts = append(acts, logAct(LogDiscardCached))
		r.cached = nil
	}
	return append(acts, Action{Kind: ActReceive, Bulk: b, Load: mode})
}

// PayloadProgress reports that snapshot bytes arrived (the transfer is
// alive), received in all so far (PayloadReader.Received).
func (r *Replica) PayloadProgress(now, received int64) {
	if r.state == StateTransfer {
		r.lastIO, r.received = now, received
	}
}

// PayloadDone reports the end of ActReceive: the snapshot was read and
// loaded (err nil), or not (ErrTruncated: the link was lost). On success
// the replica takes the master's history and starts applying its stream.
func (r *Replica) PayloadDone(now int64, err error) []Action {
	if r.state != StateTransfer {
		return nil
	}
	if err == ErrTruncated {
		return r.cancel(now, logAct("# I/O error trying to sync with MASTER: connection lost"))
	} else if err != nil {
		from := "socket"
		if r.load == LoadViaDisk {
			// The file was loaded in place: the dataset is gone.
			from, r.cached = "disk", nil
		}
		return r.cancel(now, logAct("# Failed trying to load the MASTER synchronization DB from "+from+": "+err.Error()))
	}
	var acts []Action
	if r.cached != nil {
		acts = append(acts, logAct(LogDiscardCached))
		r.cached = nil
	}
	r.master = &Master{ReplID: r.fullID, Offset: r.fullOffset}
	if r.fullID != "" { // else SYNC: the master told us no history
		r.ids.ID = r.fullID
	}
	r.ids.ClearID2()
	r.state, r.downSince, r.lastHeard = StateConnected, 0, now
	acts = append(acts, Action{Kind: ActDisconnectReplicas}, Action{Kind: ActResetBacklog, Offset: max(r.fullOffset, 0)},
		logAct(LogSyncDone), Action{Kind: ActStream, Offset: r.fullOffset})
	if r.bulk.Mark != "" {
		acts = append(acts, r.Ack()) // puts us online at once (diskless)
	}
	return acts
}

// Applied reports that the stream was applied up to offset off (the
// master client's reploff), or that the master was heard from (off
// unchanged: a newline, a PING).
func (r *Replica) Applied(now int64, off int64) {
	if r.master != nil {
		r.master.Offset = max(r.master.Offset, off)
		r.lastHeard = now
	}
}

// LinkLost reports that the connection failed or closed (err describes
// why).
func (r *Replica) LinkLost(now int64, err error) []Action {
	switch {
	case r.state == StateConnected:
		return append([]Action{logAct(LogConnectionLost)}, r.lose(now)...)
	case r.state == StateTransfer && !r.bulkSeen:
		return r.cancel(now, logAct("# I/O error reading bulk count from MASTER: "+err.Error()))
	case r.state == StateTransfer:
		return r.cancel(now, logAct("# I/O error trying to sync with MASTER: connection lost"))
	case r.state == StateReceivePSYNCReply:
		return r.fail(logAct("# Failed to read response from the server: "+err.Error()), logAct(LogNoPSYNCReply))
	case r.state.handshake():
		return r.fail(logAct("# Failed to read response from the server: "+err.Error()), logAct(LogNoResponse))
	case r.state == StateConnecting:
		return r.fail(logAct("# Error condition on socket for SYNC: " + err.Error()))
	}
	return nil
}

// lose is replicationCacheMaster + replicationHandleMasterDisconnection:
// keep the master's history for PSYNC and reconnect at once.
func (r *Replica) lose(now int64) []Action {
	acts := []Action{{Kind: ActClose}, logAct(LogCaching)}
	r.cached, r.master = r.master, nil
	r.state, r.downSince = StateConnect, now
	acts = append(acts, logAct("Reconnecting to MASTER "+r.masterName()))
	return append(acts, r.connect(now)...)
}

// Stop ends replication (REPLICAOF NO ONE; replicationUnsetMaster): the
// link closes, the cached master is dropped, and the history shifts
// (IDs.Shift at offset, our stream's end) so our replicas can PSYNC with
// us. The driver forces a SELECT in the backlog (Backlog.ForceSelect).
func (r *Replica) Stop(offset int64, rnd io.Reader) []Action {
	var acts []Action
	if r.state != StateNone && r.state != StateConnect {
		acts = append(acts, Action{Kind: ActClose})
	}
	if r.cached != nil {
		acts = append(acts, logAct(LogDiscardCached))
	}
	r.master, r.cached, r.state, r.downSince = nil, nil, StateNone, 0
	acts = append(acts, logAct(r.ids.Shift(offset, rnd)))
	return append(acts, Action{Kind: ActDisconnectReplicas})
}
