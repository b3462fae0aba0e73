package test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
)

// TestEncodingsLikeRedis runs the same commands on redgo and on a real
// redis-server 7.0 and compares every reply, OBJECT ENCODING after each
// write included: the small encodings (listpack, intset) and their
// conversions (skiplist, hashtable) at the default thresholds and after
// CONFIG SET of them, and the replies read from each encoding.
func TestEncodingsLikeRedis(t *testing.T) {
	rport := startRedis(t)
	g := client(t, startRedgo(t).Port(), 2)
	r := client(t, rport, 2)
	do := func(args ...any) {
		t.Helper()
		gv, gerr := g.Do(bg, args...).Result()
		rv, rerr := r.Do(bg, args...).Result()
		if fmt.Sprint(gv) != fmt.Sprint(rv) || fmt.Sprint(gerr) != fmt.Sprint(rerr) {
			t.Fatalf("%v:\nredgo %v %v\nredis %v %v", args, gv, gerr, rv, rerr)
		}
	}
	// write runs a write command, then compares the key's encoding.
	write := func(key string, args ...any) {
		t.Helper()
		do(args...)
		do("OBJECT", "ENCODING", key)
	}
	many := func(cmd, key string, n int, elem func(i int) []any) []any {
		args := []any{cmd, key}
		for i := 0; i < n; i++ {
			args = append(args, elem(i)...)
		}
		return args
	}

	// Sorted sets: scores of every kind in a listpack, then conversions.
	scores := []string{"0", "-0", "1", "-1", "1.5", "0.1", "3e-300", "1e300", "inf", "-inf", "9007199254740991",
		"9007199254740992", "-9007199254740993", "123456789012", "2.5e10"}
	for i, s := range scores {
		write("z", "ZADD", "z", s, "m"+strconv.Itoa(i))
	}
	do("ZRANGE", "z", "0", "-1", "WITHSCORES")
	do("ZREVRANGE", "z", "0", "-1", "WITHSCORES")
	do("ZRANGEBYSCORE", "z", "(0", "+inf", "WITHSCORES", "LIMIT", "1", "3")
	do("ZREVRANGEBYSCORE", "z", "1e301", "-1", "WITHSCORES")
	do("ZRANK", "z", "m4")
	do("ZREVRANK", "z", "m4")
	do("ZSCORE", "z", "m1")
	do("ZMSCORE", "z", "m0", "m8", "nosuch")
	do("ZCOUNT", "z", "-1", "1")
	write("z", "ZINCRBY", "z", "2", "m2")
	write("z", "ZINCRBY", "z", "0.25", "m3")
	write("z", "ZADD", "z", "XX", "CH", "7", "m0", "-7", "m1")
	do("ZRANGE", "z", "0", "-1", "WITHSCORES")
	write("z", "ZPOPMIN", "z", "2")
	write("z", "ZPOPMAX", "z")
	write("z", "ZREM", "z", "m5", "nosuch")
	write("z", "ZREMRANGEBYRANK", "z", "1", "2")
	do("ZRANGE", "z", "0", "-1", "WITHSCORES")
	write("lex", "ZADD", "lex", "0", "a", "0", "b", "0", "c", "0", "d")
	do("ZRANGEBYLEX", "lex", "[b", "(d")
	do("ZREVRANGEBYLEX", "lex", "+", "(a")
	do("ZLEXCOUNT", "lex", "-", "+")
	write("lex", "ZREMRANGEBYLEX", "lex", "[a", "[b")
	write("z128", many("ZADD", "z128", 128, func(i int) []any { return []any{i, "m" + strconv.Itoa(i)} })...)
	write("z128", "ZADD", "z128", "1", "one-more")
	write("zlong", "ZADD", "zlong", "1", strings.Repeat("x", 64))
	write("zlong", "ZADD", "zlong", "2", strings.Repeat("y", 65))
	write("zu", "ZUNIONSTORE", "zu", "2", "z", "lex")
	write("zu2", "ZUNIONSTORE", "zu2", "2", "z128", "lex")
	write("zr", "ZRANGESTORE", "zr", "z128", "0", "9")
	do("CONFIG", "SET", "zset-max-listpack-entries", "3")
	write("zc", "ZADD", "zc", "1", "a", "2", "b", "3", "c")
	write("zc", "ZADD", "zc", "4", "d")
	do("CONFIG", "SET", "zset-max-listpack-entries", "128", "zset-max-listpack-value", "2")
	write("zv", "ZADD", "zv", "1", "ab")
	write("zv", "ZADD", "zv", "1", "abc")
	do("CONFIG", "SET", "zset-max-listpack-value", "64")

	// Sets: intset while every member is an integer and there are at
	// most set-max-intset-entries; 7.0 has no listpack sets.
	write("s", "SADD", "s", "1", "-2", "300000", "5000000000")
	do("SMEMBERS", "s")
	write("s", "SREM", "s", "300000")
	write("s", "SADD", "s", "01")
	write("t", "SADD", "t", "a", "b")
	write("s512", many("SADD", "s512", 512, func(i int) []any { return []any{i} })...)
	write("s512", "SADD", "s512", "512")
	do("CONFIG", "SET", "set-max-intset-entries", "2")
	write("sc", "SADD", "sc", "1", "2")
	write("sc", "SADD", "sc", "3")
	do("CONFIG", "SET", "set-max-intset-entries", "512")

	// Hashes.
	write("h", "HSET", "h", "f", "v", "n", "1")
	write("h512", many("HSET", "h512", 512, func(i int) []any { return []any{"f" + strconv.Itoa(i), i} })...)
	write("h512", "HSET", "h512", "one", "more")
	write("hlong", "HSET", "hlong", "f", strings.Repeat("v", 64))
	write("hlong", "HSET", "hlong", "g", strings.Repeat("v", 65))
	do("CONFIG", "SET", "hash-max-listpack-entries", "1")
	write("hc", "HSET", "hc", "a", "1")
	write("hc", "HSET", "hc", "b", "2")
	do("CONFIG", "SET", "hash-max-listpack-entries", "512")

	// Lists are quicklists in 7.0, whatever their size.
	write("l", "RPUSH", "l", "a")
	write("l", many("RPUSH", "l", 1000, func(i int) []any { return []any{i} })...)

	// Strings: int, embstr, raw.
	for _, v := range []string{"123", "-5", "0", "-0", "007", "9223372036854775807", "9223372036854775808", "abc",
		strings.Repeat("e", 44), strings.Repeat("r", 45), "1.5", ""} {
		write("str", "SET", "str", v)
		do("GET", "str")
	}
	write("str", "APPEND", "str", "x")
	write("m1", "MSET", "m1", "12", "m2", "text")
	do("OBJECT", "ENCODING", "m2")
	write("gs", "GETSET", "gs", "77")
	write("sx", "SETEX", "sx", "100", "hello")
	write("str", "SET", "str", "fresh", "GET")
	write("k", "DEBUG", "POPULATE", "3")
	do("MGET", "key:0", "key:1", "key:2")
	do("OBJECT", "ENCODING", "key:2")
}
