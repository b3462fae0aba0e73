package clusterbus

// Accessors for the server: waking the drive loop after it queued
// messages on the Membership itself (PUBLISH), and the links as CLUSTER
// LINKS reports them.

// evKick wakes the loop: handle does nothing for it but flush.
const evKick eventKind = 255

// Kick makes the drive loop carry out what the Membership queued outside
// it (under Config.Mu) now rather than at the next tick. It never blocks:
// with events queued the loop flushes soon anyway.
func (t *Transport) Kick() {
	select {
	case t.events <- event{kind: evKick}:
	default:
	}
}
