package rdb

import (
	"bufio"
	"bytes"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"redgo/internal/datatype"
	"redgo/internal/keyspace"
)

func TestCRC64(t *testing.T) {
	if got := CRC64(0, []byte("123456789")); got != 0xe9c6d914c4b8d9ca {
		t.Fatalf("crc64 = %x", got)
	}
	// Slicing path vs bytewise on odd lengths and split updates.
	data := make([]byte, 1000)
	for i := range data {
		data[i] = byte(i * 7)
	}
	for _, n := range []int{0, 1, 7, 8, 9, 63, 64, 65, 999} {
		whole := CRC64(0, data[:n])
		var c uint64
		for _, b := range data[:n] {
			c = CRC64(c, []byte{b})
		}
		if c != whole {
			t.Fatalf("n=%d: %x != %x", n, c, whole)
		}
	}
}

func TestLZFRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	inputs := [][]byte{
		[]byte(strings.Repeat("a", 1000)),
		[]byte(strings.Repeat("hello world ", 300)),
		[]byte("value:123" + strings.Repeat("\x00", 91)),
	}
	for i := 0; i < 200; i++ {
		n := r.IntN(20000) + 1
		b := make([]byte, n)
		alpha := r.IntN(255) + 1
		for j := range b {
			if j > 10 && r.IntN(4) == 0 {
				b[j] = b[j-1-r.IntN(10)]
			} else {
				b[j] = byte(r.IntN(alpha))
			}
		}
		inputs = append(inputs, b)
	}
	for i, in := range inputs {
		c := lzfCompress(nil, in, len(in)+len(in)/32+64)
		if c == nil {
			t.Fatalf("%d: did not fit", i)
		}
		out, err := lzfDecompress(c, len(in))
		if err != nil || !bytes.Equal(out, in) {
			t.Fatalf("%d: round trip failed: %v", i, err)
		}
		if small := lzfCompress(nil, in, len(c)-1); small != nil {
			t.Fatalf("%d: limit not honored: %d > %d", i, len(small), len(c)-1)
		}
	}
	// Long zero runs compress well.
	if c := lzfCompress(nil, inputs[0], 1000); len(c) > 20 {
		t.Fatalf("weak compression: %d bytes", len(c))
	}
}

func TestLZFDecompressGarbage(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 10000; i++ {
		b := make([]byte, r.IntN(40))
		for j := range b {
			b[j] = byte(r.Uint32())
		}
		lzfDecompress(b, r.IntN(200)) // must not panic
	}
}

func TestListpackRoundTrip(t *testing.T) {
	vals := []string{"", "a", "0", "-0", "127", "128", "-1", "-4096", "4095", "4096", "-4097", "32767",
		"32768", "-32769", "8388607", "8388608", "-8388609", "2147483647", "2147483648",
		"9223372036854775807", "-9223372036854775808", "9223372036854775808", "01", "+1", " 1",
		strings.Repeat("x", 63), strings.Repeat("y", 64), strings.Repeat("z", 4095), strings.Repeat("w", 4096),
		strings.Repeat("v", 20000)}
	lp := newListpack(nil)
	size := 7
	for _, v := range vals {
		lp.add([]byte(v))
		size += lpEntrySize([]byte(v))
	}
	b := lp.finish()
	if len(b) != size {
		t.Fatalf("size %d, estimated %d", len(b), size)
	}
	var got []string
	n, err := walkListpack(b, func(s []byte, i int64) error {
		got = append(got, string(elemBytes(s, i)))
		return nil
	})
	if err != nil || n != len(vals) {
		t.Fatalf("walk: %v n=%d", err, n)
	}
	for i := range vals {
		if got[i] != vals[i] {
			t.Fatalf("elem %d: %q != %q", i, got[i], vals[i])
		}
	}
}

func TestParseInt(t *testing.T) {
	for _, c := range []struct {
		s  string
		ok bool
	}{{"0", true}, {"-0", false}, {"00", false}, {"1", true}, {"-1", true}, {"+1", false}, {"", false},
		{"9223372036854775807", true}, {"9223372036854775808", false}, {"-9223372036854775808", true},
		{"-9223372036854775809", false}, {"99999999999999999999", false}, {"1a", false}} {
		v, ok := parseInt([]byte(c.s))
		if ok != c.ok {
			t.Fatalf("%q: ok=%v", c.s, ok)
		}
		if ok && strconv.FormatInt(v, 10) != c.s {
			t.Fatalf("%q: %d", c.s, v)
		}
	}
}

func TestFormatScore(t *testing.T) {
	for f, want := range map[float64]string{1.5: "1.5", 0.1: "0.10000000000000001", 3: "3", -0.0: "0",
		math.Inf(1): "inf", math.Inf(-1): "-inf", 1e20: "1e+20", 4503599627370496: "4503599627370496",
		123456789012345678: "1.2345678901234568e+17"} {
		if got := string(FormatScore(nil, f)); got != want {
			t.Errorf("%v: %q != %q", f, got, want)
		}
	}
	if got := string(FormatScore(nil, math.Copysign(0, -1))); got != "-0" {
		t.Errorf("-0: %q", got)
	}
}

// sampleObjects returns one value of every type in every encoding.
func sampleObjects() map[string]*keyspace.Object {
	m := map[string]*keyspace.Object{}
	m["str"] = keyspace.NewString([]byte("hello"))
	m["int"] = keyspace.NewString([]byte("-123456"))
	m["bigint"] = keyspace.NewString([]byte("12345678901234"))
	m["empty"] = keyspace.NewString([]byte{})
	m["compressible"] = keyspace.NewString([]byte(strings.Repeat("abc", 1000)))
	m["binary"] = keyspace.NewString([]byte{0, 1, 2, 0xff, 0xfe})
	l := datatype.NewList(nil)
	for i := 0; i < 5; i++ {
		l.PushBack([]byte(strconv.Itoa(i * 1000)))
		l.PushBack([]byte("e" + strconv.Itoa(i)))
	}
	m["list"] = keyspace.NewList(l)
	bl := datatype.NewList(nil)
	for i := 0; i < 5000; i++ {
		bl.PushBack([]byte("element-" + strconv.Itoa(i)))
	}
	bl.PushBack(make([]byte, 10000))
	m["biglist"] = keyspace.NewList(bl)
	h := datatype.NewHash(nil)
	h.Set([]byte("f1"), []byte("v1"))
	h.Set([]byte("n"), []byte("42"))
	m["hash"] = keyspace.NewHash(h)
	bh := datatype.NewHash(nil)
	for i := 0; i < 1000; i++ {
		bh.Set([]byte("field"+strconv.Itoa(i)), []byte(strconv.Itoa(i)))
	}
	m["bighash"] = keyspace.NewHash(bh)
	is := datatype.NewSet(nil)
	for _, v := range []string{"1", "-5", "70000", "9000000000"} {
		is.Add([]byte(v))
	}
	m["intset"] = keyspace.NewSet(is)
	s := datatype.NewSet(nil)
	for _, v := range []string{"a", "b", "1"} {
		s.Add([]byte(v))
	}
	m["set"] = keyspace.NewSet(s)
	z := datatype.NewZSet(nil)
	z.Insert("a", 1.5)
	z.Insert("b", -3)
	z.Insert("c", math.Inf(1))
	z.Insert("d", 0.1)
	m["zset"] = keyspace.NewZSet(z)
	bz := datatype.NewZSet(nil)
	for i := 0; i < 500; i++ {
		bz.Insert("member"+strconv.Itoa(i), float64(i)/7)
	}
	m["bigzset"] = keyspace.NewZSet(bz)
	m["stream"] = keyspace.NewStream(sampleStream(3))
	m["bigstream"] = keyspace.NewStream(sampleStream(350))
	return m
}

// sampleStream is a stream of n entries (some with their own fields, some
// deleted) with a group, two consumers and pending entries.
func sampleStream(n int) *datatype.Stream {
	s := datatype.NewStream(nil)
	for i := 1; i <= n; i++ {
		fv := [][]byte{[]byte("f"), []byte(strconv.Itoa(i)), []byte("g"), []byte("v" + strconv.Itoa(i))}
		if i%5 == 0 {
			fv = [][]byte{[]byte("other"), []byte("-" + strconv.Itoa(i))}
		}
		s.Add(datatype.StreamID{Ms: uint64(1000 + i/2), Seq: uint64(i % 2)}, fv)
	}
	s.Delete(datatype.StreamID{Ms: 1001, Seq: 0})
	g := s.CreateGroup([]byte("grp"), datatype.StreamID{Ms: 1001, Seq: 1}, 2)
	a := g.CreateConsumer([]byte("alice"), 1700000000000)
	g.CreateConsumer([]byte("bob"), 1700000000001)
	g.Deliver(datatype.StreamID{Ms: 1000, Seq: 1}, a, 1700000000002)
	g.Deliver(datatype.StreamID{Ms: 1001, Seq: 1}, a, 1700000000003)
	s.CreateGroup([]byte("empty"), datatype.StreamID{}, datatype.InvalidEntriesRead)
	return s
}

// Describe renders a value canonically (sets and hashes sorted) for
// comparisons.
func describe(o *keyspace.Object) string {
	var parts []string
	switch o.Type() {
	case keyspace.TString:
		return "string:" + strconv.Quote(string(o.Bytes()))
	case keyspace.TList:
		for v := range o.List().All() {
			parts = append(parts, strconv.Quote(string(v)))
		}
		return "list:" + strings.Join(parts, ",")
	case keyspace.THash:
		o.Hash().ForEach(func(f, v []byte) bool {
			parts = append(parts, strconv.Quote(string(f))+"="+strconv.Quote(string(v)))
			return true
		})
		sortStrings(parts)
		return "hash:" + strings.Join(parts, ",")
	case keyspace.TSet:
		o.Set().ForEach(func(m []byte) bool {
			parts = append(parts, strconv.Quote(string(m)))
			return true
		})
		sortStrings(parts)
		return "set:" + strings.Join(parts, ",")
	case keyspace.TZSet:
		o.ZSet().ForEach(func(e datatype.ZEntry) bool {
			parts = append(parts, strconv.Quote(e.Member)+"="+strconv.FormatFloat(e.Score, 'g', -1, 64))
			return true
		})
		return "zset:" + strings.Join(parts, ",")
	case keyspace.TStream:
		return "stream:" + streamKey(o.Stream()).String()
	}
	return "?"
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

func encodingOf(o *keyspace.Object) string {
	switch o.Type() {
	case keyspace.TList:
		return o.List().Encoding()
	case keyspace.THash:
		return o.Hash().Encoding()
	case keyspace.TSet:
		return o.Set().Encoding()
	case keyspace.TZSet:
		return o.ZSet().Encoding()
	case keyspace.TStream:
		return "stream"
	}
	return "string"
}

func TestDumpRoundTrip(t *testing.T) {
	for name, o := range sampleObjects() {
		for _, compress := range []bool{false, true} {
			p, err := Dump(o, compress)
			if err != nil {
				t.Fatal(name, err)
			}
			got, err := Restore(p, nil)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if describe(got) != describe(o) || encodingOf(got) != encodingOf(o) {
				t.Fatalf("%s: %s/%s != %s/%s", name, describe(got), encodingOf(got), describe(o), encodingOf(o))
			}
			// Any flipped byte is caught by the checksum.
			bad := append([]byte(nil), p...)
			bad[len(bad)/2] ^= 1
			if _, err := Restore(bad, nil); err == nil {
				t.Fatalf("%s: corrupt payload accepted", name)
			}
		}
	}
}

func writeFile(t testing.TB, dbs map[int]map[string]*keyspace.Object) []byte {
	var out bytes.Buffer
	w := NewWriter(&out)
	w.Header([]Aux{{"redis-ver", "7.0.15"}, {"redis-bits", "64"}, {"ctime", "1700000000"}}, true)
	for db := 0; db < 16; db++ {
		keys := dbs[db]
		if len(keys) == 0 {
			continue
		}
		b := AppendSelectDB(nil, db)
		b = AppendResizeDB(b, len(keys), 0)
		for k, o := range keys {
			var err error
			b, err = AppendEntry(b, k, o, EntryOptions{Compress: true, Idle: -1, Freq: -1})
			if err != nil {
				t.Fatal(err)
			}
		}
		w.Write(b)
	}
	if err := w.Finish(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func readFile(t testing.TB, data []byte) map[int]map[string]*keyspace.Object {
	got := map[int]map[string]*keyspace.Object{}
	d := NewDecoder(bufio.NewReader(bytes.NewReader(data)))
	_, err := d.Load(Handler{Entry: func(e *Entry) error {
		if got[e.DB] == nil {
			got[e.DB] = map[string]*keyspace.Object{}
		}
		got[e.DB][string(e.Key)] = e.Obj
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestFileRoundTrip(t *testing.T) {
	objs := sampleObjects()
	objs["volatile"] = keyspace.NewString([]byte("x"))
	objs["volatile"].SetExpire(4102444800000)
	dbs := map[int]map[string]*keyspace.Object{0: objs, 3: {"other": keyspace.NewString([]byte("db3"))}}
	data := writeFile(t, dbs)
	got := readFile(t, data)
	for db, keys := range dbs {
		for k, o := range keys {
			g := got[db][k]
			if g == nil || describe(g) != describe(o) || g.Expire() != o.Expire() {
				t.Fatalf("db %d key %s: %v", db, k, g)
			}
		}
		if len(got[db]) != len(keys) {
			t.Fatalf("db %d: %d keys, want %d", db, len(got[db]), len(keys))
		}
	}
}

// TestCorruptNeverPanics flips, truncates and splices a valid file: every
// result loads or fails with an *Error, never panics.
func TestCorruptNeverPanics(t *testing.T) {
	objs := sampleObjects()
	delete(objs, "biglist")
	delete(objs, "bighash")
	data := writeFile(t, map[int]map[string]*keyspace.Object{0: objs})
	r := rand.New(rand.NewPCG(5, 6))
	try := func(b []byte) {
		d := NewDecoder(bufio.NewReader(bytes.NewReader(b)))
		_, err := d.Load(Handler{})
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
		}
	}
	for n := 0; n < len(data); n += 1 + n/50 {
		try(data[:n])
	}
	for i := 0; i < 2000; i++ {
		b := append([]byte(nil), data...)
		for k := 0; k < 1+r.IntN(4); k++ {
			b[r.IntN(len(b))] = byte(r.Uint32())
		}
		try(b)
	}
}

// TestDeferredCompression: entries written with compression deferred and
// then compressed are byte for byte the entries compressed at once.
func TestDeferredCompression(t *testing.T) {
	var now, plain []byte
	var spans []Span
	for k, o := range sampleObjects() {
		var err error
		now, err = AppendEntry(now, k+strings.Repeat("-long-key", 3), o, EntryOptions{Compress: true, Idle: -1, Freq: -1})
		if err != nil {
			t.Fatal(err)
		}
		plain, _ = AppendEntry(plain, k+strings.Repeat("-long-key", 3), o,
			EntryOptions{Compress: true, Deferred: &spans, Idle: -1, Freq: -1})
	}
	if len(spans) == 0 {
		t.Fatal("nothing deferred")
	}
	if got := CompressDeferred(nil, plain, spans); !bytes.Equal(got, now) {
		t.Fatalf("deferred compression differs (%d vs %d bytes)", len(got), len(now))
	}
}

// RestoreBorrowed decodes what Restore decodes; a plain string aliases
// the payload (its lengths in each of the three sizes), anything else
// (integers, LZF, other types, a bad checksum) goes through Restore.
func TestRestoreBorrowed(t *testing.T) {
	objs := sampleObjects()
	for _, n := range []int{0, 1, 63, 64, 16383, 16384, 70000} {
		objs["plain-"+strconv.Itoa(n)] = keyspace.NewString(bytes.Repeat([]byte{'a' + byte(n%26)}, n))
	}
	for name, o := range objs {
		for _, compress := range []bool{false, true} {
			p, err := Dump(o, compress)
			if err != nil {
				t.Fatal(name, err)
			}
			got, err := RestoreBorrowed(p, nil)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if describe(got) != describe(o) || encodingOf(got) != encodingOf(o) {
				t.Fatalf("%s: %s/%s != %s/%s", name, describe(got), encodingOf(got), describe(o), encodingOf(o))
			}
			_, plain := plainString(p)
			if o.Type() == keyspace.TString && len(o.Bytes()) > 0 && plain {
				if &got.Bytes()[0] != &p[len(p)-10-len(o.Bytes())] {
					t.Fatalf("%s: a plain string was copied", name)
				}
			}
			bad := append([]byte(nil), p...)
			bad[len(bad)/2] ^= 1
			if _, err := RestoreBorrowed(bad, nil); err == nil {
				t.Fatalf("%s: corrupt payload accepted", name)
			}
		}
	}
	// A length that does not cover the body exactly is not plain.
	p, _ := Dump(keyspace.NewString([]byte("abcdef")), false)
	p[1] = 5
	if _, ok := plainString(p); ok {
		t.Fatal("a string with a trailing byte taken as plain")
	}
	if _, err := RestoreBorrowed(p[:11], nil); err == nil {
		t.Fatal("an empty body accepted")
	}
}
