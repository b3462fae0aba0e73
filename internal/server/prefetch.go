package server

import (
	"redgo/internal/keyspace"
	"redgo/internal/resp"
)

// prefetchKeys reads ahead, in database db, the keys of the whole
// commands at the front of buf (a client's pipeline, a master's stream)
// when there are several of them: keyspace.DB.Prefetch, with each
// command's second argument taken for its key, which it is for most
// commands (a wrong guess only reads in memory nobody uses). It returns
// how many commands it covered, 0 when it did nothing. scratch holds the
// keys' slices between calls.
func (s *Server) prefetchKeys(db int, buf []byte, scratch *[][]byte) int {
	if *scratch == nil {
		*scratch = make([][]byte, 0, keyspace.PrefetchMax)
	}
	keys := resp.SecondArgs(buf, (*scratch)[:0])
	n := len(keys)
	if n > 1 {
		s.KS.DB(db).Prefetch(keys)
	} else {
		n = 0
	}
	clear(keys) // no reference to buf kept
	return n
}
