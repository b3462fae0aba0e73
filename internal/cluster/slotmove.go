package cluster

import (
	"errors"
	"fmt"
)

// Whole-slot transfers (CLUSTER MIGRATESLOTS, redgo to redgo): the
// target checks the slots before the stream starts (CheckImport), takes
// them when the stream is whole (TakeSlots), and the source hands them
// over (GiveSlots). The target bumps its configEpoch, as SETSLOT NODE
// does at the end of an import, so the cluster adopts its claim.

// CheckImport reports why this node cannot import slots from node from:
// it must be a master, and from must be a master that owns every slot.
func (s *State) CheckImport(from string, slots []int) error {
	if s.IsReplica() {
		return errors.New("ERR Slot import is only allowed on a master")
	}
	n := s.Lookup(from)
	if n == nil {
		return fmt.Errorf("ERR I don't know about node %s", from)
	}
	if n == s.Myself {
		return errors.New("ERR Can't import slots from myself")
	}
	for _, j := range slots {
		if s.Owner[j] != n {
			return fmt.Errorf("ERR Slot %d is not served by node %s", j, from)
		}
		if s.ImportingFrom(j) != nil || s.MigratingTo(j) != nil {
			return fmt.Errorf("ERR Slot %d is in a SETSLOT migration", j)
		}
	}
	return nil
}

// TakeSlots makes myself the owner of slots, which node from serves,
// under a new configEpoch: the end of a whole-slot import. nodes.conf is
// saved and fsynced before the broadcast that announces it.
func (s *State) TakeSlots(from string, slots []int) error {
	if err := s.CheckImport(from, slots); err != nil {
		return err
	}
	for _, j := range slots {
		s.DelSlot(j)
		s.AddSlot(s.Myself, j)
	}
	s.BumpEpoch()
	s.Do(TodoSaveConfig | TodoFsyncConfig | TodoUpdateState | TodoBroadcastPong)
	return nil
}

// CheckExport reports why this node cannot move slots to node to: it
// must own them all, not in a SETSLOT migration, and to must be another
// master.
func (s *State) CheckExport(to string, slots []int) error {
	if s.IsReplica() {
		return errors.New("ERR Slot migration is only allowed on a master")
	}
	n := s.Lookup(to)
	if n == nil {
		return fmt.Errorf("ERR Unknown node %s", to)
	}
	if n == s.Myself {
		return errors.New("ERR Target node is myself")
	}
	if !n.IsMaster() {
		return errors.New("ERR Target node is not a master")
	}
	for _, j := range slots {
		if s.Owner[j] != s.Myself {
			return fmt.Errorf("ERR I'm not the owner of hash slot %d", j)
		}
		if s.ImportingFrom(j) != nil || s.MigratingTo(j) != nil {
			return fmt.Errorf("ERR Slot %d is in a SETSLOT migration", j)
		}
	}
	return nil
}

// GiveSlots records that node to serves slots now: the source's side of
// a finished transfer (the target's new epoch settles any disagreement).
// A master left without slots follows them as a replica, as after
// SETSLOT NODE.
func (s *State) GiveSlots(to string, slots []int) error {
	n := s.Lookup(to)
	if n == nil {
		return fmt.Errorf("ERR Unknown node %s", to)
	}
	me := s.Myself
	for _, j := range slots {
		if s.Owner[j] == me {
			s.DelSlot(j)
			s.AddSlot(n, j)
		}
	}
	if me.IsMaster() && me.Slots.Count() == 0 && s.Opts.AllowReplicaMigration && n.IsMaster() {
		s.SetMaster(n)
		s.Do(TodoFsyncConfig)
	}
	s.Do(TodoSaveConfig | TodoUpdateState)
	return nil
}

// OwnerName returns the name of the node serving slot j, "" if none.
func (s *State) OwnerName(j int) string {
	if n := s.Owner[j]; n != nil {
		return n.Name
	}
	return ""
}
