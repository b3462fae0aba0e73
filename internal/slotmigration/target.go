package slotmigration

import (
	"fmt"
	"sync"

	"redgo/internal/slot"
)

// Import is one import link on the target: the connection that sent
// CLUSTER SYNCSLOTS START. Its commands on these slots run although the
// target does not serve them yet.
type Import struct {
	From  string // the source's node name
	Slots []int
	has   [slot.Count]bool
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
