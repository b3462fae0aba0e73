package replication

// What the replica's state machine asks of its driver: where Redis's
// syncWithMaster and friends call connConnect, connWrite, connClose,
// serverLog, disconnectSlaves or createReplicationBacklog themselves, a
// Replica returns Actions.

import (
	"strconv"

	"redgo/internal/aof"
)

// ActionKind says what an Action asks the driver to do.
type ActionKind int

const (
	// ActDial: connect to Addr, then call Dialed.
	ActDial ActionKind = iota + 1
	// ActSend: write Data to the master.
	ActSend
	// ActClose: close the connection to the master (nothing more is read
	// from it).
	ActClose
	// ActReceive: read the snapshot framed as Bulk from the connection
	// (NewPayloadReader), load it, and call PayloadDone; call
	// PayloadProgress as bytes arrive.
	ActReceive
	// ActResetBacklog: the server's history restarts after Offset (a full
	// resync): Reset the backlog to it. Our own replicas were told to go
	// (ActDisconnectReplicas) just before.
	ActResetBacklog
	// ActDisconnectReplicas: close the links of our own replicas (they
	// must resync with our new history).
	ActDisconnectReplicas
	// ActStream: the connection now carries the master's stream after
	// Offset: apply it command by command (and append it to our backlog),
	// calling Applied with the offset after each command.
	ActStream
	// ActLog: write Text to the log ("# " marks a warning).
	ActLog
	// ActFailoverRejected: the target of our FAILOVER refused the PSYNC
	// that hands over to it (syncWithMaster's abortFailover): the
	// failover ends and we are a master again.
	ActFailoverRejected
)

var actionNames = [...]string{ActDial: "dial", ActSend: "send", ActClose: "close", ActReceive: "receive",
	ActResetBacklog: "reset-backlog", ActDisconnectReplicas: "disconnect-replicas", ActStream: "stream", ActLog: "log",
	ActFailoverRejected: "failover-rejected"}

// Action is one thing the driver must do, in order.
type Action struct {
	Kind   ActionKind
	Addr   string   // ActDial: host:port
	Data   []byte   // ActSend
	Bulk   Bulk     // ActReceive
	Load   LoadMode // ActReceive
	Offset int64    // ActStream, ActResetBacklog
	Text   string   // ActLog
}

// String renders the action as one transcript line.
func (a Action) String() string {
	s := actionNames[a.Kind]
	switch a.Kind {
	case ActDial:
		return s + " " + a.Addr
	case ActSend:
		return s + " " + strconv.Quote(string(a.Data))
	case ActReceive:
		if a.Load != LoadInPlace {
			s += " " + loadNames[a.Load]
		}
		if a.Bulk.Mark != "" {
			return s + " eof-mark " + a.Bulk.Mark
		}
		return s + " " + strconv.FormatInt(a.Bulk.Size, 10) + " bytes"
	case ActStream, ActResetBacklog:
		return s + " after " + strconv.FormatInt(a.Offset, 10)
	case ActLog:
		return s + " " + a.Text
	}
	return s
}

// LoadMode says how a full sync's snapshot is loaded (repl-diskless-load).
type LoadMode int

const (
	// LoadInPlace empties the dataset, then loads (disabled, on-empty-db).
	LoadInPlace LoadMode = iota
	// LoadAside loads into an empty dataset and swaps it in at the end:
	// a failed load leaves the old dataset (swapdb).
	LoadAside
	// LoadAsync is LoadAside serving the old dataset meanwhile (swapdb
	// when the master continues the history the dataset belongs to:
	// async_loading).
	LoadAsync
	// LoadViaDisk writes the image to a file first, serving the old
	// dataset meanwhile, then loads the file in place (disabled: the
	// file becomes dbfilename, as Redis's).
	LoadViaDisk
)

var loadNames = [...]string{LoadInPlace: "in-place", LoadAside: "aside", LoadAsync: "async", LoadViaDisk: "via-disk"}

func logAct(text string) Action { return Action{Kind: ActLog, Text: text} }

func sendAct(args ...string) Action {
	return Action{Kind: ActSend, Data: aof.AppendCommandStrings(nil, args...)}
}
