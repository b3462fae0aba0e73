//go:build !linux

package netio

// watch reports false: without the hangup watcher (hangup_linux.go),
// ReadLoop reads until EAGAIN.
func (c *Conn) watch() bool { return false }
