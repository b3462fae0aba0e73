package replication

// The framing of the snapshot a master sends in a full resynchronization.
// Mirrors the transfer half of Redis 7.0's readSyncBulkPayload
// (replication.c): "$<len>\r\n" then len bytes (disk-based transfer), or
// "$EOF:<40 bytes mark>\r\n" then the payload and the mark again
// (diskless transfer: the master does not know the size in advance).

import (
	"bytes"
	"errors"
	"io"
	"strconv"
	"strings"
)

// ErrTruncated: the connection ended before the payload did (before len
// bytes, or before the EOF mark).
var ErrTruncated = errors.New("replication: transfer ended before the end of the payload")

// ErrBadBulk: a bulk header that is neither $<len> nor $EOF:<mark>.
var ErrBadBulk = errors.New("replication: bad bulk header from the master")

// Bulk is a payload's framing, from the line that announces it.
type Bulk struct {
	Size int64  // $<len>: payload bytes; -1 with an EOF mark
	Mark string // $EOF:<mark>: the 40 bytes that end the payload; "" for $<len>
}

// ParseBulk reads the announcing line without its CRLF: "$EOF:<mark>"
// (the first 40 bytes after EOF: are the mark, as Redis takes them) or
// "$<len>". Where Redis reads a malformed length as 0 and then fails to
// load, ParseBulk returns ErrBadBulk.
func ParseBulk(line string) (Bulk, error) {
	if !strings.HasPrefix(line, "$") {
		return Bulk{}, ErrBadBulk
	}
	if m, ok := strings.CutPrefix(line[1:], "EOF:"); ok && len(m) >= IDLen {
		return Bulk{Size: -1, Mark: m[:IDLen]}, nil
	}
	n, err := strconv.ParseInt(line[1:], 10, 64)
	if err != nil || n < 0 {
		return Bulk{}, ErrBadBulk
	}
	return Bulk{Size: n}, nil
}

// PayloadReader reads a payload framed as b announced from the
// connection r (positioned after the announcing line): Read returns the
// payload's bytes, then io.EOF once it is complete; ErrTruncated if r ends
// first; r's other errors as they come. It reports success (io.EOF) only
// for a complete payload.
//
// For $<len> it never reads past the payload, so the command stream that
// follows stays in r. With an EOF mark it reads ahead; whatever came
// after the mark is returned by Rest (a master sends nothing after it
// until the replica's first REPLCONF ACK, but nothing is lost if it did).
type PayloadReader struct {
	r        io.Reader
	left     int64  // $<len>: payload bytes not read yet
	mark     []byte // EOF mark; nil for $<len>
	work     []byte // EOF mark: read buffer
	pend     []byte // EOF mark: bytes read, not returned, maybe part of the mark
	rest     []byte // bytes read after the mark
	done     bool   // the mark was seen
	err      error  // sticky
	received int64
}

// NewPayloadReader returns a reader of the payload b frames.
func NewPayloadReader(r io.Reader, b Bulk) *PayloadReader {
	p := &PayloadReader{r: r, left: b.Size}
	if b.Mark != "" {
		p.mark = []byte(b.Mark)
		p.work = make([]byte, 16*1024+IDLen)
	}
	return p
}

// Received returns the bytes read from the connection so far, mark
// included (repl_transfer_read).
func (p *PayloadReader) Received() int64 { return p.received }

// Rest returns the bytes read from the connection after the EOF mark.
func (p *PayloadReader) Rest() []byte { return p.rest }

// Read implements io.Reader.
func (p *PayloadReader) Read(buf []byte) (int, error) {
	if p.err != nil {
		return 0, p.err
	}
	if len(buf) == 0 {
		return 0, nil
	}
	if p.mark != nil {
		return p.readMarked(buf)
	}
	return p.readSized(buf)
}

func (p *PayloadReader) readSized(buf []byte) (int, error) {
	if p.left == 0 {
		p.err = io.EOF
		return 0, io.EOF
	}
	if int64(len(buf)) > p.left {
		buf = buf[:p.left]
	}
	n, err := p.r.Read(buf)
	p.left -= int64(n)
	p.received += int64(n)
	switch {
	case p.left == 0:
		return n, nil
	case err == io.EOF:
		p.err = ErrTruncated
	case err != nil:
		p.err = err
	}
	return n, p.err
}

// readMarked returns bytes that cannot be part of the mark (all but the
// last IDLen-1 read), reading more only when there are none.
func (p *PayloadReader) readMarked(buf []byte) (int, error) {
	for {
		if p.done {
			if len(p.pend) == 0 {
				p.err = io.EOF
				return 0, io.EOF
			}
			n := copy(buf, p.pend)
			p.pend = p.pend[n:]
			return n, nil
		}
		if safe := len(p.pend) - (IDLen - 1); safe > 0 {
			n := copy(buf, p.pend[:safe])
			p.pend = p.pend[n:]
			return n, nil
		}
		if err := p.fill(); err != nil {
			p.err = err
			return 0, err
		}
	}
}

// fill reads once more after the pending bytes (fewer than IDLen) and
// looks for the mark in them.
func (p *PayloadReader) fill() error {
	k := copy(p.work, p.pend)
	n, err := p.r.Read(p.work[k:])
	p.received += int64(n)
	p.pend = p.work[:k+n]
	if i := bytes.Index(p.pend, p.mark); i >= 0 {
		p.rest = append([]byte(nil), p.pend[i+IDLen:]...)
		p.pend, p.done = p.pend[:i], true
		return nil
	}
	if err == io.EOF {
		return ErrTruncated
	}
	return err
}
