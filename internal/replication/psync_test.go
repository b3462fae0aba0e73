package replication

import (
	"math/rand"
	"reflect"
	"strings"
	"testing"
)

func TestIDs(t *testing.T) {
	rnd := rand.New(rand.NewSource(1))
	x := NewIDs(rnd)
	if len(x.ID) != IDLen || strings.Trim(x.ID, "0123456789abcdef") != "" || x.ID2 != NoID || x.SecondOffset != -1 {
		t.Fatalf("new: %+v", x)
	}
	old := x.ID
	line := x.Shift(1000, rnd)
	if x.ID2 != old || x.SecondOffset != 1001 || x.ID == old || len(x.ID) != IDLen {
		t.Fatalf("shift: %+v", x)
	}
	if want := "# Setting secondary replication ID to " + old + ", valid up to offset: 1001. New replication ID is " + x.ID; line != want {
		t.Fatalf("log %q", line)
	}
	line = x.NewHistory(rnd)
	if x.ID2 != NoID || x.SecondOffset != -1 || line != "Replication backlog created, my new replication IDs are '"+x.ID+"' and '"+NoID+"'" {
		t.Fatalf("new history: %+v %q", x, line)
	}
}

// TestDecide covers every branch of masterTryPartialResynchronization.
func TestDecide(t *testing.T) {
	id := strings.Repeat("a", 40)
	id2 := strings.Repeat("b", 40)
	other := strings.Repeat("c", 40)
	ids := IDs{ID: id, ID2: id2, SecondOffset: 501}
	// Stream up to 1000; the backlog holds 601..1000.
	bl := BacklogInfo{Offset: 1000, FirstByte: 601, HistLen: 400, Size: MinBacklogSize}
	const r = "10.0.0.2:6380"
	cases := []struct {
		name       string
		ids        IDs
		hasBacklog bool
		p          PSYNC
		want       Decision
	}{
		{"? -1 asks for a full resync", ids, true, PSYNC{ReplID: "?", Offset: -1, Replica: r},
			Decision{Log: []string{"Full resync requested by replica " + r}}},
		{"unknown id", ids, true, PSYNC{ReplID: other, Offset: 700, Replica: r},
			Decision{PartialErr: true, Log: []string{"Partial resynchronization not accepted: Replication ID mismatch (Replica asked for '" +
				other + "', my replication IDs are '" + id + "' and '" + id2 + "')"}}},
		{"id2 past second_replid_offset", ids, true, PSYNC{ReplID: id2, Offset: 502, Replica: r},
			Decision{PartialErr: true, Log: []string{"Partial resynchronization not accepted: Requested offset for second ID was 502, but I can reply up to 501"}}},
		{"id2 up to second_replid_offset but before the backlog", ids, true, PSYNC{ReplID: id2, Offset: 501, Replica: r},
			Decision{PartialErr: true, Log: []string{"Unable to partial resync with replica " + r + " for lack of backlog (Replica request was: 501)."}}},
		{"id2 within the backlog", IDs{ID: id, ID2: id2, SecondOffset: 900}, true, PSYNC{ReplID: strings.ToUpper(id2), Offset: 900, Capa: CapaPSYNC2, Replica: r},
			Decision{Continue: true, Reply: "+CONTINUE " + id + "\r\n", From: 899, Len: 101,
				Log: []string{"Partial resynchronization request from " + r + " accepted. Sending 101 bytes of backlog starting from offset 900."}}},
		{"no backlog", ids, false, PSYNC{ReplID: id, Offset: 700, Replica: r},
			Decision{PartialErr: true, Log: []string{"Unable to partial resync with replica " + r + " for lack of backlog (Replica request was: 700)."}}},
		{"before the first byte", ids, true, PSYNC{ReplID: id, Offset: 600, Replica: r},
			Decision{PartialErr: true, Log: []string{"Unable to partial resync with replica " + r + " for lack of backlog (Replica request was: 600)."}}},
		{"beyond our offset", ids, true, PSYNC{ReplID: id, Offset: 1002, Replica: r},
			Decision{PartialErr: true, Log: []string{"Unable to partial resync with replica " + r + " for lack of backlog (Replica request was: 1002).",
				"# Warning: replica " + r + " tried to PSYNC with an offset that is greater than the master replication offset."}}},
		{"the first byte", ids, true, PSYNC{ReplID: id, Offset: 601, Capa: CapaPSYNC2 | CapaEOF, Replica: r},
			Decision{Continue: true, Reply: "+CONTINUE " + id + "\r\n", From: 600, Len: 400,
				Log: []string{"Partial resynchronization request from " + r + " accepted. Sending 400 bytes of backlog starting from offset 601."}}},
		{"nothing missing, without psync2", ids, true, PSYNC{ReplID: id, Offset: 1001, Replica: r},
			Decision{Continue: true, Reply: "+CONTINUE\r\n", From: 1000, Len: 0,
				Log: []string{"Partial resynchronization request from " + r + " accepted. Sending 0 bytes of backlog starting from offset 1001."}}},
		{"empty backlog, offset+1", ids, true, PSYNC{ReplID: id, Offset: 1001, Capa: CapaPSYNC2, Replica: r},
			Decision{Continue: true, Reply: "+CONTINUE " + id + "\r\n", From: 1000, Len: 0,
				Log: []string{"Partial resynchronization request from " + r + " accepted. Sending 0 bytes of backlog starting from offset 1001."}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := bl
			if c.name == "empty backlog, offset+1" {
				b = BacklogInfo{Offset: 1000, FirstByte: 1001, Size: MinBacklogSize}
			}
			if got := Decide(c.ids, b, c.hasBacklog, c.p); !reflect.DeepEqual(got, c.want) {
				t.Errorf("\n got %+v\nwant %+v", got, c.want)
			}
		})
	}
}

func TestParsePSYNC(t *testing.T) {
	p, reply, log := ParsePSYNC([][]byte{[]byte("?"), []byte("-1")}, "r")
	if p.ReplID != "?" || p.Offset != -1 || reply != "" || log != "" {
		t.Fatalf("%+v %q %q", p, reply, log)
	}
	_, reply, log = ParsePSYNC([][]byte{[]byte("abc"), []byte("x")}, "127.0.0.1:7000")
	if reply != ReplyNotInteger || log != "# Replica 127.0.0.1:7000 asks for synchronization but with a wrong offset" {
		t.Fatalf("%q %q", reply, log)
	}
	if got := FullResyncReply("c7c741b1beac2a866afdeed0e83aaf4659ab3eb1", 0); got != "+FULLRESYNC c7c741b1beac2a866afdeed0e83aaf4659ab3eb1 0\r\n" {
		t.Fatal(got)
	}
}

func TestParseREPLCONF(t *testing.T) {
	long := strings.Repeat("a", 256)
	cases := []struct {
		args    string
		replica bool
		reply   string
		want    ReplConf
	}{
		{"", false, "+OK", ReplConf{RDBOnly: -1}},
		{"listening-port 6380", false, "+OK", ReplConf{Port: 6380, HasPort: true, RDBOnly: -1}},
		{"LISTENING-PORT -5 ip-address 10.0.0.9", false, "+OK", ReplConf{Port: -5, HasPort: true, IP: "10.0.0.9", HasIP: true, RDBOnly: -1}},
		{"listening-port abc", false, "-ERR value is not an integer or out of range", ReplConf{RDBOnly: -1}},
		{"listening-port 99999999999999999999", false, "-ERR value is not an integer or out of range", ReplConf{RDBOnly: -1}},
		{"capa", false, "-ERR syntax error", ReplConf{RDBOnly: -1}},
		{"capa eof capa psync2 capa foo", false, "+OK", ReplConf{Capa: CapaEOF | CapaPSYNC2, RDBOnly: -1}},
		{"foo bar", false, "-ERR Unrecognized REPLCONF option: foo", ReplConf{RDBOnly: -1}},
		{"listening-port 1 foo bar", false, "-ERR Unrecognized REPLCONF option: foo", ReplConf{Port: 1, HasPort: true, RDBOnly: -1}},
		{"rdb-only 2", false, "-ERR value is out of range, value must between 0 and 1", ReplConf{RDBOnly: -1}},
		{"rdb-only x", false, "-ERR value is not an integer or out of range", ReplConf{RDBOnly: -1}},
		{"rdb-only 1", false, "+OK", ReplConf{RDBOnly: 1}},
		{"rdb-filter-only bogus", false, "-ERR Unsupported rdb-filter-only option: bogus", ReplConf{RDBOnly: -1, FilterOnly: true}},
		{"rdb-filter-only functions", false, "+OK", ReplConf{RDBOnly: -1, FilterOnly: true, Functions: true}},
		{"ip-address " + long, false, "-ERR REPLCONF ip-address provided by replica instance is too long: 256 bytes", ReplConf{RDBOnly: -1}},
		{"ip-address " + long[1:], false, "+OK", ReplConf{IP: long[1:], HasIP: true, RDBOnly: -1}},
		{"ack 5", false, "", ReplConf{RDBOnly: -1}},
		{"ack 5", true, "", ReplConf{Ack: true, AckOffset: 5, RDBOnly: -1}},
		{"ACK 5 FACK 3", true, "", ReplConf{Ack: true, AckOffset: 5, FAck: true, FAckOffset: 3, RDBOnly: -1}},
		{"ack x", true, "", ReplConf{RDBOnly: -1}},
		{"getack *", false, "", ReplConf{GetAck: true, RDBOnly: -1}},
	}
	for _, c := range cases {
		got, reply := ParseREPLCONF(cmd(strings.Fields(c.args)...), c.replica)
		if reply != c.reply || !reflect.DeepEqual(got, c.want) {
			t.Errorf("REPLCONF %.40s (replica %v):\n got %+v %q\nwant %+v %q", c.args, c.replica, got, reply, c.want, c.reply)
		}
	}
}

func TestReplicaName(t *testing.T) {
	for _, c := range []struct {
		peer, ip string
		port     int64
		want     string
	}{
		{"127.0.0.1", "", 6380, "127.0.0.1:6380"},
		{"127.0.0.1", "10.0.0.9", 6380, "10.0.0.9:6380"},
		{"::1", "", 6380, "[::1]:6380"},
		{"127.0.0.1", "", 0, "127.0.0.1:<unknown-replica-port>"},
	} {
		if got := ReplicaName(c.peer, c.ip, c.port); got != c.want {
			t.Errorf("%+v: %q", c, got)
		}
	}
}
