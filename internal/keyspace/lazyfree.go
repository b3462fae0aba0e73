package keyspace

// Redis frees a big value in a background thread instead of in the
// command that dropped it (UNLINK, FLUSHDB ASYNC, the lazyfree-lazy-*
// directives) and counts it in INFO's lazyfreed_objects. redgo leaves
// every value to the garbage collector, whatever the command, so nothing
// is ever pending; what is counted is what Redis would have freed in the
// background, so that the statistic means the same.

// LazyFreeThreshold is the free effort above which Redis frees a value in
// the background (LAZYFREE_THRESHOLD).
const LazyFreeThreshold = 64

// FreeEffort is Redis's estimate of the allocations freeing o takes
// (lazyfreeGetFreeEffort): a quicklist's nodes, a hash table's or skip
// list's elements, a stream's radix tree nodes plus its groups times one
// more than the first group's pending entries; 1 for a value in one
// allocation (a string, a listpack, an intset).
func FreeEffort(o *Object) int {
	switch o.typ {
	case TList:
		return o.List().Nodes()
	case TSet:
		if s := o.Set(); s.Encoding() == "hashtable" {
			return s.Len()
		}
	case THash:
		if h := o.Hash(); h.Encoding() == "hashtable" {
			return h.Len()
		}
	case TZSet:
		if z := o.ZSet(); z.Encoding() == "skiplist" {
			return z.Len()
		}
	case TStream:
		s := o.Stream()
		effort := s.RaxNodes()
		if gs := s.Groups(); len(gs) > 0 {
			effort += len(gs) * (1 + gs[0].PEL.Len())
		}
		return effort
	}
	return 1
}

// FreedLazily counts o in LazyFreed when Redis would have freed it in
// the background (its free effort above LazyFreeThreshold).
func (ks *Keyspace) FreedLazily(o *Object) {
	if FreeEffort(o) > LazyFreeThreshold {
		ks.LazyFreed.Add(1)
	}
}
