package clustermgr

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"redgo/internal/resp"
	"redgo/internal/slot"
)

// Node is one cluster node as the manager sees it: its address, the
// connection to it and what its CLUSTER NODES line says.
type Node struct {
	IP        string
	Port      int
	BusPort   int
	Name      string   // node ID
	Flags     []string // as CLUSTER NODES lists them
	Replicate string   // master's ID for a replica, "" for a master
	Epoch     int64    // config epoch
	Slots     [slot.Count]bool
	SlotCount int
	Migrating [][2]string // slot, target ID
	Importing [][2]string // slot, source ID
	Replicas  int         // replicas that name this node as their master

	dirty   bool    // create: slots or Replicate still to be sent
	weight  float64 // rebalance
	balance int     // rebalance: slots to give (>0) or take (<0)
	myself  bool
	redgo   int // 1: does CLUSTER MIGRATESLOTS, -1: does not, 0: not asked yet
	conn    net.Conn
	r       *bufio.Reader
	m       *Manager
}

// Addr is ip:port.
func (n *Node) Addr() string { return net.JoinHostPort(n.IP, strconv.Itoa(n.Port)) }

// label is ip:port as redis-cli prints it (no brackets for IPv6).
func (n *Node) label() string { return n.IP + ":" + strconv.Itoa(n.Port) }

func (n *Node) has(flag string) bool {
	for _, f := range n.Flags {
		if f == flag {
			return true
		}
	}
	return false
}

// IsReplica says whether CLUSTER NODES lists the node as a replica.
func (n *Node) IsReplica() bool { return n.has("slave") }

// connect opens the connection (and authenticates); errors are printed
// as redis-cli prints them.
func (n *Node) connect() bool {
	n.close()
	c, err := net.DialTimeout("tcp", n.Addr(), 10*time.Second)
	if err != nil {
		fmt.Fprintf(n.m.errw, "Could not connect to Redis at %s: %s\n", n.label(), connectError(err))
		return false
	}
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetKeepAlive(true)
		tc.SetKeepAlivePeriod(15 * time.Second)
	}
	n.conn, n.r = c, bufio.NewReaderSize(c, 64<<10)
	if n.m.opts.HasPass {
		args := []string{"AUTH", n.m.opts.Pass}
		if n.m.opts.User != "" {
			args = []string{"AUTH", n.m.opts.User, n.m.opts.Pass}
		}
		if _, ok := n.check(n.do(args...)); !ok {
			n.close()
			return false
		}
	}
	return true
}

func (n *Node) close() {
	if n.conn != nil {
		n.conn.Close()
		n.conn, n.r = nil, nil
	}
}

// connectError is the reason as strerror words it ("Connection refused").
func connectError(err error) string {
	if oe, ok := err.(*net.OpError); ok {
		if se, ok := oe.Err.(*os.SyscallError); ok {
			if se.Err == syscall.ECONNREFUSED {
				return "Connection refused"
			}
			s := se.Err.Error()
			return strings.ToUpper(s[:1]) + s[1:]
		}
		return oe.Err.Error()
	}
	return err.Error()
}

// do sends one command and reads its reply. A node without a connection
// (or whose connection broke) gets an error.
func (n *Node) do(args ...string) (resp.Value, error) {
	if n.conn == nil {
		if !n.connect() {
			return resp.Value{}, fmt.Errorf("could not connect to %s", n.label())
		}
	}
	b := make([]byte, 0, 64)
	b = append(b, '*')
	b = strconv.AppendInt(b, int64(len(args)), 10)
	b = append(b, "\r\n"...)
	for _, a := range args {
		b = append(b, '$')
		b = strconv.AppendInt(b, int64(len(a)), 10)
		b = append(b, "\r\n"...)
		b = append(b, a...)
		b = append(b, "\r\n"...)
	}
	if _, err := n.conn.Write(b); err != nil {
		n.close()
		return resp.Value{}, err
	}
	v, err := resp.ReadValue(n.r)
	if err != nil {
		n.close()
	}
	return v, err
}

// check is clusterManagerCheckRedisReply without an error out-argument:
// an error reply is printed and false returned.
func (n *Node) check(v resp.Value, err error) (resp.Value, bool) {
	if err != nil {
		return v, false
	}
	if v.Type == '-' {
		n.m.replyError(n, v.Str)
		return v, false
	}
	return v, true
}

// replyErr returns an error reply's text (or the I/O error's) instead
// of printing it.
func replyErr(v resp.Value, err error) string {
	if err != nil {
		return err.Error()
	}
	if v.Type == '-' {
		return v.Str
	}
	return ""
}

// info returns INFO's text, or the error.
func (n *Node) info(section ...string) (string, string) {
	v, err := n.do(append([]string{"INFO"}, section...)...)
	if e := replyErr(v, err); e != "" || err != nil {
		return "", e
	}
	return v.Str, ""
}

// infoField is the value of name in an INFO text.
func infoField(info, name string) string {
	for _, l := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimRight(l, "\r"), name+":"); ok {
			return v
		}
	}
	return ""
}

// isCluster is clusterManagerNodeIsCluster.
func (n *Node) isCluster() (bool, string) {
	info, e := n.info()
	if info == "" {
		return false, e
	}
	return atoi(infoField(info, "cluster_enabled")) != 0, ""
}

// isEmpty is clusterManagerNodeIsEmpty: no keys in db0 and no other
// known node.
func (n *Node) isEmpty() (bool, string) {
	info, e := n.info()
	if info == "" {
		return false, e
	}
	if strings.Contains(info, "db0:") {
		return false, ""
	}
	v, err := n.do("CLUSTER", "INFO")
	if e := replyErr(v, err); e != "" {
		return false, e
	}
	return infoField(v.Str, "cluster_known_nodes") == "1", ""
}

// resetSlots forgets the node's slots.
func (n *Node) resetSlots() {
	n.Slots = [slot.Count]bool{}
	n.SlotCount = 0
}

// nodeLine is one parsed line of CLUSTER NODES.
type nodeLine struct {
	name, addr, flags, master string
	epoch                     int64
	slots                     []string // the fields after the link state
	fields                    int      // how many fields before the slots (at most 8)
}

// parseNodesLines splits CLUSTER NODES output into lines and fields, as
// redis-cli reads it.
func parseNodesLines(text string) []nodeLine {
	var out []nodeLine
	for _, line := range strings.Split(text, "\n") {
		if line == "" {
			continue
		}
		f := strings.Split(line, " ")
		var l nodeLine
		l.fields = min(len(f), 8)
		get := func(i int) string {
			if i < len(f) {
				return f[i]
			}
			return ""
		}
		l.name, l.addr, l.flags, l.master = get(0), get(1), get(2), get(3)
		l.epoch, _ = strconv.ParseInt(get(6), 10, 64)
		if len(f) > 8 {
			for _, s := range f[8:] {
				if s != "" {
					l.slots = append(l.slots, s)
				}
			}
		}
		out = append(out, l)
	}
	return out
}

// parseAddr reads ip:port[@busport][,hostname].
func parseAddr(addr string) (ip string, port, bus int, ok bool) {
	addr, _, _ = strings.Cut(addr, ",")
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		bus = atoi(addr[i+1:])
		addr = addr[:i]
	}
	i := strings.LastIndexByte(addr, ':')
	if i < 0 {
		return "", 0, 0, false
	}
	return addr[:i], atoi(addr[i+1:]), bus, true
}

// setFromLine fills the node from its CLUSTER NODES line; the slots only
// for the line flagged myself.
func (n *Node) setFromLine(l nodeLine, withSlots bool) {
	n.Name = l.name
	n.Flags = nil
	n.Replicate = ""
	for _, f := range strings.Split(l.flags, ",") {
		if f == "" {
			continue
		}
		n.Flags = append(n.Flags, f)
		if f == "slave" && l.master != "" && l.master != "-" {
			n.Replicate = l.master
		}
	}
	n.Epoch = l.epoch
	if !withSlots {
		return
	}
	n.resetSlots()
	n.Migrating, n.Importing = nil, nil
	for _, s := range l.slots {
		if strings.HasPrefix(s, "[") {
			s = strings.TrimSuffix(s[1:], "]")
			if a, b, ok := strings.Cut(s, "->-"); ok {
				n.Migrating = append(n.Migrating, [2]string{a, b})
			} else if a, b, ok := strings.Cut(s, "-<-"); ok {
				n.Importing = append(n.Importing, [2]string{a, b})
			}
			continue
		}
		lo, hi, isRange := strings.Cut(s, "-")
		a, b := atoi(lo), atoi(hi)
		if !isRange {
			b = a
		}
		for i := a; i <= b && i < slot.Count; i++ {
			if i >= 0 && !n.Slots[i] {
				n.Slots[i] = true
				n.SlotCount++
			}
		}
	}
}

// slotsString is the node's slots as redis-cli prints them:
// [0-5460],[5462].
func slotsString(slots *[slot.Count]bool) string {
	var b strings.Builder
	for i := 0; i < slot.Count; i++ {
		if !slots[i] {
			continue
		}
		j := i
		for j+1 < slot.Count && slots[j+1] {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		if i == j {
			fmt.Fprintf(&b, "[%d]", i)
		} else {
			fmt.Fprintf(&b, "[%d-%d]", i, j)
		}
		i = j
	}
	return b.String()
}

// flagString is the flags without myself.
func (n *Node) flagString() string {
	var out []string
	for _, f := range n.Flags {
		if f != "myself" {
			out = append(out, f)
		}
	}
	return strings.Join(out, ",")
}

// describe is clusterManagerNodeInfo: the M:/S: lines of check and
// create.
func (n *Node) describe(indent int) string {
	sp := strings.Repeat(" ", indent)
	var b strings.Builder
	b.WriteString(sp)
	if n.dirty && n.Replicate != "" {
		fmt.Fprintf(&b, "S: %s %s", n.Name, n.label())
	} else {
		role := "M"
		if n.IsReplica() {
			role = "S"
		}
		fmt.Fprintf(&b, "%s: %s %s\n%s   slots:%s (%d slots) %s", role, n.Name, n.label(), sp,
			slotsString(&n.Slots), n.SlotCount, n.flagString())
	}
	if n.Replicate != "" {
		fmt.Fprintf(&b, "\n%s   replicates %s", sp, n.Replicate)
	} else if n.Replicas > 0 {
		fmt.Fprintf(&b, "\n%s   %d additional replica(s)", sp, n.Replicas)
	}
	return b.String()
}

// atoi is C's atoi: the leading digits, 0 when there are none.
func atoi(s string) int {
	n, neg := 0, false
	s = strings.TrimLeft(s, " \t")
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg, s = s[0] == '-', s[1:]
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + int(c-'0')
		if n > 1<<40 {
			break
		}
	}
	if neg {
		return -n
	}
	return n
}
