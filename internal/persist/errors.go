package persist

// The errors persistence returns, as documented sentinels and types: a
// load that fails on a bad file (Redis's rdbReportCorruptRDB, the AOF's
// "Bad file format") is told from one that fails to read it.

import (
	"errors"
	"io"
)

var (
	// ErrCorrupt matches (errors.Is) every load error caused by the
	// content of a file, as opposed to a failure to read it.
	ErrCorrupt = errors.New("corrupt data")
	// ErrSaveInProgress is SAVE or BGSAVE while a save runs.
	ErrSaveInProgress = errors.New("Background save already in progress")
	// ErrRewriteInProgress is BGREWRITEAOF while a rewrite runs.
	ErrRewriteInProgress = errors.New("Background append only file rewriting already in progress")

	errSaveAborted    = errors.New("save aborted")
	errRewriteAborted = errors.New("rewrite aborted")
)

// Reply texts, Redis's own: the error is returned as it is for the
// command's reply (DEBUG RELOAD, CONFIG SET appendonly yes).
const (
	errAOFTurnOn  = "Unable to turn on AOF. Check server logs."
	errReloadSave = "ERR Error trying to save the DB"
	errReloadLoad = "ERR Error trying to load the RDB dump, check server logs."
	errMisconfRDB = "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. " +
		"Commands that may modify the data set are disabled, because this instance is configured to report errors " +
		"during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs " +
		"for details about the RDB error."
)

// CorruptError is a load that failed on the file's content. Its text is
// the cause's; errors.Is(err, ErrCorrupt) holds.
type CorruptError struct {
	Err error  // what was wrong (an *aof.Error, an rdb decoding error...)
	Msg string // the text, if not Err's
}

func (e *CorruptError) Error() string {
	if e.Msg != "" {
		return e.Msg
	}
	return e.Err.Error()
}

// Unwrap returns the cause.
func (e *CorruptError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrCorrupt) true.
func (e *CorruptError) Is(target error) bool { return target == ErrCorrupt }

// corrupt wraps err (non-nil) as a *CorruptError, unless it is one.
func corrupt(err error) error {
	if err == nil || errors.Is(err, ErrCorrupt) {
		return err
	}
	return &CorruptError{Err: err}
}

// readErrs remembers the first error (other than io.EOF) its reader
// returned, so that a decoder's failure can be told apart: an I/O error,
// or corruption.
type readErrs struct {
	r   io.Reader
	err error
}

func (r *readErrs) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if err != nil && err != io.EOF && r.err == nil {
		r.err = err
	}
	return n, err
}

// classify returns nil for nil, the read error (wrapped with what the
// decoder made of it) if the reader failed, else err as corruption.
func (r *readErrs) classify(err error) error {
	switch {
	case err == nil:
		return nil
	case r.err != nil:
		if errors.Is(err, r.err) {
			return err
		}
		return &ioError{err: err, cause: r.err}
	}
	return corrupt(err)
}

// ioError is a decoder's error caused by a read failure: its text is the
// decoder's, errors.Is/As reach the read error.
type ioError struct{ err, cause error }

func (e *ioError) Error() string { return e.err.Error() }
func (e *ioError) Unwrap() error { return e.cause }
