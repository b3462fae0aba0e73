// Package clusterbus speaks the Redis Cluster bus (TCP, client port +
// 10000): the wire codec of Redis 7.0's clusterMsg, and the transport
// that drives the pure state machine in internal/cluster.
//
// # Wire format
//
// Every message starts with a fixed 2256-byte header; integers are big
// endian; names are 40 bytes, all zero for "no node":
//
//	offset  size  field
//	     0     4  sig "RCmb"
//	     4     4  totlen (whole message, header included)
//	     8     2  ver = 1
//	    10     2  port (client port; the TLS port when TLS is on)
//	    12     2  type (cluster.MsgType)
//	    14     2  count (gossip entries, PING/PONG/MEET only)
//	    16     8  currentEpoch
//	    24     8  configEpoch (of the sender, or of its master)
//	    32     8  offset (replication offset)
//	    40    40  sender
//	    80  2048  myslots (bit s%8 of byte s/8)
//	  2128    40  slaveof (zero for a master)
//	  2168    46  myip (NUL terminated; empty: use the link's address)
//	  2214     2  extensions (PING/PONG/MEET with mflags[0]&EXT_DATA)
//	  2216    30  unused
//	  2246     2  pport (plaintext port when TLS is on)
//	  2248     2  cport (cluster bus port)
//	  2250     2  flags (node flags)
//	  2252     1  state (0 ok, 1 fail)
//	  2253     3  mflags (PAUSED 1, FORCEACK 2, EXT_DATA 4 in byte 0)
//	  2256        data, by type:
//
//	PING/PONG/MEET  count gossip entries of 104 bytes, then the extensions
//	FAIL            nodename[40]                               totlen 2296
//	PUBLISH(SHARD)  channel_len u32, message_len u32, channel, message
//	UPDATE          configEpoch u64, nodename[40], slots[2048] totlen 4352
//	MODULE          module_id u64, len u32, type u8, data[len]
//	AUTH_REQ/ACK,
//	MFSTART         nothing                                    totlen 2256
//
// A gossip entry: nodename[40], ping_sent u32 (s), pong_received u32 (s),
// ip[46], port u16, cport u16, flags u16, pport u16, unused u16.
//
// An extension: length u32 (header included, a multiple of 8), type u16,
// unused u16, then the body padded with zeros to the length. Bodies:
// HOSTNAME and HUMAN_NODENAME a NUL-terminated string; FORGOTTEN_NODE
// name[40] and ttl u64; SHARDID shard_id[40].
//
// A message is valid only if totlen is exactly the length its type and
// counts imply, as Redis's clusterIsValidPacket requires. Decode returns
// an error (the caller closes the link) for anything else, never panics.
package clusterbus

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"

	"redgo/internal/cluster"
)

// Sizes of the wire format.
const (
	HeaderLen = 2256 // the header; also the smallest valid message
	GossipLen = 104  // one gossip entry
	Version   = 1    // CLUSTER_PROTO_VER

	failLen       = cluster.NameLen
	updateLen     = 8 + cluster.NameLen + len(cluster.Slots{})
	publishHead   = 8  // channel_len, message_len
	moduleHead    = 13 // module_id, len, type
	extHeaderLen  = 8
	ipLen         = 46 // NET_IP_STR_LEN
	forgottenBody = cluster.NameLen + 8
)

// Field offsets in the header.
const (
	offTotlen    = 4
	offVer       = 8
	offPort      = 10
	offType      = 12
	offCount     = 14
	offCurEpoch  = 16
	offConfEpoch = 24
	offOffset    = 32
	offSender    = 40
	offSlots     = 80
	offSlaveOf   = 2128
	offIP        = 2168
	offExts      = 2214
	offPPort     = 2246
	offCPort     = 2248
	offFlags     = 2250
	offState     = 2252
	offMFlags    = 2253
)

// Signature starts every message.
const Signature = "RCmb"

// Decoding errors. Every error Decode returns wraps one of these.
var (
	ErrShort       = errors.New("clusterbus: message too short")
	ErrLong        = errors.New("clusterbus: message longer than its totlen")
	ErrSignature   = errors.New("clusterbus: bad signature")
	ErrVersion     = errors.New("clusterbus: unknown protocol version")
	ErrUnknownType = errors.New("clusterbus: unknown message type")
	ErrLength      = errors.New("clusterbus: totlen does not match the content")
	ErrExtension   = errors.New("clusterbus: malformed ping extension")
	ErrTooLarge    = errors.New("clusterbus: message larger than the limit")
)

var be = binary.BigEndian

// Len returns the encoded length of m.
func Len(m *cluster.Msg) (int, error) {
	n := HeaderLen
	switch m.Type {
	case cluster.MsgPing, cluster.MsgPong, cluster.MsgMeet:
		n += GossipLen * len(m.Gossip)
		for i := range m.Exts {
			l, err := extLen(&m.Exts[i])
			if err != nil {
				return 0, err
			}
			n += l
		}
	case cluster.MsgFail:
		n += failLen
	case cluster.MsgPublish, cluster.MsgPublishShard:
		if m.Publish == nil {
			return 0, fmt.Errorf("clusterbus: %s without Publish", m.Type)
		}
		n += publishHead + len(m.Publish.Channel) + len(m.Publish.Message)
	case cluster.MsgUpdate:
		n += updateLen
	case cluster.MsgModule:
		if m.Module == nil {
			return 0, fmt.Errorf("clusterbus: module message without Module")
		}
		n += moduleHead + len(m.Module.Data)
	case cluster.MsgFailoverAuthRequest, cluster.MsgFailoverAuthAck, cluster.MsgMFStart:
	default:
		return 0, fmt.Errorf("clusterbus: cannot encode message type %d", m.Type)
	}
	if n > 1<<32-1 {
		return 0, fmt.Errorf("clusterbus: message of %d bytes is too large", n)
	}
	return n, nil
}

func extLen(e *cluster.PingExt) (int, error) {
	switch e.Type {
	case cluster.ExtHostname, cluster.ExtHumanNodename:
		if strings.IndexByte(e.Value, 0) >= 0 {
			return 0, fmt.Errorf("clusterbus: NUL in %s extension", extName(e.Type))
		}
		return align8(extHeaderLen + len(e.Value) + 1), nil
	case cluster.ExtForgottenNode:
		return extHeaderLen + forgottenBody, nil
	case cluster.ExtShardID:
		return extHeaderLen + cluster.NameLen, nil
	default:
		return align8(extHeaderLen + len(e.Data)), nil
	}
}

func extName(t cluster.ExtType) string {
	switch t {
	case cluster.ExtHostname:
		return "hostname"
	case cluster.ExtHumanNodename:
		return "human nodename"
	case cluster.ExtForgottenNode:
		return "forgotten node"
	case cluster.ExtShardID:
		return "shard id"
	}
	return fmt.Sprintf("type %d", t)
}

func align8(n int) int { return (n + 7) &^ 7 }

// Encode returns the wire form of m.
func Encode(m *cluster.Msg) ([]byte, error) { return Append(nil, m) }

// Append appends the wire form of m to dst. It fails, leaving dst as it
// was, when m cannot be represented: a name that is neither empty nor 40
// bytes, a port out of range, an IP longer than 45 bytes, a missing body
// for the type or a body that does not belong to it.
func Append(dst []byte, m *cluster.Msg) ([]byte, error) {
	if err := check(m); err != nil {
		return dst, err
	}
	n, err := Len(m)
	if err != nil {
		return dst, err
	}
	start := len(dst)
	dst = grow(dst, n)
	b := dst[start:]

	copy(b, Signature)
	be.PutUint32(b[offTotlen:], uint32(n))
	be.PutUint16(b[offVer:], Version)
	be.PutUint16(b[offPort:], uint16(m.Port))
	be.PutUint16(b[offType:], uint16(m.Type))
	be.PutUint64(b[offCurEpoch:], m.CurrentEpoch)
	be.PutUint64(b[offConfEpoch:], m.ConfigEpoch)
	be.PutUint64(b[offOffset:], m.Offset)
	copy(b[offSender:offSender+cluster.NameLen], m.Sender)
	copy(b[offSlots:offSlaveOf], m.Slots[:])
	copy(b[offSlaveOf:offSlaveOf+cluster.NameLen], m.ReplicaOf)
	copy(b[offIP:offIP+ipLen], m.IP)
	be.PutUint16(b[offPPort:], uint16(m.PPort))
	be.PutUint16(b[offCPort:], uint16(m.CPort))
	be.PutUint16(b[offFlags:], uint16(m.Flags))
	b[offState] = m.State
	copy(b[offMFlags:HeaderLen], m.MFlags[:])

	d := b[HeaderLen:]
	switch m.Type {
	case cluster.MsgPing, cluster.MsgPong, cluster.MsgMeet:
		be.PutUint16(b[offCount:], uint16(len(m.Gossip)))
		for i := range m.Gossip {
			putGossip(d[i*GossipLen:], &m.Gossip[i])
		}
		d = d[len(m.Gossip)*GossipLen:]
		if len(m.Exts) > 0 {
			be.PutUint16(b[offExts:], uint16(len(m.Exts)))
			b[offMFlags] |= cluster.MFlagExtData
		}
		for i := range m.Exts {
			d = d[putExt(d, &m.Exts[i]):]
		}
	case cluster.MsgFail:
		copy(d, m.Fail.About)
	case cluster.MsgPublish, cluster.MsgPublishShard:
		p := m.Publish
		be.PutUint32(d, uint32(len(p.Channel)))
		be.PutUint32(d[4:], uint32(len(p.Message)))
		copy(d[publishHead:], p.Channel)
		copy(d[publishHead+len(p.Channel):], p.Message)
	case cluster.MsgUpdate:
		u := m.Update
		be.PutUint64(d, u.ConfigEpoch)
		copy(d[8:8+cluster.NameLen], u.Node)
		copy(d[8+cluster.NameLen:], u.Slots[:])
	case cluster.MsgModule:
		mod := m.Module
		be.PutUint64(d, mod.ModuleID)
		be.PutUint32(d[8:], uint32(len(mod.Data)))
		d[12] = mod.Type
		copy(d[moduleHead:], mod.Data)
	}
	return dst, nil
}

// grow extends dst by n zero bytes.
func grow(dst []byte, n int) []byte {
	if cap(dst)-len(dst) >= n {
		dst = dst[:len(dst)+n]
		clear(dst[len(dst)-n:])
		return dst
	}
	nd := make([]byte, len(dst)+n)
	copy(nd, dst)
	return nd
}

func putGossip(b []byte, g *cluster.Gossip) {
	copy(b[:cluster.NameLen], g.Name)
	be.PutUint32(b[40:], g.PingSent)
	be.PutUint32(b[44:], g.PongReceived)
	copy(b[48:48+ipLen], g.IP)
	be.PutUint16(b[94:], uint16(g.Port))
	be.PutUint16(b[96:], uint16(g.CPort))
	be.PutUint16(b[98:], uint16(g.Flags))
	be.PutUint16(b[100:], uint16(g.PPort))
}

// putExt writes e at the start of b and returns its length.
func putExt(b []byte, e *cluster.PingExt) int {
	n, _ := extLen(e) // checked by Len
	be.PutUint32(b, uint32(n))
	be.PutUint16(b[4:], uint16(e.Type))
	body := b[extHeaderLen:n]
	switch e.Type {
	case cluster.ExtHostname, cluster.ExtHumanNodename, cluster.ExtShardID:
		copy(body, e.Value)
	case cluster.ExtForgottenNode:
		copy(body, e.Value)
		be.PutUint64(body[cluster.NameLen:], e.TTL)
	default:
		copy(body, e.Data)
	}
	return n
}

// check validates what Len does not.
func check(m *cluster.Msg) error {
	if err := checkName("sender", m.Sender); err != nil {
		return err
	}
	if err := checkName("replicaof", m.ReplicaOf); err != nil {
		return err
	}
	if err := checkIP(m.IP); err != nil {
		return err
	}
	if err := checkPorts(m.Port, m.PPort, m.CPort); err != nil {
		return err
	}
	ping := m.IsPing()
	if !ping && (len(m.Gossip) > 0 || len(m.Exts) > 0) {
		return fmt.Errorf("clusterbus: gossip or extensions in a %s message", m.Type)
	}
	if len(m.Gossip) > 0xffff || len(m.Exts) > 0xffff {
		return fmt.Errorf("clusterbus: too many gossip entries or extensions")
	}
	for i := range m.Gossip {
		g := &m.Gossip[i]
		if err := checkName("gossip node", g.Name); err != nil {
			return err
		}
		if err := checkIP(g.IP); err != nil {
			return err
		}
		if err := checkPorts(g.Port, g.PPort, g.CPort); err != nil {
			return err
		}
	}
	for i := range m.Exts {
		e := &m.Exts[i]
		switch e.Type {
		case cluster.ExtForgottenNode, cluster.ExtShardID:
			if len(e.Value) != cluster.NameLen {
				return fmt.Errorf("clusterbus: %s extension needs a %d-byte name, got %q",
					extName(e.Type), cluster.NameLen, e.Value)
			}
		}
	}
	want := func(ok bool, body string) error {
		if !ok {
			return fmt.Errorf("clusterbus: %s message needs exactly the %s body", m.Type, body)
		}
		return nil
	}
	bodies := 0
	for _, p := range []bool{m.Fail != nil, m.Publish != nil, m.Update != nil, m.Module != nil} {
		if p {
			bodies++
		}
	}
	switch m.Type {
	case cluster.MsgFail:
		if err := want(m.Fail != nil && bodies == 1, "Fail"); err != nil {
			return err
		}
		return checkName("fail node", m.Fail.About)
	case cluster.MsgPublish, cluster.MsgPublishShard:
		return want(m.Publish != nil && bodies == 1, "Publish")
	case cluster.MsgUpdate:
		if err := want(m.Update != nil && bodies == 1, "Update"); err != nil {
			return err
		}
		return checkName("update node", m.Update.Node)
	case cluster.MsgModule:
		return want(m.Module != nil && bodies == 1, "Module")
	default:
		return want(bodies == 0, "no")
	}
}

func checkName(what, name string) error {
	if len(name) != 0 && len(name) != cluster.NameLen {
		return fmt.Errorf("clusterbus: %s name %q is not %d bytes", what, name, cluster.NameLen)
	}
	return nil
}

func checkIP(ip string) error {
	if len(ip) >= ipLen || strings.IndexByte(ip, 0) >= 0 {
		return fmt.Errorf("clusterbus: bad IP %q", ip)
	}
	return nil
}

func checkPorts(ports ...int) error {
	for _, p := range ports {
		if p < 0 || p > 0xffff {
			return fmt.Errorf("clusterbus: port %d out of range", p)
		}
	}
	return nil
}

// Decode parses one whole message; b must be exactly totlen bytes. The
// result does not share memory with b.
func Decode(b []byte) (*cluster.Msg, error) {
	m := new(cluster.Msg)
	if err := DecodeInto(m, b); err != nil {
		return nil, err
	}
	return m, nil
}

// DecodeInto is Decode into m, which it overwrites.
func DecodeInto(m *cluster.Msg, b []byte) error {
	*m = cluster.Msg{}
	if len(b) < 8 {
		return fmt.Errorf("%w: %d bytes", ErrShort, len(b))
	}
	if string(b[:4]) != Signature {
		return fmt.Errorf("%w: %q", ErrSignature, b[:4])
	}
	totlen := be.Uint32(b[offTotlen:])
	switch {
	case totlen < HeaderLen:
		return fmt.Errorf("%w: totlen %d", ErrShort, totlen)
	case uint64(totlen) > uint64(len(b)):
		return fmt.Errorf("%w: totlen %d, have %d bytes", ErrShort, totlen, len(b))
	case uint64(totlen) < uint64(len(b)):
		return fmt.Errorf("%w: totlen %d, have %d bytes", ErrLong, totlen, len(b))
	}
	if v := be.Uint16(b[offVer:]); v != Version {
		return fmt.Errorf("%w: %d", ErrVersion, v)
	}
	m.Type = cluster.MsgType(be.Uint16(b[offType:]))
	if m.Type >= cluster.MsgTypeCount {
		return fmt.Errorf("%w: %d", ErrUnknownType, m.Type)
	}
	m.Port = int(be.Uint16(b[offPort:]))
	m.CurrentEpoch = be.Uint64(b[offCurEpoch:])
	m.ConfigEpoch = be.Uint64(b[offConfEpoch:])
	m.Offset = be.Uint64(b[offOffset:])
	m.Sender = name(b[offSender:])
	copy(m.Slots[:], b[offSlots:offSlaveOf])
	m.ReplicaOf = name(b[offSlaveOf:])
	m.IP = cstring(b[offIP : offIP+ipLen-1])
	m.PPort = int(be.Uint16(b[offPPort:]))
	m.CPort = int(be.Uint16(b[offCPort:]))
	m.Flags = cluster.Flags(be.Uint16(b[offFlags:]))
	m.State = b[offState]
	copy(m.MFlags[:], b[offMFlags:HeaderLen])

	d := b[HeaderLen:]
	switch m.Type {
	case cluster.MsgPing, cluster.MsgPong, cluster.MsgMeet:
		return decodePing(m, b, d)
	case cluster.MsgFail:
		if len(d) != failLen {
			return lengthErr(m, len(b))
		}
		m.Fail = &cluster.Fail{About: name(d)}
	case cluster.MsgPublish, cluster.MsgPublishShard:
		if len(d) < publishHead {
			return lengthErr(m, len(b))
		}
		cl, ml := uint64(be.Uint32(d)), uint64(be.Uint32(d[4:]))
		if publishHead+cl+ml != uint64(len(d)) {
			return lengthErr(m, len(b))
		}
		d = d[publishHead:]
		m.Publish = &cluster.Publish{
			Channel: clone(d[:cl]),
			Message: clone(d[cl:]),
		}
	case cluster.MsgUpdate:
		if len(d) != updateLen {
			return lengthErr(m, len(b))
		}
		u := &cluster.Update{ConfigEpoch: be.Uint64(d), Node: name(d[8:])}
		copy(u.Slots[:], d[8+cluster.NameLen:])
		m.Update = u
	case cluster.MsgModule:
		if len(d) < moduleHead || uint64(moduleHead)+uint64(be.Uint32(d[8:])) != uint64(len(d)) {
			return lengthErr(m, len(b))
		}
		m.Module = &cluster.Module{
			ModuleID: be.Uint64(d),
			Type:     d[12],
			Data:     clone(d[moduleHead:]),
		}
	default: // AUTH_REQUEST, AUTH_ACK, MFSTART
		if len(d) != 0 {
			return lengthErr(m, len(b))
		}
	}
	return nil
}

func lengthErr(m *cluster.Msg, n int) error {
	return fmt.Errorf("%w: %s message of %d bytes", ErrLength, m.Type, n)
}

func decodePing(m *cluster.Msg, b, d []byte) error {
	count := int(be.Uint16(b[offCount:]))
	if len(d) < count*GossipLen {
		return fmt.Errorf("%w: %d gossip entries in %d bytes", ErrLength, count, len(b))
	}
	if count > 0 {
		m.Gossip = make([]cluster.Gossip, count)
		for i := range m.Gossip {
			getGossip(&m.Gossip[i], d[i*GossipLen:])
		}
	}
	d = d[count*GossipLen:]
	// Like Redis, look at the extensions only when EXT_DATA is set.
	if m.MFlags[0]&cluster.MFlagExtData != 0 {
		n := int(be.Uint16(b[offExts:]))
		if n > 0 {
			m.Exts = make([]cluster.PingExt, 0, min(n, len(d)/extHeaderLen))
		}
		for range n {
			if len(d) < extHeaderLen {
				return fmt.Errorf("%w: %d bytes left for an extension header", ErrExtension, len(d))
			}
			l := be.Uint32(d)
			if l < extHeaderLen || l%8 != 0 || uint64(l) > uint64(len(d)) {
				return fmt.Errorf("%w: length %d with %d bytes left", ErrExtension, l, len(d))
			}
			e, err := getExt(cluster.ExtType(be.Uint16(d[4:])), d[extHeaderLen:l])
			if err != nil {
				return err
			}
			m.Exts = append(m.Exts, e)
			d = d[l:]
		}
	}
	if len(d) != 0 {
		return fmt.Errorf("%w: %d bytes after the gossip and extensions", ErrLength, len(d))
	}
	return nil
}

func getGossip(g *cluster.Gossip, b []byte) {
	g.Name = name(b)
	g.PingSent = be.Uint32(b[40:])
	g.PongReceived = be.Uint32(b[44:])
	g.IP = cstring(b[48 : 48+ipLen-1])
	g.Port = int(be.Uint16(b[94:]))
	g.CPort = int(be.Uint16(b[96:]))
	g.Flags = cluster.Flags(be.Uint16(b[98:]))
	g.PPort = int(be.Uint16(b[100:]))
}

func getExt(t cluster.ExtType, body []byte) (cluster.PingExt, error) {
	e := cluster.PingExt{Type: t}
	switch t {
	case cluster.ExtHostname, cluster.ExtHumanNodename:
		e.Value = cstring(body)
	case cluster.ExtForgottenNode:
		if len(body) < forgottenBody {
			return e, fmt.Errorf("%w: forgotten node body of %d bytes", ErrExtension, len(body))
		}
		e.Value = string(body[:cluster.NameLen])
		e.TTL = be.Uint64(body[cluster.NameLen:])
	case cluster.ExtShardID:
		if len(body) < cluster.NameLen {
			return e, fmt.Errorf("%w: shard id body of %d bytes", ErrExtension, len(body))
		}
		e.Value = string(body[:cluster.NameLen])
	default:
		e.Data = clone(body)
	}
	return e, nil
}

// name decodes a 40-byte node name; all zeros is "".
func name(b []byte) string {
	b = b[:cluster.NameLen]
	for _, c := range b {
		if c != 0 {
			return string(b)
		}
	}
	return ""
}

// cstring returns b up to its first NUL.
func cstring(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

func clone(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return append([]byte(nil), b...)
}

// ReadMsg reads one message from r into buf (grown as needed) and returns
// it; Decode it next. It checks the signature and that totlen is between
// HeaderLen and maxLen (0: no limit) before reading the rest, as Redis
// does on the first 8 bytes, so a bad peer is caught before it can make
// us allocate. io.EOF means the link closed between messages.
func ReadMsg(r io.Reader, buf []byte, maxLen int) ([]byte, error) {
	if cap(buf) < 8 {
		buf = make([]byte, 0, HeaderLen)
	}
	buf = buf[:8]
	if _, err := io.ReadFull(r, buf); err != nil {
		return buf[:0], err
	}
	if string(buf[:4]) != Signature {
		return buf, fmt.Errorf("%w: %q", ErrSignature, buf[:4])
	}
	totlen := uint64(be.Uint32(buf[offTotlen:]))
	if totlen < HeaderLen {
		return buf, fmt.Errorf("%w: totlen %d", ErrShort, totlen)
	}
	if maxLen > 0 && totlen > uint64(maxLen) {
		return buf, fmt.Errorf("%w: totlen %d > %d", ErrTooLarge, totlen, maxLen)
	}
	if uint64(cap(buf)) < totlen {
		nb := make([]byte, totlen)
		copy(nb, buf)
		buf = nb
	}
	buf = buf[:totlen]
	if _, err := io.ReadFull(r, buf[8:]); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return buf, err
	}
	return buf, nil
}
