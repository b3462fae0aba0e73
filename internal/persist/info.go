package persist

// The INFO persistence fields, in Redis 7.0's order (genRedisInfoString's
// "persistence" section), and the refusal of writes after a failed save
// (writeCommandsDeniedByDiskError).

import (
	"strconv"
	"time"
)

// RDBStatus is what INFO persistence reports about RDB saving and loading.
type RDBStatus struct {
	BgsaveInProgress bool
	CowSize          int64 // bytes captured early by the running save, not yet written
	CowPeak          int64
	ForkPerc         float64 // progress of the running save, percent
	KeysProcessed    int64
	KeysTotal        int64
	CurrentSecs      int64 // -1 when no save runs
	LastOK           bool
	LastBgsaveSecs   int64
	Saves            int64
	LastCow          int64
	LoadedKeys       int64
	LoadedExpired    int64
}

// RDBStatus returns the state of RDB saving and loading.
func (p *Persist) RDBStatus() RDBStatus {
	st := p.rdbSt.Load()
	if st == nil { // no save or load ever ran
		return RDBStatus{CurrentSecs: -1, LastOK: true, LastBgsaveSecs: -1}
	}
	out := RDBStatus{CurrentSecs: -1, LastOK: st.lastOK.Load(), LastBgsaveSecs: st.lastBgsaveSecs.Load(),
		Saves: st.saves.Load(), LastCow: st.lastCow.Load(), LoadedKeys: st.loadedKeys.Load(),
		LoadedExpired: st.loadedExpired.Load()}
	st.mu.Lock()
	j := st.job
	st.mu.Unlock()
	if j != nil {
		out.BgsaveInProgress = j.bg
		out.CowSize, out.CowPeak = j.capBytes.Load(), j.peakBytes.Load()
		out.KeysProcessed, out.KeysTotal = j.processed.Load(), j.total
		if j.total > 0 {
			out.ForkPerc = float64(out.KeysProcessed) * 100 / float64(j.total)
		}
		out.CurrentSecs = int64(time.Since(j.start).Seconds())
	}
	return out
}

// InfoRDB adds the fields of INFO persistence from "loading" to
// "rdb_last_load_keys_loaded", in Redis 7.0's order (InfoAOF's follow).
func (p *Persist) InfoRDB(add func(k, v string)) {
	r := p.RDBStatus()
	add("loading", boolInt(p.Loading()))
	add("async_loading", boolInt(p.load.async.Load()))
	add("current_cow_peak", itoa(r.CowPeak))
	add("current_cow_size", itoa(r.CowSize))
	add("current_cow_size_age", "0")
	add("current_fork_perc", strconv.FormatFloat(r.ForkPerc, 'f', 2, 64))
	add("current_save_keys_processed", itoa(r.KeysProcessed))
	add("current_save_keys_total", itoa(r.KeysTotal))
	add("rdb_changes_since_last_save", itoa(p.h.Dirty()))
	add("rdb_bgsave_in_progress", boolInt(r.BgsaveInProgress))
	add("rdb_last_save_time", itoa(p.lastSave.Load()))
	add("rdb_last_bgsave_status", okErr(r.LastOK))
	add("rdb_last_bgsave_time_sec", itoa(r.LastBgsaveSecs))
	add("rdb_current_bgsave_time_sec", itoa(r.CurrentSecs))
	add("rdb_saves", itoa(r.Saves))
	add("rdb_last_cow_size", itoa(r.LastCow))
	add("rdb_last_load_keys_expired", itoa(r.LoadedExpired))
	add("rdb_last_load_keys_loaded", itoa(r.LoadedKeys))
}

// rdbWritesDenied returns the error a write command (and PING) must get
// instead of running when the last BGSAVE failed, save rules are set and
// stop-writes-on-bgsave-error is yes (Redis's writeCommandsDeniedByDiskError),
// or "" when writes are allowed. For the dispatcher.
func (p *Persist) rdbWritesDenied() string {
	st := p.rdbSt.Load()
	if st == nil || st.lastOK.Load() || !p.h.Config().Bool("stop-writes-on-bgsave-error") ||
		len(parseSaveRules(p.h.Config().Get("save"))) == 0 {
		return ""
	}
	return errMisconfRDB
}

// InfoAOF adds the aof_* fields of INFO persistence that Redis prints
// between rdb_last_load_keys_loaded and module_fork_in_progress.
func (p *Persist) InfoAOF(add func(k, v string)) {
	st := p.aofSt.Load()
	if st == nil { // Load never ran (tests): nothing happened; report the setting
		add("aof_enabled", boolInt(p.h.Config().Bool("appendonly")))
		for _, k := range []string{"aof_rewrite_in_progress", "aof_rewrite_scheduled"} {
			add(k, "0")
		}
		add("aof_last_rewrite_time_sec", "-1")
		add("aof_current_rewrite_time_sec", "-1")
		add("aof_last_bgrewrite_status", "ok")
		add("aof_rewrites", "0")
		add("aof_rewrites_consecutive_failures", "0")
		add("aof_last_write_status", "ok")
		add("aof_last_cow_size", "0")
		return
	}
	st.mu.Lock()
	on := st.on
	st.mu.Unlock()
	rw := &st.rw
	add("aof_enabled", boolInt(on))
	add("aof_rewrite_in_progress", boolInt(rw.running.Load()))
	add("aof_rewrite_scheduled", "0")
	add("aof_last_rewrite_time_sec", strconv.FormatInt(rw.lastTime.Load(), 10))
	cur := int64(-1)
	if rw.running.Load() {
		cur = int64(time.Since(time.Unix(0, rw.startNano.Load())).Seconds())
	}
	add("aof_current_rewrite_time_sec", strconv.FormatInt(cur, 10))
	add("aof_last_bgrewrite_status", okErr(rw.lastOK.Load()))
	add("aof_rewrites", strconv.FormatInt(rw.count.Load(), 10))
	add("aof_rewrites_consecutive_failures", strconv.FormatInt(rw.failures.Load(), 10))
	add("aof_last_write_status", okErr(st.w.WriteOK()))
	add("aof_last_cow_size", strconv.FormatInt(st.lastCow.Load(), 10))
}

// InfoAOFSizes adds the fields Redis prints after module_fork_last_cow_size
// when appendonly is on.
func (p *Persist) InfoAOFSizes(add func(k, v string)) {
	st := p.aofSt.Load()
	if st == nil {
		return
	}
	st.mu.Lock()
	on := st.on
	cur := st.baseSize + st.incrSizes + st.w.Size()
	base := st.rwBaseSize
	st.mu.Unlock()
	if !on {
		return
	}
	add("aof_current_size", strconv.FormatInt(cur, 10))
	add("aof_base_size", strconv.FormatInt(base, 10))
	add("aof_pending_rewrite", "0")
	add("aof_buffer_length", strconv.Itoa(st.w.Buffered()))
	add("aof_pending_bio_fsync", "0")
	add("aof_delayed_fsync", "0")
}

func okErr(ok bool) string {
	if ok {
		return "ok"
	}
	return "err"
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func boolInt(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// RewriteRunning reports whether an AOF rewrite runs.
func (p *Persist) RewriteRunning() bool {
	st := p.aofSt.Load()
	return st != nil && st.rw.running.Load()
}

// AOFUnsynced is the sequence of the last write fed to the AOF if it is
// not fsynced yet, else 0.
func (p *Persist) AOFUnsynced() int64 {
	if st := p.aofSt.Load(); st != nil {
		return st.w.Unsynced()
	}
	return 0
}

// HasAOF reports whether the AOF's state exists: from its first use (Load)
// until its writer stopped when the server closed.
func (p *Persist) HasAOF() bool { return p.aofSt.Load() != nil }
