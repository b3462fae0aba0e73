package persist

// Loading RDB images, as Redis's rdbLoad and rdbLoadRio: dbfilename at
// start, the RDB part of an AOF, and DEBUG RELOAD (debugCommand "reload").

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"time"

	"redgo/internal/keyspace"
	"redgo/internal/rdb"
)

// loadAtStart loads dbfilename if it exists. A *CorruptError (ErrCorrupt)
// tells a bad file from an I/O failure.
func (st *rdbState) loadAtStart() error {
	p := st.p
	f, err := p.fs.Open(st.path())
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("Fatal error loading the DB: %w. Exiting.", err)
	}
	defer f.Close()
	start := time.Now()
	var expired []ExpiredKey
	_, info, err := loadRDBInto(p.h.Keyspace(), f, loadOpts{logf: p.h.Logf, keepExpired: p.asReplica.Load(),
		expired:  func(db int, key string) { expired = append(expired, ExpiredKey{DB: db, Key: key}) },
		function: p.loadFunction})
	if err != nil {
		return fmt.Errorf("Fatal error loading the DB %s: %w. Exiting.", st.path(), err)
	}
	st.loadedKeys.Store(info.loaded)
	st.loadedExpired.Store(info.expired)
	p.h.Logf("Done loading RDB, keys loaded: %d, keys expired: %d.", info.loaded, info.expired)
	p.h.Logf("DB loaded from disk: %.3f seconds", time.Since(start).Seconds())
	if ri, ok := info.replInfo(); ok {
		p.restored = &ri
		p.expiredAtLoad = expired
	}
	return nil
}

type loadInfo struct {
	loaded, expired, empty int64
	repl                   ReplInfo // the aux fields repl-*: ID "" and DB -1 when absent
	replOffsetSet          bool
}

// replInfo returns the replication history the image recorded, if it is
// whole (loadDataFromDisk's rsi_is_valid).
func (li *loadInfo) replInfo() (ReplInfo, bool) {
	r := li.repl
	return r, len(r.ID) == 40 && li.replOffsetSet && r.Offset >= 0 && r.DB >= 0
}

// loadOpts qualify a load.
type loadOpts struct {
	locked      bool                             // the caller holds every shard lock
	merge       bool                             // a key already present is replaced (DEBUG RELOAD MERGE) instead of failing the load
	keepExpired bool                             // keep keys already expired (an AOF's RDB part: the log that follows may refer to them)
	logf        func(format string, args ...any) // gets the log lines, if set
	yield       func(offset int64)               // runs after each key with the bytes read so far, if set
	expired     func(db int, key string)         // gets each key skipped because it expired, if set
	function    func(code []byte) error          // loads a function library, if set
}

// loadRDBInto reads an RDB image from r into ks and returns the bytes it
// used. Keys already expired are skipped unless opt.keepExpired. A failure
// to read r is returned as it is (wrapped); any other failure is the
// image's fault: a *CorruptError.
func loadRDBInto(ks *keyspace.Keyspace, r io.Reader, opt loadOpts) (int64, loadInfo, error) {
	merge := opt.merge
	logf := opt.logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	src := &readErrs{r: r}
	if !opt.locked {
		ks.LockAll()
		defer ks.UnlockAll()
	}
	info := loadInfo{repl: ReplInfo{DB: -1}}
	d := rdb.NewDecoder(bufio.NewReaderSize(src, 1<<20))
	d.Limits = ks.Limits
	now := ks.Now()
	nowS := now / 1000
	var ctime int64
	_, err := d.Load(rdb.Handler{
		Aux: func(k, v []byte) error {
			switch string(k) {
			case "redis-ver":
				logf("Loading RDB produced by version %s", v)
			case "ctime":
				ctime, _ = strconv.ParseInt(string(v), 10, 64)
				if age := time.Now().Unix() - ctime; age >= 0 {
					logf("RDB age %d seconds", age)
				}
			case "used-mem":
				n, _ := strconv.ParseInt(string(v), 10, 64)
				logf("RDB memory usage when created %.2f Mb", float64(n)/(1024*1024))
			case "repl-stream-db":
				if n, err := strconv.Atoi(string(v)); err == nil {
					info.repl.DB = n
				}
			case "repl-id":
				info.repl.ID = string(v)
			case "repl-offset":
				if n, err := strconv.ParseInt(string(v), 10, 64); err == nil {
					info.repl.Offset, info.replOffsetSet = n, true
				}
			}
			return nil
		},
		SelectDB: func(db int) error {
			if db >= ks.NumDB() {
				return fmt.Errorf("FATAL: Data file was created with a Redis server configured to handle more than %d databases", ks.NumDB())
			}
			return nil
		},
		Entry: func(e *rdb.Entry) error {
			if e.DB >= ks.NumDB() {
				return fmt.Errorf("database %d out of range", e.DB)
			}
			if e.Expire != 0 && e.Expire < now && !opt.keepExpired {
				info.expired++
				if opt.expired != nil {
					opt.expired(e.DB, string(e.Key))
				}
				return nil
			}
			db := ks.DB(e.DB)
			if db.RawGet(e.Key) != nil {
				if !merge {
					return fmt.Errorf("RDB has duplicated key '%s' in DB %d", e.Key, e.DB)
				}
				db.Delete(e.Key)
			}
			db.Load(e.Key, e.Obj)
			if e.Idle >= 0 && e.Idle <= nowS {
				e.Obj.SetLRU(uint32(nowS - e.Idle))
			}
			info.loaded++
			if opt.yield != nil {
				opt.yield(d.Offset())
			}
			return nil
		},
		Function: func(code []byte) error {
			if opt.function == nil {
				logf("# Skipping a function library in the RDB file")
				return nil
			}
			return opt.function(code)
		},
		EmptyKey: func(key []byte) { info.empty++ },
	})
	if info.empty > 0 {
		logf("Done loading RDB, empty keys skipped: %d.", info.empty)
	}
	return d.Offset(), info, src.classify(err)
}

// DebugReload is DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE]: save the dataset,
// empty it and load the file back. The caller holds every shard lock
// (DEBUG is LockAll). The error texts are Redis's replies.
func (p *Persist) DebugReload(merge, noflush, nosave bool) error {
	st := p.rdbOf()
	ks := p.h.Keyspace()
	if !nosave {
		err := st.writeAtomic(fmt.Sprintf("temp-%d-reload.rdb", os.Getpid()),
			func(w io.Writer) error { return p.WriteRDB(ks, w, false) })
		if err != nil {
			p.h.Logf("# %v", err)
			return errors.New(errReloadSave)
		}
		p.markSaved(p.h.Dirty())
	}
	if !noflush {
		for i := 0; i < ks.NumDB(); i++ {
			ks.DB(i).Flush()
		}
		p.flushFunctions()
	}
	f, err := p.fs.Open(st.path())
	if err != nil {
		p.h.Logf("# %v", err)
		return errors.New(errReloadLoad)
	}
	defer f.Close()
	if _, _, err := loadRDBInto(ks, f, loadOpts{locked: true, merge: merge,
		function: func(code []byte) error { return p.loadFunctionAs(code, merge) }}); err != nil {
		p.h.Logf("# Error loading the RDB dump: %v", err)
		return errors.New(errReloadLoad)
	}
	p.h.Logf("DB reloaded by DEBUG RELOAD")
	return nil
}

// LoadRDBPreamble loads an RDB image (an AOF's RDB base, or the preamble
// of an old single-file AOF) from r into ks, keeping keys already expired
// (the log that follows may refer to them), and returns the bytes it used.
func LoadRDBPreamble(ks *keyspace.Keyspace, r io.Reader) (int64, error) {
	return loadPreamble(ks, r, nil)
}

func loadPreamble(ks *keyspace.Keyspace, r io.Reader, function func([]byte) error) (int64, error) {
	n, _, err := loadRDBInto(ks, r, loadOpts{keepExpired: true, function: function})
	return n, err
}
