package replication

// Replication IDs. Mirrors Redis 7.0's changeReplicationId,
// clearReplicationId2 and shiftReplicationId (replication.c) and
// getRandomHexChars (util.c).

import (
	"encoding/hex"
	"io"
	"strconv"
	"strings"
)

// IDLen is the length of a replication ID (CONFIG_RUN_ID_SIZE).
const IDLen = 40

// NoID is the cleared secondary ID (clearReplicationId2).
var NoID = strings.Repeat("0", IDLen)

// IDs is a server's replication history: its current ID and the ID it
// inherited from its former master, valid up to SecondOffset.
type IDs struct {
	ID           string // replid: 40 hex characters
	ID2          string // replid2: the former master's ID, NoID if none
	SecondOffset int64  // second_replid_offset: PSYNC offsets with ID2 are valid up to it; -1 if none
}

// NewID returns a random replication ID, reading randomness from rnd
// (crypto/rand.Reader in a server, a seeded source in tests).
func NewID(rnd io.Reader) string {
	var b [IDLen / 2]byte
	if _, err := io.ReadFull(rnd, b[:]); err != nil {
		panic("replication: no randomness for a replication ID: " + err.Error())
	}
	return hex.EncodeToString(b[:])
}

// NewIDs returns a new history: a random ID and no secondary ID.
func NewIDs(rnd io.Reader) IDs { return IDs{ID: NewID(rnd), ID2: NoID, SecondOffset: -1} }

// Change gives the history a new random ID (changeReplicationId).
func (x *IDs) Change(rnd io.Reader) { x.ID = NewID(rnd) }

// ClearID2 forgets the secondary ID (clearReplicationId2).
func (x *IDs) ClearID2() { x.ID2, x.SecondOffset = NoID, -1 }

// NewHistory is what a master does when it creates its backlog for its
// first replica (syncCommand): a new ID, no secondary ID. It returns
// Redis's log line.
func (x *IDs) NewHistory(rnd io.Reader) string {
	x.Change(rnd)
	x.ClearID2()
	return "Replication backlog created, my new replication IDs are '" + x.ID + "' and '" + x.ID2 + "'"
}

// Shift is shiftReplicationId, for a replica promoted to master whose
// stream ends at offset (master_repl_offset): the current ID becomes the
// secondary one, valid up to offset+1 (a replica that has the same
// history up to offset asks for offset+1), and a new random ID starts a
// new history. It returns Redis's log line (a warning).
func (x *IDs) Shift(offset int64, rnd io.Reader) string {
	x.ID2, x.SecondOffset = x.ID, offset+1
	x.Change(rnd)
	return "# Setting secondary replication ID to " + x.ID2 + ", valid up to offset: " +
		strconv.FormatInt(x.SecondOffset, 10) + ". New replication ID is " + x.ID
}
