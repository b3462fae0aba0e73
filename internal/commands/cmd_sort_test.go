package commands

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestSortDiff(t *testing.T) {
	resetOracleErrno(t)
	diff(t, `
		rpush l 3 1 2 10 -5 2.5 1e3 0x10 inf -inf " 7"
		sort l
		sort l desc
		sort l limit 2 3
		sort l limit -5 3
		sort l limit 3 -1
		sort l limit 100 3
		sort l limit 0 0
		sort l limit 1 1000 desc
		sort l limit x 3
		sort l limit 1 y
		sort l limit 1
		sort l alpha
		sort l alpha desc limit 1 4
		sort l asc desc
		sort l desc asc
		sort l bogus
		sort l store
		sort l store dst
		lrange dst 0 -1
		sort l store dst limit 100 1
		exists dst
		sort_ro l store dst
		sort_ro l desc limit 0 3
		rpush bad 1 x 2
		sort bad
		sort bad desc limit 0 1
		sort bad alpha
		rpush nan 1 nan
		sort nan
		rpush emptyel 3 "" 1
		sort emptyel
		rpush trail "1 " 2
		sort trail
		sadd s 5 3 9 1 7
		sort s
		sort s desc limit 1 2
		sort s by nosort store sdst
		lrange sdst 0 -1
		sadd sa banana apple cherry 10 9
		sort sa alpha
		sort sa alpha desc
		sort sa
		zadd z 1 c 2 b 3 a 4 d
		sort z alpha
		sort z by nosort
		sort z by nosort desc
		sort z by nosort limit 1 2
		sort z by nosort desc limit 1 2
		sort z by nosort limit 10 2
		sort z by nosort desc limit 3 10
		sort z by nokey
		sort z by nokey store zd
		lrange zd 0 -1
		mset w_a 4 w_b 3 w_c 2 w_d 1
		sort z by w_* alpha
		sort z by w_*
		sort z by w_* desc
		sort z by w_* get #
		sort z by w_* get # get w_* get nosuch_* get constant
		sort z by w_* limit 1 2 get w_*
		hset h_a f 9 h_b f 8 h_c g 1
		hset h_d f 10
		sort z by h_*->f
		sort z by h_*->f get h_*->f get # get h_*->g
		sort z by h_*->f alpha get h_*->f
		sort z by h_*-> get h_*->
		sort z by w_* store zd get # get w_* get h_*->f
		lrange zd 0 -1
		rpush byl a b c d
		mset x_a 1 x_b 1 x_c 2 x_d 0
		sort byl by x_*
		sort byl by x_* desc
		sort byl by x_* alpha
		sort byl by x_* alpha desc
		mset y_a hello y_c world
		sort byl by y_* alpha
		sort byl by y_* alpha desc
		sort byl by y_*
		sort byl by y_* get y_*
		rpush nl 3 1 2
		sort nl by nosort
		sort nl by nosort desc
		sort nl by nosort limit 1 1
		sort nl by nosort desc limit 1 1
		sort nosuchkey
		sort nosuchkey store dst2
		exists dst2
		sort nosuchkey get #
		set str x
		sort str
		sort_ro str
		hset hh a 1
		sort hh
		sort l by w_* by nosort
		rpush dupl 2 1 2 1 b a b
		sort dupl alpha
		sort dupl by nosort
		lpush dstkey keep
		expire dstkey 100
		sort nl store dstkey
		ttl dstkey
		# Out of range scores last: they leave errno set in redis-server,
		# failing its later numeric sorts (see resetOracleErrno).
		rpush huge 1 1e400 2
		sort huge
		rpush tiny 1 1e-400
		sort tiny
	`)
	resetOracleErrno(t)
}

// resetOracleErrno sets errno in redis-server to something other than
// ERANGE: SORT checks errno after strtod without clearing it, so a value
// out of range makes every later numeric SORT fail until errno changes.
func resetOracleErrno(t *testing.T) {
	if oracleAddr != "" {
		newOracle(t).do("CONFIG", "SET", "dir", "/nonexistent-redgo-dir")
	}
}

// TestSortRandomDiff compares random SORT option combinations over random
// lists, sets and sorted sets with redis-server, with a fixed seed.
func TestSortRandomDiff(t *testing.T) {
	const seed = 7001
	r := rand.New(rand.NewPCG(seed, 2))
	var sb strings.Builder
	val := func() string {
		switch r.IntN(5) {
		case 0:
			return fmt.Sprint(r.IntN(20) - 5)
		case 1:
			return fmt.Sprintf("%.2f", r.Float64()*100-50)
		case 2:
			return fmt.Sprintf("e%d", r.IntN(30))
		default:
			return fmt.Sprint(r.IntN(1000))
		}
	}
	for i := 0; i < 40; i++ {
		fmt.Fprintf(&sb, "set w_%d %s\n", i, val())
		fmt.Fprintf(&sb, "hset h_%d f %d g %s\n", i, r.IntN(1000), val())
	}
	for k := 0; k < 30; k++ {
		n := 1 + r.IntN(25)
		var els []string
		for i := 0; i < n; i++ {
			els = append(els, fmt.Sprint(r.IntN(40)))
		}
		kind := r.IntN(3)
		switch kind {
		case 0:
			fmt.Fprintf(&sb, "del k\nrpush k %s\n", strings.Join(els, " "))
		case 1:
			fmt.Fprintf(&sb, "del k\nsadd k %s\n", strings.Join(els, " "))
		case 2:
			var zs []string
			for _, e := range els {
				zs = append(zs, fmt.Sprint(r.IntN(50)), e)
			}
			fmt.Fprintf(&sb, "del k\nzadd k %s\n", strings.Join(zs, " "))
		}
		for q := 0; q < 20; q++ {
			cmd := "sort k"
			if r.IntN(4) == 0 {
				cmd = "sort_ro k"
			}
			by := ""
			switch r.IntN(5) {
			case 0:
				by = " by w_*"
			case 1:
				by = " by h_*->f"
			case 2:
				if kind != 1 { // a set's own order is Redis's dict order
					by = " by nosort"
				}
			}
			cmd += by
			// ALPHA with a BY pattern leaves ties in input order: a set's
			// or sorted set's is Redis's dict order, only a list's is known.
			alpha := r.IntN(3) == 0 && (kind == 0 || by == "" || by == " by nosort")
			if alpha {
				cmd += " alpha"
			}
			if r.IntN(2) == 0 {
				cmd += []string{" asc", " desc"}[r.IntN(2)]
			}
			// LIMIT with BY ... ALPHA: Redis's partial quicksort orders
			// ties differently from a full sort.
			if r.IntN(2) == 0 && !(alpha && by != "" && by != " by nosort") {
				cmd += fmt.Sprintf(" limit %d %d", r.IntN(30)-3, r.IntN(30)-3)
			}
			for g := r.IntN(3); g > 0; g-- {
				cmd += []string{" get #", " get w_*", " get h_*->g", " get nosuch_*"}[r.IntN(4)]
			}
			store := strings.HasPrefix(cmd, "sort k") && r.IntN(3) == 0
			if store {
				cmd += " store out"
			}
			fmt.Fprintln(&sb, cmd)
			if store {
				fmt.Fprintln(&sb, "lrange out 0 -1")
			}
		}
	}
	resetOracleErrno(t)
	diff(t, sb.String())
}

func TestSortKeys(t *testing.T) {
	for _, tc := range []struct {
		args string
		want []int
	}{
		{"sort k", []int{1}},
		{"sort k store d", []int{1, 3}},
		{"sort k limit 0 1 store d by x get y store e", []int{1, 12}},
		{"sort k get store store d", []int{1, 5}},
		{"sort k store", []int{1}},
	} {
		var args [][]byte
		for _, a := range strings.Fields(tc.args) {
			args = append(args, []byte(a))
		}
		if got := sortKeys(args); fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%s: keys %v, want %v", tc.args, got, tc.want)
		}
	}
}

type fakeCluster bool

func (f fakeCluster) ClusterEnabled() bool { return bool(f) }

func TestSortClusterMode(t *testing.T) {
	for _, tc := range []struct{ args, err string }{
		{"sort k by w_*", errSortByCluster},
		{"sort k get #", errSortGetClustr},
		{"sort k by nosort", ""},
		{"sort k by w_* get #", errSortByCluster},
		{"sort k bogus by w_*", ErrSyntax},
	} {
		var args [][]byte
		for _, a := range strings.Fields(tc.args) {
			args = append(args, []byte(a))
		}
		_, err := parseSort(args, false, inClusterMode(fakeCluster(true)), true)
		if err != tc.err {
			t.Errorf("%s: %q, want %q", tc.args, err, tc.err)
		}
		if sortLocksAll(fakeCluster(true), args) {
			t.Errorf("%s: locks every shard in cluster mode", tc.args)
		}
	}
	if !sortLocksAll(fakeCluster(false), [][]byte{[]byte("sort"), []byte("k"), []byte("GET"), []byte("#")}) {
		t.Error("SORT ... GET outside cluster mode must lock every shard")
	}
}
