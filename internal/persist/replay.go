package persist

// The AOF replayer, as Redis's loadSingleAppendOnlyFile with its fake
// client: every command read from a file runs against a keyspace through
// the host (Host.ExecLoaded); SELECT switches the database and MULTI ...
// EXEC is applied at the EXEC.

import (
	"fmt"
	"io"
	"strconv"

	"redgo/internal/aof"
	"redgo/internal/commands"
	"redgo/internal/keyspace"
	"redgo/internal/resp"
)

// replayer applies AOF commands to a keyspace, as Redis's AOF client:
// SELECT switches the database, MULTI ... EXEC is applied at the EXEC, and
// replies (including errors) are dropped.
type replayer struct {
	ks      *keyspace.Keyspace
	h       Host // runs each command (ExecLoaded)
	db      int
	inMulti bool
	queue   [][][]byte
	w       resp.Writer
}

func newReplayer(h Host, ks *keyspace.Keyspace) *replayer { return &replayer{ks: ks, h: h} }

// replayFrom is replay that tells a failed read apart (ioErr): the
// scanner takes any read error for the end of the input, so without this
// a disk error would look like a clean end or a torn tail.
func (r *replayer) replayFrom(in io.Reader, base, size int64) (valid int64, err, ioErr error) {
	src := &readErrs{r: in}
	valid, err = r.replay(src, base, size)
	return valid, err, src.err
}

// replay reads commands from r (size bytes, starting at file offset base)
// and applies them. It returns the offset up to which the file was whole:
// a transaction cut at the end is dropped and counts as truncated.
func (r *replayer) replay(in io.Reader, base, size int64) (int64, error) {
	sc := aof.NewScanner(in, base, size)
	valid, beforeMulti := base, base
	for {
		args, err := sc.Next()
		if err == io.EOF {
			if r.inMulti {
				r.inMulti, r.queue = false, nil
				return beforeMulti, &aof.Error{Truncated: true, ValidUpTo: beforeMulti, At: sc.Offset(),
					Msg: "Revert incomplete MULTI/EXEC transaction"}
			}
			return sc.Offset(), nil
		}
		if err == nil && len(args) == 0 {
			err = &aof.Error{ValidUpTo: sc.Start, At: sc.Start, Msg: "Invalid number of arguments"}
		}
		if err != nil {
			if e := aof.AsError(err); e != nil && r.inMulti {
				e.ValidUpTo = beforeMulti
				r.inMulti, r.queue = false, nil
				return beforeMulti, e
			}
			return valid, err
		}
		if commands.EqualFold(args[0], "multi") && !r.inMulti {
			beforeMulti = sc.Start
		}
		if err := r.apply(args); err != nil {
			return valid, corrupt(fmt.Errorf("%w at offset %d", err, sc.Start))
		}
		if !r.inMulti {
			valid = sc.Offset()
		}
	}
}

// apply runs one command read from the log.
func (r *replayer) apply(args [][]byte) error {
	switch {
	case commands.EqualFold(args[0], "multi"):
		r.inMulti, r.queue = true, r.queue[:0]
		return nil
	case commands.EqualFold(args[0], "exec"):
		if !r.inMulti {
			return nil
		}
		r.inMulti = false
		for _, q := range r.queue {
			if err := r.run(q); err != nil {
				return err
			}
		}
		r.queue = r.queue[:0]
		return nil
	}
	cmd := commands.Lookup(args[0])
	if cmd == nil {
		return fmt.Errorf("Unknown command '%s'", args[0])
	}
	if sub, _ := commands.Resolve(cmd, args); sub != nil && sub.Handler == nil {
		return fmt.Errorf("Command '%s' is not supported by this server", args[0])
	}
	if r.inMulti {
		cp := make([][]byte, len(args))
		for i, a := range args {
			cp[i] = append([]byte(nil), a...)
		}
		r.queue = append(r.queue, cp)
		return nil
	}
	return r.run(args)
}

func (r *replayer) run(args [][]byte) (err error) {
	if commands.EqualFold(args[0], "select") {
		if len(args) == 2 {
			if n, e := strconv.Atoi(string(args[1])); e == nil && n >= 0 && n < r.ks.NumDB() {
				r.db = n
			}
		}
		return nil
	}
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("Command '%s' cannot be replayed from the AOF (%v)", args[0], p)
		}
	}()
	r.w.Buf = r.w.Buf[:0]
	r.h.ExecLoaded(r.ks, r.db, args, &r.w)
	return nil
}
