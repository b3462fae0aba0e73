package clusterbus

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"redgo/internal/cluster"
)

const (
	nameA = "35b0e605a4d937f0245f2481aa5e5ec8bd11d2a0"
	nameB = "94e6e77d244645271e9439000c209a90976d5eef"
)

// TestLayout assembles a PING field by field at the offsets of Redis's
// cluster_legacy.h static_asserts, independently of the encoder, and
// checks Encode produces the same bytes and Decode reads them back.
func TestLayout(t *testing.T) {
	b := make([]byte, 2256+104+16+56)
	put16 := func(off int, v uint16) { binary.BigEndian.PutUint16(b[off:], v) }
	put32 := func(off int, v uint32) { binary.BigEndian.PutUint32(b[off:], v) }
	put64 := func(off int, v uint64) { binary.BigEndian.PutUint64(b[off:], v) }
	copy(b[0:], "RCmb")
	put32(4, uint32(len(b)))
	put16(8, 1)     // ver
	put16(10, 7000) // port
	put16(12, 0)    // type PING
	put16(14, 1)    // count
	put64(16, 9)    // currentEpoch
	put64(24, 4)    // configEpoch
	put64(32, 12345)
	copy(b[40:], nameA)
	b[80] = 0x81          // slots 0 and 7
	b[80+2047] = 0x80     // slot 16383
	copy(b[2128:], nameB) // slaveof
	copy(b[2168:], "10.0.0.1")
	put16(2214, 2) // extensions
	put16(2246, 6999)
	put16(2248, 17000)
	put16(2250, uint16(cluster.FlagSlave|cluster.FlagMyself))
	b[2252] = 1 // state fail
	b[2253] = cluster.MFlagExtData | cluster.MFlagPaused
	g := b[2256:]
	copy(g, nameB)
	put32(2256+40, 1700000000)
	put32(2256+44, 1700000001)
	copy(g[48:], "10.0.0.2")
	put16(2256+94, 7001)
	put16(2256+96, 17001)
	put16(2256+98, uint16(cluster.FlagMaster))
	put16(2256+100, 6998)
	x := 2256 + 104
	put32(x, 16) // hostname "host-a": 8 + 7 bytes, padded to 16
	put16(x+4, 0)
	copy(b[x+8:], "host-a")
	x += 16
	put32(x, 56) // forgotten node: name + ttl
	put16(x+4, 2)
	copy(b[x+8:], nameA)
	put64(x+48, 60)

	var slots cluster.Slots
	slots.Set(0)
	slots.Set(7)
	slots.Set(16383)
	m := &cluster.Msg{
		Type: cluster.MsgPing, Port: 7000, PPort: 6999, CPort: 17000,
		CurrentEpoch: 9, ConfigEpoch: 4, Offset: 12345,
		Sender: nameA, Slots: slots, ReplicaOf: nameB, IP: "10.0.0.1",
		Flags: cluster.FlagSlave | cluster.FlagMyself, State: cluster.StateFail,
		MFlags: [3]byte{cluster.MFlagExtData | cluster.MFlagPaused},
		Gossip: []cluster.Gossip{{Name: nameB, PingSent: 1700000000, PongReceived: 1700000001,
			IP: "10.0.0.2", Port: 7001, CPort: 17001, PPort: 6998, Flags: cluster.FlagMaster}},
		Exts: []cluster.PingExt{cluster.HostnameExt("host-a"), cluster.ForgottenNodeExt(nameA, 60)},
	}
	enc, err := Encode(m)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(enc, b) {
		for i := range b {
			if i >= len(enc) || enc[i] != b[i] {
				t.Fatalf("first difference at byte %d (of %d, encoded %d)", i, len(b), len(enc))
			}
		}
		t.Fatalf("encoded %d bytes, want %d", len(enc), len(b))
	}
	dec, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(dec, m) {
		t.Fatalf("decoded\n%+v\nwant\n%+v", dec, m)
	}
}

// TestBodyLayouts checks the data part of every non-PING type.
func TestBodyLayouts(t *testing.T) {
	var slots cluster.Slots
	slots.Set(200)
	for _, tc := range []struct {
		m    cluster.Msg
		body string // the bytes after the header
	}{
		{cluster.Msg{Type: cluster.MsgFail, Fail: &cluster.Fail{About: nameB}}, nameB},
		{cluster.Msg{Type: cluster.MsgPublish, Publish: &cluster.Publish{Channel: []byte("ch"), Message: []byte("hello")}},
			"\x00\x00\x00\x02\x00\x00\x00\x05chhello"},
		{cluster.Msg{Type: cluster.MsgPublishShard, Publish: &cluster.Publish{}}, "\x00\x00\x00\x00\x00\x00\x00\x00"},
		{cluster.Msg{Type: cluster.MsgUpdate, Update: &cluster.Update{ConfigEpoch: 0x0102, Node: nameB, Slots: slots}},
			"\x00\x00\x00\x00\x00\x00\x01\x02" + nameB + string(slots[:])},
		{cluster.Msg{Type: cluster.MsgModule, Module: &cluster.Module{ModuleID: 0x0a0b, Type: 7, Data: []byte("xyz")}},
			"\x00\x00\x00\x00\x00\x00\x0a\x0b\x00\x00\x00\x03\x07xyz"},
		{cluster.Msg{Type: cluster.MsgFailoverAuthRequest}, ""},
		{cluster.Msg{Type: cluster.MsgFailoverAuthAck}, ""},
		{cluster.Msg{Type: cluster.MsgMFStart}, ""},
		{cluster.Msg{Type: cluster.MsgPong, Exts: []cluster.PingExt{cluster.ShardIDExt(nameA),
			cluster.HumanNodenameExt("12345678"), {Type: 9, Data: []byte{1, 2, 3}}}},
			"\x00\x00\x00\x30\x00\x03\x00\x00" + nameA +
				"\x00\x00\x00\x18\x00\x01\x00\x0012345678\x00\x00\x00\x00\x00\x00\x00\x00" +
				"\x00\x00\x00\x10\x00\x09\x00\x00\x01\x02\x03\x00\x00\x00\x00\x00"},
	} {
		m := tc.m
		m.Sender = nameA
		b, err := Encode(&m)
		if err != nil {
			t.Fatalf("%s: %v", m.Type, err)
		}
		if got := string(b[HeaderLen:]); got != tc.body {
			t.Errorf("%s body\n%q\nwant\n%q", m.Type, got, tc.body)
		}
		if int(binary.BigEndian.Uint32(b[4:])) != len(b) || binary.BigEndian.Uint16(b[12:]) != uint16(m.Type) {
			t.Errorf("%s: totlen or type wrong", m.Type)
		}
		d, err := Decode(b)
		if err != nil {
			t.Fatalf("%s: %v", m.Type, err)
		}
		if m.IsPing() && len(m.Exts) > 0 {
			m.MFlags[0] |= cluster.MFlagExtData
			m.Exts[2].Data = append(m.Exts[2].Data, 0, 0, 0, 0, 0) // padding is kept
		}
		if !reflect.DeepEqual(d, &m) {
			t.Errorf("%s: decoded %+v, want %+v", m.Type, d, &m)
		}
	}
}

// TestRedisFixtures decodes messages captured from redis-server 7.0.15
// (see TestRedisBus) and re-encodes them byte for byte.
func TestRedisFixtures(t *testing.T) {
	files, _ := filepath.Glob("testdata/redis7.0-*.bin")
	if len(files) < 8 {
		t.Fatalf("only %d fixtures", len(files))
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		m, err := Decode(raw)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		kind := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), "redis7.0-"), ".bin")
		if typ, _, _ := strings.Cut(kind, "-gossip"); typ != m.Type.String() {
			t.Errorf("%s decodes as %s", f, m.Type)
		}
		if !isName(m.Sender) || m.CPort != m.Port+10000 || m.Flags&cluster.FlagMyself == 0 {
			t.Errorf("%s: sender %q ports %d/%d flags %#x", f, m.Sender, m.Port, m.CPort, m.Flags)
		}
		re, err := Encode(m)
		if err != nil || !bytes.Equal(re, raw) {
			t.Errorf("%s: re-encoding differs (err %v)", f, err)
		}
		switch m.Type {
		case cluster.MsgPing, cluster.MsgPong, cluster.MsgMeet:
			if strings.HasSuffix(kind, "-gossip") != (len(m.Gossip) > 0) {
				t.Errorf("%s: %d gossip entries", f, len(m.Gossip))
			}
			for _, g := range m.Gossip {
				if !isName(g.Name) || g.IP != "127.0.0.1" || g.Port == 0 || g.CPort == 0 {
					t.Errorf("%s: gossip %+v", f, g)
				}
			}
			if e, ok := m.Ext(cluster.ExtHostname); !ok || e.Value != "host-a" {
				t.Errorf("%s: extensions %+v", f, m.Exts)
			}
		case cluster.MsgFail:
			if !isName(m.Fail.About) {
				t.Errorf("%s: about %q", f, m.Fail.About)
			}
		case cluster.MsgUpdate:
			if !isName(m.Update.Node) || m.Update.ConfigEpoch != 6 || !m.Update.Slots.Has(200) {
				t.Errorf("%s: %+v", f, m.Update)
			}
		case cluster.MsgPublish, cluster.MsgPublishShard:
			if len(m.Publish.Channel) == 0 || len(m.Publish.Message) == 0 {
				t.Errorf("%s: %+v", f, m.Publish)
			}
		}
	}
}

func isName(s string) bool {
	if len(s) != cluster.NameLen {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// randMsg returns a random valid message of type typ.
func randMsg(r *rand.Rand, typ cluster.MsgType) *cluster.Msg {
	str := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(1 + r.IntN(255))
		}
		return string(b)
	}
	bytesOf := func(n int) []byte {
		if n == 0 {
			return nil
		}
		return []byte(str(n))
	}
	name := func() string {
		if r.IntN(4) == 0 {
			return ""
		}
		return str(cluster.NameLen)
	}
	m := &cluster.Msg{
		Type: typ, Port: r.IntN(65536), PPort: r.IntN(65536), CPort: r.IntN(65536),
		CurrentEpoch: r.Uint64(), ConfigEpoch: r.Uint64(), Offset: r.Uint64(),
		Sender: name(), ReplicaOf: name(), IP: str(r.IntN(46)),
		Flags: cluster.Flags(r.IntN(1 << 16)), State: uint8(r.IntN(256)),
		MFlags: [3]byte{byte(r.IntN(256)), byte(r.IntN(256)), byte(r.IntN(256))},
	}
	for i := range m.Slots {
		if r.IntN(3) == 0 {
			m.Slots[i] = byte(r.IntN(256))
		}
	}
	switch typ {
	case cluster.MsgPing, cluster.MsgPong, cluster.MsgMeet:
		for range r.IntN(5) {
			m.Gossip = append(m.Gossip, cluster.Gossip{Name: name(), PingSent: r.Uint32(),
				PongReceived: r.Uint32(), IP: str(r.IntN(46)), Port: r.IntN(65536),
				CPort: r.IntN(65536), PPort: r.IntN(65536), Flags: cluster.Flags(r.IntN(1 << 16))})
		}
		for range r.IntN(4) {
			switch r.IntN(5) {
			case 0:
				m.Exts = append(m.Exts, cluster.HostnameExt(str(r.IntN(30))))
			case 1:
				m.Exts = append(m.Exts, cluster.HumanNodenameExt(str(r.IntN(30))))
			case 2:
				m.Exts = append(m.Exts, cluster.ForgottenNodeExt(str(cluster.NameLen), r.Uint64()))
			case 3:
				m.Exts = append(m.Exts, cluster.ShardIDExt(str(cluster.NameLen)))
			case 4:
				m.Exts = append(m.Exts, cluster.PingExt{Type: cluster.ExtType(4 + r.IntN(100)), Data: bytesOf(8 * r.IntN(4))})
			}
		}
		if len(m.Exts) > 0 {
			m.MFlags[0] |= cluster.MFlagExtData
		}
	case cluster.MsgFail:
		m.Fail = &cluster.Fail{About: name()}
	case cluster.MsgPublish, cluster.MsgPublishShard:
		m.Publish = &cluster.Publish{Channel: bytesOf(r.IntN(20)), Message: bytesOf(r.IntN(100))}
	case cluster.MsgUpdate:
		m.Update = &cluster.Update{ConfigEpoch: r.Uint64(), Node: name()}
		m.Update.Slots.Set(r.IntN(16384))
	case cluster.MsgModule:
		m.Module = &cluster.Module{ModuleID: r.Uint64(), Type: uint8(r.IntN(256)), Data: bytesOf(r.IntN(50))}
	}
	return m
}

// TestRoundTrip encodes random messages of every type and decodes them.
func TestRoundTrip(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 0))
	for i := range 3000 {
		m := randMsg(r, cluster.MsgType(i%cluster.MsgTypeCount))
		b, err := Encode(m)
		if err != nil {
			t.Fatalf("seed %d: encode %s: %v", seed, m.Type, err)
		}
		if n, _ := Len(m); n != len(b) {
			t.Fatalf("seed %d: Len %d, encoded %d", seed, n, len(b))
		}
		d, err := Decode(b)
		if err != nil {
			t.Fatalf("seed %d: decode %s: %v", seed, m.Type, err)
		}
		if !reflect.DeepEqual(d, m) {
			t.Fatalf("seed %d: %s round trip\n got %+v\nwant %+v", seed, m.Type, d, m)
		}
		// Append keeps what dst held.
		pre := []byte("prefix")
		b2, err := Append(pre, m)
		if err != nil || string(b2[:6]) != "prefix" || !bytes.Equal(b2[6:], b) {
			t.Fatalf("seed %d: Append differs", seed)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	ping, _ := Encode(&cluster.Msg{Type: cluster.MsgPing, Sender: nameA,
		Gossip: []cluster.Gossip{{Name: nameB}}, Exts: []cluster.PingExt{cluster.HostnameExt("h")}})
	fail, _ := Encode(&cluster.Msg{Type: cluster.MsgFail, Fail: &cluster.Fail{About: nameB}})
	pub, _ := Encode(&cluster.Msg{Type: cluster.MsgPublish, Publish: &cluster.Publish{Channel: []byte("c"), Message: []byte("m")}})
	mod, _ := Encode(&cluster.Msg{Type: cluster.MsgModule, Module: &cluster.Module{Data: []byte("d")}})
	upd, _ := Encode(&cluster.Msg{Type: cluster.MsgUpdate, Update: &cluster.Update{}})
	ack, _ := Encode(&cluster.Msg{Type: cluster.MsgFailoverAuthAck})
	extOff := HeaderLen + GossipLen

	edit := func(b []byte, f func(b []byte) []byte) []byte {
		return f(append([]byte(nil), b...))
	}
	set16 := func(off int, v uint16) func([]byte) []byte {
		return func(b []byte) []byte { binary.BigEndian.PutUint16(b[off:], v); return b }
	}
	set32 := func(off int, v uint32) func([]byte) []byte {
		return func(b []byte) []byte { binary.BigEndian.PutUint32(b[off:], v); return b }
	}
	// grow appends n bytes and fixes totlen, so only the content is wrong.
	grow := func(n int) func([]byte) []byte {
		return func(b []byte) []byte {
			b = append(b, make([]byte, n)...)
			binary.BigEndian.PutUint32(b[4:], uint32(len(b)))
			return b
		}
	}
	for _, tc := range []struct {
		name string
		b    []byte
		want error
	}{
		{"empty", nil, ErrShort},
		{"7 bytes", ping[:7], ErrShort},
		{"header cut", ping[:HeaderLen-1], ErrShort},
		{"totlen below header", edit(ack, set32(4, 100)), ErrShort},
		{"truncated", ping[:len(ping)-1], ErrShort},
		{"trailing byte", append(append([]byte(nil), ping...), 0), ErrLong},
		{"signature", edit(ping, func(b []byte) []byte { b[3] = 'B'; return b }), ErrSignature},
		{"version 0", edit(ping, set16(8, 0)), ErrVersion},
		{"version 2", edit(ping, set16(8, 2)), ErrVersion},
		{"type 11", edit(ack, set16(12, 11)), ErrUnknownType},
		{"type 0xffff", edit(ack, set16(12, 0xffff)), ErrUnknownType},
		{"gossip count too big", edit(ping, set16(14, 3)), ErrLength},
		{"gossip count too small", edit(ping, set16(14, 0)), ErrExtension},
		{"extra bytes after extensions", edit(ping, grow(8)), ErrLength},
		{"extension count too big", edit(ping, set16(2214, 2)), ErrExtension},
		{"extension length 0", edit(ping, set32(extOff, 0)), ErrExtension},
		{"extension length not 8-aligned", edit(ping, set32(extOff, 12)), ErrExtension},
		{"extension past the end", edit(ping, set32(extOff, 24)), ErrExtension},
		{"short forgotten node", edit(ping, set16(extOff+4, uint16(cluster.ExtForgottenNode))), ErrExtension},
		{"short shard id", edit(ping, set16(extOff+4, uint16(cluster.ExtShardID))), ErrExtension},
		{"extensions without EXT_DATA", edit(ping, func(b []byte) []byte { b[2253] = 0; return b }), ErrLength},
		{"fail too long", edit(fail, grow(1)), ErrLength},
		{"fail as ack", edit(fail, set16(12, uint16(cluster.MsgFailoverAuthAck))), ErrLength},
		{"ack with body", edit(ack, grow(8)), ErrLength},
		{"mfstart with body", edit(edit(ack, grow(1)), set16(12, uint16(cluster.MsgMFStart))), ErrLength},
		{"publish no lengths", edit(ack, set16(12, uint16(cluster.MsgPublish))), ErrLength},
		{"publish channel_len", edit(pub, set32(HeaderLen, 2)), ErrLength},
		{"publish overflow", edit(edit(pub, set32(HeaderLen, 0xffffffff)), set32(HeaderLen+4, 3)), ErrLength},
		{"module len", edit(mod, set32(HeaderLen+8, 0)), ErrLength},
		{"module no head", edit(ack, set16(12, uint16(cluster.MsgModule))), ErrLength},
		{"update short", edit(upd[:len(upd)-1], set32(4, uint32(len(upd)-1))), ErrLength},
	} {
		_, err := Decode(tc.b)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestEncodeErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		m    cluster.Msg
	}{
		{"short sender", cluster.Msg{Sender: "abc"}},
		{"long replicaof", cluster.Msg{ReplicaOf: nameA + "x"}},
		{"long ip", cluster.Msg{IP: strings.Repeat("1", 46)}},
		{"NUL in ip", cluster.Msg{IP: "1\x002"}},
		{"port", cluster.Msg{Port: 65536}},
		{"negative cport", cluster.Msg{CPort: -1}},
		{"gossip name", cluster.Msg{Gossip: []cluster.Gossip{{Name: "x"}}}},
		{"gossip port", cluster.Msg{Gossip: []cluster.Gossip{{PPort: 1 << 20}}}},
		{"gossip ip", cluster.Msg{Gossip: []cluster.Gossip{{IP: strings.Repeat("a", 50)}}}},
		{"NUL in hostname", cluster.Msg{Exts: []cluster.PingExt{cluster.HostnameExt("a\x00b")}}},
		{"short shard id", cluster.Msg{Exts: []cluster.PingExt{cluster.ShardIDExt("abc")}}},
		{"empty forgotten node", cluster.Msg{Exts: []cluster.PingExt{cluster.ForgottenNodeExt("", 1)}}},
		{"gossip in FAIL", cluster.Msg{Type: cluster.MsgFail, Fail: &cluster.Fail{}, Gossip: []cluster.Gossip{{}}}},
		{"FAIL without body", cluster.Msg{Type: cluster.MsgFail}},
		{"FAIL bad name", cluster.Msg{Type: cluster.MsgFail, Fail: &cluster.Fail{About: "x"}}},
		{"PUBLISH without body", cluster.Msg{Type: cluster.MsgPublish}},
		{"UPDATE without body", cluster.Msg{Type: cluster.MsgUpdate}},
		{"UPDATE bad name", cluster.Msg{Type: cluster.MsgUpdate, Update: &cluster.Update{Node: "y"}}},
		{"MODULE without body", cluster.Msg{Type: cluster.MsgModule}},
		{"PING with a body", cluster.Msg{Fail: &cluster.Fail{}}},
		{"two bodies", cluster.Msg{Type: cluster.MsgFail, Fail: &cluster.Fail{}, Update: &cluster.Update{}}},
		{"unknown type", cluster.Msg{Type: 11}},
	} {
		dst := []byte("keep")
		out, err := Append(dst, &tc.m)
		if err == nil {
			t.Errorf("%s: no error", tc.name)
		}
		if string(out) != "keep" {
			t.Errorf("%s: dst changed to %q", tc.name, out)
		}
	}
}

func TestReadMsg(t *testing.T) {
	var stream []byte
	var want [][]byte
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 40 {
		b, err := Encode(randMsg(r, cluster.MsgType(i%cluster.MsgTypeCount)))
		if err != nil {
			t.Fatal(err)
		}
		stream = append(stream, b...)
		want = append(want, b)
	}
	rd := iotest.OneByteReader(bytes.NewReader(stream))
	var buf []byte
	for i, w := range want {
		got, err := ReadMsg(rd, buf, 0)
		if err != nil || !bytes.Equal(got, w) {
			t.Fatalf("message %d: %v", i, err)
		}
		buf = got
	}
	if _, err := ReadMsg(rd, buf, 0); err != io.EOF {
		t.Fatalf("after the last message: %v, want EOF", err)
	}

	ack, _ := Encode(&cluster.Msg{Type: cluster.MsgFailoverAuthAck})
	if _, err := ReadMsg(bytes.NewReader(ack[:100]), nil, 0); err != io.ErrUnexpectedEOF {
		t.Errorf("truncated: %v", err)
	}
	if _, err := ReadMsg(bytes.NewReader(ack[:5]), nil, 0); err != io.ErrUnexpectedEOF {
		t.Errorf("truncated prefix: %v", err)
	}
	if _, err := ReadMsg(bytes.NewReader(ack), nil, HeaderLen-1); !errors.Is(err, ErrTooLarge) {
		t.Errorf("over the limit: %v", err)
	}
	bad := append([]byte(nil), ack...)
	bad[0] = 'X'
	if _, err := ReadMsg(bytes.NewReader(bad), nil, 0); !errors.Is(err, ErrSignature) {
		t.Errorf("signature: %v", err)
	}
	binary.BigEndian.PutUint32(ack[4:], 16)
	if _, err := ReadMsg(bytes.NewReader(ack), nil, 0); !errors.Is(err, ErrShort) {
		t.Errorf("totlen 16: %v", err)
	}
}

func TestMsgTypeString(t *testing.T) {
	// As in CLUSTER INFO's cluster_stats_messages_<type>_sent.
	if cluster.MsgFailoverAuthRequest.String() != "auth-req" || cluster.MsgPublishShard.String() != "publishshard" ||
		cluster.MsgType(11).String() != "unknown" {
		t.Error("message type names")
	}
}
