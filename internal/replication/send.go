package replication

// The one I/O helper: a replica's connection fed from the backlog (what
// Redis's writeToClient does with a replica's share of the replication
// buffer). It blocks on its writer and on Wait; it starts no goroutine.

import "io"

// sendBuf is how much Send copies out of the backlog per write.
const sendBuf = 16 * 1024

// Send writes the stream after offset from to w, waiting for more when it
// has sent everything, until stop is closed (nil error) or an error:
// ErrTrimmed (the replica fell behind what the backlog holds),
// ErrClosed, ErrAhead, or w's. It returns the offset sent up to.
func (b *Backlog) Send(w io.Writer, from int64, stop <-chan struct{}) (int64, error) {
	buf := make([]byte, sendBuf)
	for {
		n, next, err := b.ReadFrom(from, buf)
		if err != nil {
			return from, err
		}
		if n == 0 {
			select {
			case <-b.Wait(from):
				continue
			case <-stop:
				return from, nil
			}
		}
		if _, err := w.Write(buf[:n]); err != nil {
			return from, err
		}
		from = next
	}
}
