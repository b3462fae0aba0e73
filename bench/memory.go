package main

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"time"
)

// The memory comparison (performance issue, goal 2): RSS per key for
// 1M small strings and for hashes, sets, sorted sets and lists of 10, 100
// and 1000 small elements, each case loaded into a fresh redgo and a fresh
// redis-server with their default settings. A reading is the growth of RSS
// (and of used_memory) over the empty server, after MEMORY PURGE on both
// (Go: a collection and the heap handed back; jemalloc: dirty pages
// purged), divided by the keys and by the elements. Its section of
// docs/benchmarks.md sits between markers so `go run ./bench -memory`
// rewrites only its part.

var (
	memoryOnly  = flag.Bool("memory", false, "run only the memory per key comparison and update its section of the report")
	memoryElems = flag.Int("memory-elems", 500000, "elements per collection case (keys = elements / size)")
	memoryChurn = flag.Duration("memory-churn", time.Minute, "how long the steady write load overwrites the strings")
	memoryTypes = flag.String("memory-types", "string,hash,set,zset,list", "the cases to load (a partial run is for looking into one: write it elsewhere with -out)")
)

const (
	memoryBegin = "<!-- memory:begin -->"
	memoryEnd   = "<!-- memory:end -->"
)

// memCase is one dataset: keys of one type, each with size elements.
type memCase struct {
	typ  string // string, hash, set, zset, list
	size int    // elements per key (1 for strings)
	keys int
}

func (c memCase) name() string {
	if c.typ == "string" {
		return "string (`key:N` = `value:N`)"
	}
	return fmt.Sprintf("%s of %d", c.typ, c.size)
}

// memReading is one case on one server: growth per key of RSS and used_memory.
type memReading struct{ rss, used float64 }

// memoryCases is the list of datasets the comparison loads.
func memoryCases() []memCase {
	strN, elems := *keysN, *memoryElems
	if *quick {
		strN, elems = 200000, 100000
		*memoryChurn = min(*memoryChurn, 10*time.Second)
	}
	want := map[string]bool{}
	for _, t := range strings.Split(*memoryTypes, ",") {
		want[strings.TrimSpace(t)] = true
	}
	var cs []memCase
	if want["string"] {
		cs = append(cs, memCase{"string", 1, strN})
	}
	for _, t := range []string{"hash", "set", "zset", "list"} {
		if !want[t] {
			continue
		}
		for _, n := range []int{10, 100, 1000} {
			cs = append(cs, memCase{t, n, elems / n})
		}
	}
	return cs
}

// loadCase fills s with c's keys: DEBUG POPULATE for strings, pipelined
// HSET/SADD/ZADD/RPUSH (one command per key) for collections. Hash fields
// are `f:I` = `v:I`, set members the integers I (Redis's intset encoding
// up to set-max-intset-entries), sorted set members `m:I` with score I,
// list elements `e:I`.
func loadCase(s *server, c memCase) {
	if c.typ == "string" {
		s.cli("DEBUG", "POPULATE", strconv.Itoa(c.keys))
		return
	}
	conn := dial(s)
	defer conn.close()
	cmd := map[string]string{"hash": "HSET", "set": "SADD", "zset": "ZADD", "list": "RPUSH"}[c.typ]
	const batch = 100
	pending := 0
	for k := 0; k < c.keys; k++ {
		args := []string{cmd, fmt.Sprintf("%s:%d", c.typ, k)}
		for i := 0; i < c.size; i++ {
			is := strconv.Itoa(i)
			switch c.typ {
			case "hash":
				args = append(args, "f:"+is, "v:"+is)
			case "set":
				args = append(args, is)
			case "zset":
				args = append(args, is, "m:"+is)
			case "list":
				args = append(args, "e:"+is)
			}
		}
		conn.send(args...)
		if pending++; pending == batch {
			for ; pending > 0; pending-- {
				conn.read()
			}
		}
	}
	for ; pending > 0; pending-- {
		conn.read()
	}
}

// measureCase loads c into a fresh server and returns its growth per key.
func measureCase(name, bin string, c memCase) memReading {
	s := start(name, serverBin(name, bin))
	defer s.stop()
	time.Sleep(300 * time.Millisecond)
	// Warm up with a hundredth of the keys (at most 1000), then FLUSHALL:
	// what the first commands of a kind cost once (structures built
	// lazily, code paged in: about 1 MB on redgo) is not spread over the
	// keys of the reading.
	warm := c
	warm.keys = max(1, min(1000, c.keys/100))
	loadCase(s, warm)
	s.cli("FLUSHALL")
	s.cli("MEMORY", "PURGE")
	time.Sleep(200 * time.Millisecond)
	used0, rss0 := s.info("used_memory"), s.rss()
	loadCase(s, c)
	if got := s.cli("DBSIZE"); strings.TrimSpace(got) != strconv.Itoa(c.keys) {
		fail("%s: %s holds %s keys, want %d", c.name(), name, strings.TrimSpace(got), c.keys)
	}
	time.Sleep(time.Second)
	s.cli("MEMORY", "PURGE")
	time.Sleep(200 * time.Millisecond)
	k := float64(c.keys)
	return memReading{rss: float64(s.rss()-rss0) / k, used: float64(s.info("used_memory")-used0) / k}
}

// churnGoal is the highest peak/loaded RSS ratio under the write load
// that counts as no drift (GOGC=100 alone would allow up to 2).
const churnGoal = 1.10

// churnResult is the steady write load on one server: RSS with the
// strings loaded, and the highest RSS sampled while the load ran.
type churnResult struct {
	before, peak int64
	writes       int
}

// churn loads the strings of c into a fresh server, then overwrites
// random keys with new values of the same size (pipelined SETs) for
// *memoryChurn, sampling RSS every 250 ms.
func churn(name, bin string, i int, c memCase) churnResult {
	s := start(name, serverBin(name, bin))
	defer s.stop()
	loadCase(s, c)
	time.Sleep(time.Second)
	res := churnResult{before: s.rss()}
	conn := dial(s)
	defer conn.close()
	r := rand.New(rand.NewPCG(uint64(i), 1))
	next := time.Now()
	for end := time.Now().Add(*memoryChurn); time.Now().Before(end); {
		for j := 0; j < 100; j++ {
			k := strconv.Itoa(r.IntN(c.keys))
			conn.send("SET", "key:"+k, "value:"+k)
		}
		for j := 0; j < 100; j++ {
			conn.read()
		}
		res.writes += 100
		if now := time.Now(); now.After(next) {
			res.peak = max(res.peak, s.rss())
			next = now.Add(250 * time.Millisecond)
		}
	}
	return res
}

// memorySection runs the comparison and returns its markdown.
func memorySection(bin string) string {
	cases := memoryCases()
	res := map[string][]memReading{}
	for _, c := range cases {
		for _, name := range []string{"redgo", "redis"} {
			res[name] = append(res[name], measureCase(name, bin, c))
		}
		fmt.Fprintf(os.Stderr, "memory: %s done\n", c.name())
	}
	churned := map[string]churnResult{}
	for i, name := range []string{"redgo", "redis"} {
		if cases[0].typ != "string" || *memoryChurn <= 0 {
			break
		}
		churned[name] = churn(name, bin, i, cases[0])
		fmt.Fprintf(os.Stderr, "memory: %s write load done\n", name)
	}
	var b strings.Builder
	b.WriteString(memoryBegin + "\n")
	b.WriteString("## Memory per key\n\n")
	b.WriteString(producedBy("memory"))
	b.WriteString("\nEach case is loaded into a fresh server with default settings (so Redis picks listpack, intset,\n")
	b.WriteString("hashtable or skiplist by its default thresholds). A figure is the growth of RSS (and of used_memory)\n")
	b.WriteString("over the empty server (warmed up by a load of a hundredth of the keys, at most 1000, then FLUSHALL), after\n")
	b.WriteString("`MEMORY PURGE` on both, divided by the keys; per element divides by the\n")
	b.WriteString("elements too. Strings: `DEBUG POPULATE N`. Collections: one `HSET key f:I v:I ...`, `SADD key I ...`\n")
	b.WriteString("(integers), `ZADD key I m:I ...` or `RPUSH key e:I ...` per key, I = 0..size-1.\n\n")
	b.WriteString("| case | keys | redgo RSS/key | redis RSS/key | redgo RSS/element | redis RSS/element | **RSS redgo/redis** | used_memory redgo/redis |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|\n")
	var worst float64
	for i, c := range cases {
		g, r := res["redgo"][i], res["redis"][i]
		rr := ratio(g.rss, r.rss)
		worst = max(worst, rr)
		fmt.Fprintf(&b, "| %s | %d | %.1f B | %.1f B | %.1f B | %.1f B | **%.2f** | %.2f |\n", c.name(), c.keys,
			g.rss, r.rss, g.rss/float64(c.size), r.rss/float64(c.size), rr, ratio(g.used, r.used))
	}
	fmt.Fprintf(&b, "\nWorst RSS ratio: **%.2f**. Goal (RSS per key <= 1.0x Redis in every case): **%s**.\n", worst,
		map[bool]string{true: "holds", false: "does not hold"}[worst <= 1.0])
	if len(churned) > 0 {
		writeChurn(&b, cases[0], churned)
	}
	b.WriteString(memoryEnd + "\n")
	return b.String()
}

// writeChurn writes the steady write load's table and goal.
func writeChurn(b *strings.Builder, c memCase, churned map[string]churnResult) {
	fmt.Fprintf(b, "\nSteady write load: the %d strings loaded, then `SET key:N value:N` of random existing keys\n", c.keys)
	fmt.Fprintf(b, "(pipelined by 100, one connection) for %s; RSS sampled every 250 ms. The dataset does not change\n", *memoryChurn)
	b.WriteString("size, so any growth of RSS is garbage waiting for a collection (GC headroom) or allocator slack.\n\n")
	b.WriteString("| | writes | RSS loaded | peak RSS under the load | peak / loaded |\n|---|---|---|---|---|\n")
	for _, name := range []string{"redgo", "redis"} {
		ch := churned[name]
		fmt.Fprintf(b, "| %s | %d | %d MB | %d MB | **%.2f** |\n", name, ch.writes, ch.before>>20, ch.peak>>20,
			float64(ch.peak)/float64(ch.before))
	}
	g := churned["redgo"]
	drift := float64(g.peak) / float64(g.before)
	fmt.Fprintf(b, "\nGoal (RSS under a steady write load stays within %.0f%% of the loaded dataset's, no GC headroom): **%s** (%.2f).\n",
		(churnGoal-1)*100, map[bool]string{true: "holds", false: "does not hold"}[drift <= churnGoal], drift)
}
