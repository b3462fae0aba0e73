package slotmigration

import (
	"errors"
	"fmt"
	"strconv"
	"sync"

	"redgo/internal/datatype"
	"redgo/internal/keyspace"
	"redgo/internal/rdb"
	"redgo/internal/slot"
)

// Import is one import link on the target: the connection that sent
// CLUSTER SYNCSLOTS START. Its commands on these slots run although the
// target does not serve them yet.
type Import struct {
	From  string // the source's node name
	Slots []int
	has   [slot.Count]bool
	keys  []Key // DecodeBatch's result, reused
}

// Has reports whether slot j is imported by this link.
func (im *Import) Has(j int) bool { return im.has[j] }

// Imports is the target's registry of import links: a slot is imported
// by at most one link at a time.
type Imports struct {
	mu     sync.Mutex
	bySlot map[int]*Import
}

// Start registers an import of slots from node from.
func (r *Imports) Start(from string, slots []int) (*Import, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.bySlot == nil {
		r.bySlot = map[int]*Import{}
	}
	for _, j := range slots {
		if r.bySlot[j] != nil {
			return nil, fmt.Errorf("ERR Slot %d is already being imported", j)
		}
	}
	im := &Import{From: from, Slots: slots}
	for _, j := range slots {
		im.has[j] = true
		r.bySlot[j] = im
	}
	return im, nil
}

// End forgets im (finished or abandoned).
func (r *Imports) End(im *Import) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, j := range im.Slots {
		if r.bySlot[j] == im {
			delete(r.bySlot, j)
		}
	}
}

// Len is the number of slots being imported.
func (r *Imports) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.bySlot)
}

// Key is one key of a CLUSTER SYNCSLOTS KEYS batch, decoded.
type Key struct {
	Name     []byte
	ExpireAt int64 // absolute, unix ms; 0: none
	Obj      *keyspace.Object
}

// Errors of a batch, RESTORE's texts where it has them.
var (
	errBadPayload = errors.New("ERR DUMP payload version or checksum are wrong")
	errBadFormat  = errors.New("ERR Bad data format")
	errBatchArgs  = errors.New("ERR syntax error")
)

// DecodeBatch checks and decodes the arguments of CLUSTER SYNCSLOTS KEYS
// <slot> <key> <abs-expiry-ms> <payload> [<key> <abs-expiry-ms> <payload>
// ...]: the slot must be imported by im and every key must belong to it.
// Nothing is applied when it fails. Plain strings alias args
// (rdb.RestoreBorrowed): the caller stores them before args are reused.
// The slice returned is im's, valid until its next call.
func (im *Import) DecodeBatch(args [][]byte, lim *datatype.Limits) (int, []Key, error) {
	if len(args) < 4 || (len(args)-1)%3 != 0 {
		return 0, nil, errBatchArgs
	}
	j, err := strconv.Atoi(string(args[0]))
	if err != nil || j < 0 || j >= slot.Count {
		return 0, nil, errors.New("ERR Invalid or out of range slot")
	}
	if !im.has[j] {
		return 0, nil, fmt.Errorf("ERR Slot %d is not being imported by this connection", j)
	}
	keys := im.keys[:0]
	for i := 1; i < len(args); i += 3 {
		k, exp, p := args[i], args[i+1], args[i+2]
		if slot.Of(k) != j {
			return 0, nil, fmt.Errorf("ERR Key '%.128s' is not in slot %d", k, j)
		}
		at, err := strconv.ParseInt(string(exp), 10, 64)
		if err != nil || at < 0 {
			return 0, nil, errors.New("ERR Invalid TTL value, must be >= 0")
		}
		o, err := rdb.RestoreBorrowed(p, lim)
		if errors.Is(err, rdb.ErrBadPayload) {
			return 0, nil, errBadPayload
		} else if err != nil {
			return 0, nil, errBadFormat
		}
		keys = append(keys, Key{Name: k, ExpireAt: at, Obj: o})
	}
	im.keys = keys
	return j, keys, nil
}
