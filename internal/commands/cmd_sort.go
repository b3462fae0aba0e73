package commands

import (
	"bytes"
	"slices"

	"redgo/internal/datatype"
	"redgo/internal/keyspace"
	"redgo/internal/notify"
)

// SORT and SORT_RO, as Redis 7.0's sort.c: elements of a list, set or
// sorted set ordered numerically or alphabetically, by themselves or by
// keys (and hash fields) named after them, with GET lookups and STORE.

func init() {
	Register("sort", func(c *Ctx) { sortGeneric(c, false) }, KeysFunc(sortKeys), LockAllWhen(sortLocksAll))
	Register("sort_ro", func(c *Ctx) { sortGeneric(c, true) }, KeysFunc(func([][]byte) []int { return []int{1} }), LockAllWhen(sortLocksAll))
}

// Error texts of SORT.
const (
	errSortScore     = "ERR One or more scores can't be converted into double"
	errSortByCluster = "ERR BY option of SORT denied in Cluster mode."
	errSortGetClustr = "ERR GET option of SORT denied in Cluster mode."
)

// ClusterModer is implemented by a server (Ctx.Srv) that can run in
// cluster mode; ClusterEnabled reports whether it does.
type ClusterModer interface{ ClusterEnabled() bool }

// KeyReader is implemented by a server (Ctx.Srv) that enforces ACL
// rules: AllKeysReadable reports whether the client of c may read every
// key, which SORT's BY and GET patterns need.
type KeyReader interface{ AllKeysReadable(c *Ctx) bool }

func allKeysReadable(c *Ctx) bool {
	kr, ok := c.Srv.(KeyReader)
	return !ok || kr.AllKeysReadable(c)
}

// inClusterMode reports whether srv (Ctx.Srv) runs in cluster mode.
func inClusterMode(srv any) bool {
	cm, ok := srv.(ClusterModer)
	return ok && cm.ClusterEnabled()
}

// sortLocksAll: outside cluster mode, BY and GET patterns may name any
// key, so such a SORT locks every shard. In cluster mode they are refused.
func sortLocksAll(srv any, args [][]byte) bool {
	if inClusterMode(srv) {
		return false
	}
	for _, a := range args[min(2, len(args)):] {
		if EqualFold(a, "by") || EqualFold(a, "get") {
			return true
		}
	}
	return false
}

// sortKeys: the sorted key and the last STORE destination (Redis's
// sortGetKeys: LIMIT skips two arguments, GET and BY one).
func sortKeys(args [][]byte) []int {
	pos := []int{1}
	store := -1
	for i := 2; i < len(args); i++ {
		switch a := args[i]; {
		case EqualFold(a, "limit"):
			i += 2
		case EqualFold(a, "get"), EqualFold(a, "by"):
			i++
		case EqualFold(a, "store") && i+1 < len(args):
			store = i + 1
		}
	}
	if store > 0 {
		pos = append(pos, store)
	}
	return pos
}

// sortItem is one element being sorted.
type sortItem struct {
	obj   []byte
	score float64
	cmp   []byte // the BY value in ALPHA mode; nil when its key is missing
}

// sortOpts is a parsed SORT.
type sortOpts struct {
	desc, alpha, dontsort bool
	limitStart, limitCnt  int64
	by                    []byte
	gets                  [][]byte
	store                 []byte
}

// parseSort parses SORT's options as Redis does, returning the error
// reply or "".
func parseSort(args [][]byte, readonly, cluster, aclAllKeys bool) (o sortOpts, err string) {
	o.limitCnt = -1
	for j := 2; j < len(args); j++ {
		a, left := args[j], len(args)-j-1
		switch {
		case EqualFold(a, "asc"):
			o.desc = false
		case EqualFold(a, "desc"):
			o.desc = true
		case EqualFold(a, "alpha"):
			o.alpha = true
		case EqualFold(a, "limit") && left >= 2:
			var ok1, ok2 bool
			o.limitStart, ok1 = ParseInt(args[j+1])
			if ok1 {
				o.limitCnt, ok2 = ParseInt(args[j+2])
			}
			if !ok1 || !ok2 {
				return o, ErrNotInt
			}
			j += 2
		case !readonly && EqualFold(a, "store") && left >= 1:
			o.store = args[j+1]
			j++
		case EqualFold(a, "by") && left >= 1:
			o.by = args[j+1]
			if bytes.IndexByte(cstr(o.by), '*') < 0 {
				o.dontsort = true
			} else if cluster {
				return o, errSortByCluster
			} else if !aclAllKeys {
				return o, "ERR BY option of SORT denied due to insufficient ACL permissions."
			}
			j++
		case EqualFold(a, "get") && left >= 1:
			if cluster {
				return o, errSortGetClustr
			}
			if !aclAllKeys {
				return o, "ERR GET option of SORT denied due to insufficient ACL permissions."
			}
			o.gets = append(o.gets, args[j+1])
			j++
		default:
			return o, ErrSyntax
		}
	}
	return o, ""
}

// sortLookup is Redis's lookupKeyByPattern: the value that pattern names
// for element subst ("#" is the element itself; "key*->field" a hash
// field), or nil.
func sortLookup(db *keyspace.DB, pat, subst []byte) []byte {
	cp := cstr(pat)
	if len(cp) == 1 && cp[0] == '#' {
		return subst
	}
	p := bytes.IndexByte(cp, '*')
	if p < 0 {
		return nil
	}
	var field []byte
	keyEnd := len(pat)
	if f := bytes.Index(cp[p+1:], []byte("->")); f >= 0 && p+1+f+2 < len(cp) {
		f += p + 1
		field = pat[f+2:]
		keyEnd = f
	}
	key := make([]byte, 0, p+len(subst)+keyEnd-p-1)
	key = append(key, pat[:p]...)
	key = append(key, subst...)
	key = append(key, pat[p+1:keyEnd]...)
	o := db.Lookup(key)
	if o == nil {
		return nil
	}
	if field != nil {
		if o.Type() != keyspace.THash {
			return nil
		}
		v, ok := o.Hash().Get(field)
		if !ok {
			return nil
		}
		return nonNil(v)
	}
	if o.Type() != keyspace.TString {
		return nil
	}
	return nonNil(o.Bytes())
}

// sortScore parses a value as strtod does for SORT: the whole value (up
// to a NUL) must be a number, not NaN, not out of range. "" is 0.
func sortScore(b []byte) (float64, bool) {
	f, n, erange := zStrtod(zstr(b))
	if n < len(b) && b[n] != 0 {
		return 0, false
	}
	return f, !erange && f == f
}

// cmpC compares as strcmp (and strcoll in the C and C.UTF-8 locales):
// bytes up to the first NUL.
func cmpC(a, b []byte) int { return bytes.Compare(cstr(a), cstr(b)) }

func sortGeneric(c *Ctx, readonly bool) {
	o, err := parseSort(c.Args, readonly, inClusterMode(c.Srv), allKeysReadable(c))
	if err != "" {
		c.Error(err)
		return
	}
	obj := c.DB.Lookup(c.Args[1])
	typ := keyspace.TList
	if obj != nil {
		typ = obj.Type()
		if typ != keyspace.TList && typ != keyspace.TSet && typ != keyspace.TZSet {
			c.Error(ErrWrongType)
			return
		}
	}
	if o.dontsort && typ == keyspace.TSet && (o.store != nil || c.Script) {
		// A set has no order of its own: sort it so that replicas and
		// scripts see the same result.
		o.dontsort, o.alpha, o.by = false, true, nil
	}
	items, start, end := sortLoad(obj, typ, &o)
	if !o.dontsort && !sortItems(c.DB, items, &o) {
		c.Error(errSortScore)
		return
	}
	sortOutput(c, &o, items, start, end)
}

// sortLoad reads the elements to sort and returns them with the range
// start..end of them to output (Redis's LIMIT arithmetic). A list or
// sorted set that is not sorted is read in its own order, LIMIT applied.
func sortLoad(obj *keyspace.Object, typ keyspace.Type, o *sortOpts) (items []sortItem, start, end int64) {
	n := 0
	if obj != nil {
		switch typ {
		case keyspace.TList:
			n = obj.List().Len()
		case keyspace.TSet:
			n = obj.Set().Len()
		case keyspace.TZSet:
			n = obj.ZSet().Len()
		}
	}
	vlen := int64(n)
	start = min(max(o.limitStart, 0), vlen)
	cnt := min(max(o.limitCnt, -1), vlen)
	end = vlen - 1
	if cnt >= 0 {
		end = start + cnt - 1
	}
	if start >= vlen {
		start, end = vlen-1, vlen-2
	}
	end = min(end, vlen-1)
	switch {
	case obj == nil:
	case o.dontsort && (typ == keyspace.TList || typ == keyspace.TZSet):
		if end >= start {
			items = sortReadRange(obj, typ, int(start), int(end), o.desc)
		}
		end -= start
		start = 0
	default:
		items = make([]sortItem, 0, n)
		add := func(m []byte) { items = append(items, sortItem{obj: bytes.Clone(m)}) }
		switch typ {
		case keyspace.TList:
			for v := range obj.List().All() {
				add(v)
			}
		case keyspace.TSet:
			for v := range obj.Set().All() {
				add(v)
			}
		case keyspace.TZSet:
			obj.ZSet().ForEach(func(e datatype.ZEntry) bool { add([]byte(e.Member)); return true })
		}
	}
	return items, start, end
}

// sortItems computes the sort keys (the BY values, or the elements) and
// sorts; false if a numeric key is not a number.
func sortItems(db *keyspace.DB, items []sortItem, o *sortOpts) bool {
	ok := true
	for i := range items {
		it := &items[i]
		val := it.obj
		if o.by != nil {
			if val = sortLookup(db, o.by, it.obj); val == nil {
				continue
			}
		}
		if o.alpha {
			if o.by != nil {
				it.cmp = val
			}
		} else if f, good := sortScore(val); good {
			it.score = f
		} else {
			ok = false
		}
	}
	cmp := sortCompare(o.alpha, o.by != nil, o.store != nil)
	if o.desc {
		asc := cmp
		cmp = func(a, b *sortItem) int { return -asc(a, b) }
	}
	slices.SortStableFunc(items, func(a, b sortItem) int { return cmp(&a, &b) })
	return ok
}

// sortOutput replies elements start..end (or their GET values), or
// stores them as a list.
func sortOutput(c *Ctx, o *sortOpts, items []sortItem, start, end int64) {
	count := end - start + 1
	outLen := count
	if len(o.gets) > 0 {
		outLen = int64(len(o.gets)) * count
	}
	if o.store == nil {
		c.W.Array(int(outLen))
		for j := start; j <= end; j++ {
			el := items[j].obj
			if len(o.gets) == 0 {
				c.W.Bulk(el)
			}
			for _, g := range o.gets {
				if v := sortLookup(c.DB, g, el); v != nil {
					c.W.Bulk(v)
				} else {
					c.W.Null()
				}
			}
		}
		return
	}
	l := datatype.NewList(c.KS.Limits)
	for j := start; j <= end; j++ {
		el := items[j].obj
		if len(o.gets) == 0 {
			l.PushBack(bytes.Clone(el))
		}
		for _, g := range o.gets {
			l.PushBack(bytes.Clone(sortLookup(c.DB, g, el)))
		}
	}
	if outLen > 0 {
		c.DB.Set(o.store, keyspace.NewList(l), false)
		c.Notify(notify.List, "sortstore", o.store)
		c.Dirty += int(outLen)
	} else if c.DB.Delete(o.store) {
		c.Notify(notify.Generic, "del", o.store)
		c.Dirty++
	}
	c.W.Int(outLen)
}

// sortReadRange reads elements start..end of a list or sorted set in its
// own order (from the tail when desc).
func sortReadRange(obj *keyspace.Object, typ keyspace.Type, start, end int, desc bool) []sortItem {
	items := make([]sortItem, 0, end-start+1)
	if typ == keyspace.TList {
		l := obj.List()
		seq := l.Range(start, end)
		if desc {
			seq = l.RangeRev(l.Len()-1-start, l.Len()-1-end)
		}
		for v := range seq {
			items = append(items, sortItem{obj: bytes.Clone(v)})
		}
		return items
	}
	z := obj.ZSet()
	rank := start
	if desc {
		rank = z.Len() - 1 - start
	}
	it := z.IterAt(rank, desc)
	for len(items) < end-start+1 {
		e, ok := it.Next()
		if !ok {
			break
		}
		items = append(items, sortItem{obj: []byte(e.Member)})
	}
	return items
}

// sortCompare is Redis's sortCompare (ascending): numeric by score, ties
// broken by the elements' bytes; or alphabetical, by the BY values
// (missing ones first) or by the elements. A STORE compares bytes, a
// reply collates (C locale: bytes up to a NUL).
func sortCompare(alpha, byPattern, store bool) func(a, b *sortItem) int {
	coll := cmpC
	if store {
		coll = bytes.Compare
	}
	switch {
	case !alpha:
		return func(a, b *sortItem) int {
			switch {
			case a.score > b.score:
				return 1
			case a.score < b.score:
				return -1
			}
			return bytes.Compare(a.obj, b.obj)
		}
	case byPattern:
		return func(a, b *sortItem) int {
			switch {
			case a.cmp == nil && b.cmp == nil:
				return 0
			case a.cmp == nil:
				return -1
			case b.cmp == nil:
				return 1
			}
			return coll(a.cmp, b.cmp)
		}
	default:
		return func(a, b *sortItem) int { return coll(a.obj, b.obj) }
	}
}

// nonNil tells an existing empty value from a missing one.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
