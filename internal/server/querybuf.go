package server

// The query buffer's size over time, as Redis's
// clientsCronResizeQueryBuffer: a buffer much bigger than the input of
// late shrinks, and an idle connection gives its buffer back.

import (
	"errors"
	"os"
	"time"

	"redgo/internal/netio"
)

const (
	qbufReadLen      = 16 << 10 // what one read takes (PROTO_IOBUF_LEN)
	qbufResizeAbove  = 32 << 10 // smaller buffers are never trimmed (PROTO_RESIZE_THRESHOLD)
	qbufDropAbove    = 1 << 20  // bigger ones are dropped once consumed (redgo's own rule)
	qbufIdleSeconds  = 2        // idle longer: the buffer is given back
	qbufResizeMargin = 2        // trimmed when more than this times the peak
)

// notePeak records the input pending in the query buffer after a read:
// the peak of the current cron period.
func (c *Client) notePeak() {
	if p := len(c.qbuf) - c.qr; p > c.qbufPeak {
		c.qbufPeak = p
	}
}

// resizeQbuf runs when every request of the buffer was served (the
// connection's goroutine). Once per cron period (100 ms) a buffer over
// 32 KB that is more than twice the period's peak shrinks to that peak,
// at least one read's worth; the peak restarts. A buffer over 1 MB is
// dropped at once.
func (c *Client) resizeQbuf() {
	c.qbuf, c.qr = c.qbuf[:0], 0
	if cap(c.qbuf) > qbufDropAbove {
		c.qbuf = make([]byte, 0, qbufReadLen)
		c.qbufResized()
	}
	tick := c.srv.cronTick.Load()
	if tick == c.peakTick {
		return
	}
	if cap(c.qbuf) > qbufResizeAbove && cap(c.qbuf)/qbufResizeMargin > c.qbufPeak {
		c.qbuf = make([]byte, 0, max(c.qbufPeak, qbufReadLen))
		c.qbufResized()
	}
	c.qbufPeak, c.peakTick = 0, tick
}

// askIdleRelease asks an idle connection's goroutine, blocked reading
// into its buffer, to give the buffer back (the cron, once a second):
// its read is cut short by a deadline in the past and idleRelease tells
// it why. Only a goroutine waiting in readMore is asked: not a blocked
// client's reader (watchDisconnect), a script debugger's, or a replica
// link. Callers hold s.mu.
func (c *Client) askIdleRelease(now int64) {
	if now-c.lastInteraction.Load() <= qbufIdleSeconds || c.qbufCap.Load() == 0 || !c.inRead.Load() ||
		c.blocked.Load() != nil || c.replicaLink.Load() || !netio.CanWaitReadable(c.conn) {
		return
	}
	if c.idleRelease.Swap(true) {
		return // asked already
	}
	c.conn.SetReadDeadline(time.Now())
}

// idleReleased handles a read that failed with err: when it is the
// deadline askIdleRelease set, the buffer (if it holds no input) is given
// back until input arrives, and the read is to be tried again (true).
func (c *Client) idleReleased(err error) bool {
	if !c.idleRelease.Swap(false) || !errors.Is(err, os.ErrDeadlineExceeded) {
		return false
	}
	c.conn.SetReadDeadline(time.Time{})
	if c.qr != len(c.qbuf) {
		return true // input came meanwhile: keep it
	}
	c.qbuf, c.qr = nil, 0
	c.qbufResized()
	if netio.WaitReadable(c.conn) != nil {
		return false // closed meanwhile
	}
	c.qbuf = make([]byte, 0, qbufReadLen)
	c.qbufResized()
	return true
}
