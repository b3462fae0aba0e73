package commands

import (
	"math/rand/v2"
	"strings"

	"redgo/internal/datatype"
	"redgo/internal/keyspace"
	"redgo/internal/notify"
)

// HyperLogLog commands. Values are strings in Redis's exact HLL layout
// (see datatype/hll.go), so they interoperate with Redis through GET/SET.

func init() {
	Register("pfadd", cmdPfadd)
	Register("pfcount", cmdPfcount)
	Register("pfmerge", cmdPfmerge)
	Register("pfdebug", cmdPfdebug)
	Register("pfselftest", cmdPfselftest)
}

// hllLookup returns the HLL at key for writing, nil if missing; false after
// replying an error (wrong type or not a valid HLL). The value becomes
// "raw", as Redis's dbUnshareStringValue makes it.
func hllLookup(c *Ctx, key []byte, write bool) (*keyspace.Object, bool) {
	var o *keyspace.Object
	if write {
		o = c.DB.LookupWrite(key)
	} else {
		o = c.DB.Lookup(key)
	}
	if o == nil {
		return nil, true
	}
	if o.Type() != keyspace.TString {
		c.Error(ErrWrongType)
		return nil, false
	}
	if !datatype.IsHLL(o.Bytes()) {
		c.Error(ErrHLLWrongType)
		return nil, false
	}
	return o, true
}

// PFADD key [element ...]
func cmdPfadd(c *Ctx) {
	key := c.Args[1]
	o, ok := hllLookup(c, key, true)
	if !ok {
		return
	}
	updated := 0
	var b []byte
	if o == nil {
		b = datatype.NewHLL()
		o = keyspace.NewString(b)
		c.DB.Set(key, o, false)
		updated++
	} else {
		b = o.Bytes()
	}
	o.Flags |= keyspace.StrRaw
	for _, ele := range c.Args[2:] {
		var r int
		b, r = datatype.HLLAdd(b, ele, c.KS.Limits)
		if r < 0 {
			c.DB.SetBytes(key, o, b)
			c.Error(ErrHLLInvalid)
			return
		}
		updated += r
	}
	c.DB.SetBytes(key, o, b)
	if updated > 0 {
		datatype.HLLInvalidateCache(b)
		c.Dirty += updated
		c.Notify(notify.String, "pfadd", key)
		c.W.Int(1)
		return
	}
	c.W.Int(0)
}

// PFCOUNT key [key ...]
func cmdPfcount(c *Ctx) {
	if len(c.Args) > 2 {
		regs := datatype.HLLRegisters()
		for _, key := range c.Args[1:] {
			o, ok := hllLookup(c, key, false)
			if !ok {
				return
			}
			if o == nil {
				continue
			}
			if !datatype.HLLMerge(regs, o.Bytes()) {
				c.Error(ErrHLLInvalid)
				return
			}
		}
		c.W.Int(int64(datatype.HLLCountRegisters(regs)))
		return
	}
	o, ok := hllLookup(c, c.Args[1], false)
	if !ok {
		return
	}
	if o == nil {
		c.W.Int(0)
		return
	}
	o.Flags |= keyspace.StrRaw
	b := o.Bytes()
	card, valid := datatype.HLLCachedCard(b)
	if !valid {
		var ok bool
		card, ok = datatype.HLLCount(b)
		if !ok {
			c.Error(ErrHLLInvalid)
			return
		}
		// The cache lives in the value: updating it is a write that must
		// propagate, as in Redis.
		datatype.HLLSetCachedCard(b, card)
		c.Dirty++
	}
	c.W.Int(int64(card))
}

// PFMERGE destkey [sourcekey ...]
func cmdPfmerge(c *Ctx) {
	regs := datatype.HLLRegisters()
	dense := false
	for _, key := range c.Args[1:] {
		o, ok := hllLookup(c, key, false)
		if !ok {
			return
		}
		if o == nil {
			continue
		}
		b := o.Bytes()
		if !datatype.HLLIsSparse(b) {
			dense = true
		}
		if !datatype.HLLMerge(regs, b) {
			c.Error(ErrHLLInvalid)
			return
		}
	}
	key := c.Args[1]
	o := c.DB.LookupWrite(key)
	var b []byte
	if o == nil {
		b = datatype.NewHLL()
		o = keyspace.NewString(b)
		c.DB.Set(key, o, false)
	} else {
		b = o.Bytes()
	}
	o.Flags |= keyspace.StrRaw
	if dense {
		var ok bool
		if b, ok = datatype.HLLSparseToDense(b); !ok {
			c.Error(ErrHLLInvalid)
			return
		}
	}
	for i, v := range regs {
		if v != 0 {
			b = datatype.HLLSetRegister(b, i, v, c.KS.Limits)
		}
	}
	datatype.HLLInvalidateCache(b)
	c.DB.SetBytes(key, o, b)
	c.Dirty++
	c.Notify(notify.String, "pfadd", key)
	c.W.OK()
}

// PFDEBUG GETREG|DECODE|ENCODING|TODENSE key
func cmdPfdebug(c *Ctx) {
	sub := strings.ToLower(c.Arg(1))
	o := c.DB.LookupWrite(c.Args[2])
	if o == nil {
		c.Error("ERR The specified key does not exist")
		return
	}
	if o, ok := hllLookup(c, c.Args[2], true); !ok || o == nil {
		return
	}
	o.Flags |= keyspace.StrRaw
	b := o.Bytes()
	toDense := func() bool {
		d, ok := datatype.HLLSparseToDense(b)
		if !ok {
			c.Error(ErrHLLInvalid)
			return false
		}
		c.DB.SetBytes(c.Args[2], o, d)
		b = d
		c.Dirty++
		return true
	}
	switch sub {
	case "getreg":
		if datatype.HLLIsSparse(b) && !toDense() {
			return
		}
		regs := datatype.HLLGetRegisters(b)
		c.W.Array(len(regs))
		for _, r := range regs {
			c.W.Int(int64(r))
		}
	case "decode":
		if !datatype.HLLIsSparse(b) {
			c.Error("ERR HLL encoding is not sparse")
			return
		}
		c.W.BulkString(datatype.HLLDecode(b))
	case "encoding":
		if datatype.HLLIsSparse(b) {
			c.W.Simple("sparse")
		} else {
			c.W.Simple("dense")
		}
	case "todense":
		if !datatype.HLLIsSparse(b) {
			c.W.Int(0)
			return
		}
		if toDense() {
			c.W.Int(1)
		}
	default:
		c.Error("ERR Unknown PFDEBUG subcommand '" + c.Arg(1) + "'")
	}
}

// PFSELFTEST checks the HyperLogLog implementation itself (register
// packing, sparse and dense counts, error bounds), as Redis's.
func cmdPfselftest(c *Ctx) {
	if msg := datatype.HLLSelfTest(c.KS.Limits, rand.New(rand.NewPCG(uint64(c.Now), 0))); msg != "" {
		c.Error(msg)
		return
	}
	c.W.OK()
}
