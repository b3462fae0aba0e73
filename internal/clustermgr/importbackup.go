package clustermgr

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"redgo/internal/slot"
)

// importCmd is the import subcommand: every key of a standalone server
// (--cluster-from) is MIGRATEd to the master that serves its slot.
func (m *Manager) importCmd(args []string) bool {
	ip, port, ok := hostFromArgs(args)
	if !ok {
		fmt.Fprint(m.errw, invalidHostArg)
		return false
	}
	if m.opts.From == "" {
		fmt.Fprintf(m.errw, "[ERR] Option '--cluster-from' is required for subcommand 'import'.\n")
		return false
	}
	srcIP, srcPort, _, ok := parseAddr(m.opts.From)
	if !ok || srcIP == "" || srcPort == 0 {
		fmt.Fprintf(m.errw, "[ERR] Invalid --cluster-from host. You need to pass a valid address (ie. 120.0.0.1:7000).\n")
		return false
	}
	m.logInfo(">>> Importing data from %s:%d to cluster %s:%d\n", srcIP, srcPort, ip, port)
	if !m.loadFromNode(m.newNode(ip, port)) {
		return false
	}
	if !m.checkCluster(false) {
		return false
	}
	src := &Node{IP: srcIP, Port: srcPort, m: &Manager{opts: m.opts, out: m.out, errw: m.errw}}
	src.m.opts.User, src.m.opts.Pass, src.m.opts.HasPass = m.opts.FromUser, m.opts.FromPass, m.opts.FromPass != ""
	if !src.connect() {
		return false
	}
	defer src.close()
	fail := func(e string) bool {
		m.logErr("Source %s replied with error:\n%s\n", src.label(), e)
		return false
	}
	info, e := src.info()
	if info == "" {
		return fail(e)
	}
	if atoi(infoField(info, "cluster_enabled")) != 0 {
		m.logErr("[ERR] The source node should not be a cluster node.\n")
		return false
	}
	v, err := src.do("DBSIZE")
	if e := replyErr(v, err); e != "" {
		return fail(e)
	}
	m.logWarn("*** Importing %d keys from DB 0\n", v.Int)
	var owners [slot.Count]*Node
	for s := 0; s < slot.Count; s++ {
		for _, n := range m.nodes {
			if !n.IsReplica() && n.Slots[s] {
				owners[s] = n
				break
			}
		}
	}
	cursor := "0"
	for {
		v, err := src.do("SCAN", cursor, "COUNT", "1000")
		if e := replyErr(v, err); e != "" {
			return fail(e)
		}
		if len(v.Elems) < 2 {
			return fail("bad SCAN reply")
		}
		cursor = v.Elems[0].Str
		for _, k := range v.Elems[1].Elems {
			target := owners[slot.OfString(k.Str)]
			if target == nil {
				m.logErr("[ERR] No node serves the slot of %s\n", k.Str)
				return false
			}
			m.printf("Migrating %s to %s: ", k.Str, target.label())
			args := []string{"MIGRATE", target.IP, itoa(target.Port), k.Str, "0", itoa(m.opts.Timeout)}
			if m.opts.HasPass {
				if m.opts.User != "" {
					args = append(args, "AUTH2", m.opts.User, m.opts.Pass)
				} else {
					args = append(args, "AUTH", m.opts.Pass)
				}
			}
			if m.opts.Copy {
				args = append(args, "COPY")
			}
			if m.opts.Replace {
				args = append(args, "REPLACE")
			}
			r, err := src.do(args...)
			if e := replyErr(r, err); e != "" {
				m.logErr("Source %s replied with error:\n%s\n", src.label(), e)
				return false
			}
			m.logOk("OK\n")
		}
		if cursor == "0" {
			return true
		}
	}
}

// backup is the backup subcommand: nodes.json with every node's
// configuration, and each master's RDB (fetched with SYNC) in dir.
func (m *Manager) backup(args []string) bool {
	ip, port, ok := hostFromArgs(args[:1])
	if !ok {
		fmt.Fprint(m.errw, invalidHostArg)
		return false
	}
	if !m.loadFromNode(m.newNode(ip, port)) {
		return false
	}
	noIssues := m.checkCluster(false)
	errCount := 0
	if !noIssues {
		errCount = len(m.errors)
	}
	dir := args[1]
	var js []string
	for _, n := range m.nodes {
		js = append(js, n.json(errCount))
		if n.Replicate != "" {
			continue
		}
		m.logInfo(">>> Node %s -> Saving RDB...\n", n.label())
		if e := m.getRDB(n, filepath.Join(dir, fmt.Sprintf("redis-node-%s-%d-%s.rdb", n.IP, n.Port, n.Name))); e != "" {
			fmt.Fprintf(m.errw, "%s\n", e)
			return false
		}
	}
	path := strings.TrimSuffix(dir, "/") + "/nodes.json"
	m.logInfo("Saving cluster configuration to: %s\n", path)
	if err := os.WriteFile(path, []byte("[\n"+strings.Join(js, ",\n")+"\n]"), 0o644); err != nil {
		m.logErr("Could not save nodes to: %s\n", path)
		m.logOk("[ERR] Failed to back cluster!\n")
		return false
	}
	if !noIssues {
		m.logWarn("*** Cluster seems to have some problems, please be aware of it if you're going to restore this backup.\n")
	}
	m.logOk("[OK] Backup created into: %s\n", dir)
	return true
}

// json is clusterManagerNodeGetJSON.
func (n *Node) json(errCount int) string {
	replicate := "null"
	if n.Replicate != "" {
		replicate = `"` + n.Replicate + `"`
	}
	var b strings.Builder
	fmt.Fprintf(&b, "  {\n    \"name\": \"%s\",\n    \"host\": \"%s\",\n    \"port\": %d,\n    \"replicate\": %s,\n"+
		"    \"slots\": [%s],\n    \"slots_count\": %d,\n    \"flags\": \"%s\",\n    \"current_epoch\": %d",
		n.Name, n.IP, n.Port, replicate, strings.ReplaceAll(slotsString(&n.Slots), "-", ","), n.SlotCount,
		n.flagString(), n.Epoch)
	if errCount > 0 {
		fmt.Fprintf(&b, ",\n    \"cluster_errors\": %d", errCount)
	}
	pairs := func(key string, l [][2]string) {
		if len(l) == 0 {
			return
		}
		var p []string
		for _, x := range l {
			p = append(p, fmt.Sprintf("\"%s\": \"%s\"", x[0], x[1]))
		}
		fmt.Fprintf(&b, ",\n    \"%s\": {%s}", key, strings.Join(p, ","))
	}
	pairs("migrating", n.Migrating)
	pairs("importing", n.Importing)
	b.WriteString("\n  }")
	return b.String()
}

// getRDB asks the node for a full copy of its data (REPLCONF rdb-only,
// SYNC) and writes the RDB payload to path, as redis-cli --rdb.
func (m *Manager) getRDB(n *Node, path string) string {
	n.do("REPLCONF", "rdb-only", "1") // older servers refuse it: harmless
	if _, err := n.conn.Write([]byte("SYNC\r\n")); err != nil {
		return "Error writing to master"
	}
	var line string
	for {
		l, err := n.r.ReadString('\n')
		if err != nil {
			return "I/O Error reading bulk count"
		}
		if l = strings.TrimRight(l, "\r\n"); l != "" {
			line = l
			break
		}
	}
	if strings.HasPrefix(line, "-") {
		return fmt.Sprintf("SYNC with master failed: %s", line)
	}
	if !strings.HasPrefix(line, "$") {
		return fmt.Sprintf("Bad protocol from master: %s", line)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Sprintf("Error opening '%s': %v", path, err)
	}
	defer f.Close()
	w := bufio.NewWriter(f)
	if mark, ok := strings.CutPrefix(line, "$EOF:"); ok {
		fmt.Fprintf(m.errw, "SYNC sent to master, writing bytes of bulk transfer until EOF marker to '%s'\n", path)
		total, err := copyUntil(w, n.r, []byte(mark))
		if err != nil {
			return "I/O Error reading RDB payload from socket"
		}
		fmt.Fprintf(m.errw, "Transfer finished with success after %d bytes\n", total)
	} else {
		size := int64(atoi(line[1:]))
		fmt.Fprintf(m.errw, "SYNC sent to master, writing %d bytes to '%s'\n", size, path)
		if _, err := io.CopyN(w, n.r, size); err != nil {
			return "I/O Error reading RDB payload from socket"
		}
		fmt.Fprintf(m.errw, "Transfer finished with success.\n")
	}
	n.close() // the connection is a replica link now
	if err := w.Flush(); err != nil {
		return fmt.Sprintf("Error writing data to file: %v", err)
	}
	return ""
}

// copyUntil copies r to w until the marker, which it leaves out.
func copyUntil(w io.Writer, r *bufio.Reader, mark []byte) (int64, error) {
	var buf []byte
	var total int64
	for {
		b, err := r.ReadByte()
		if err != nil {
			return total, err
		}
		buf = append(buf, b)
		if bytes.HasSuffix(buf, mark) {
			out := buf[:len(buf)-len(mark)]
			w.Write(out)
			return total + int64(len(out)), nil
		}
		if len(buf) > 64<<10 {
			keep := len(mark)
			w.Write(buf[:len(buf)-keep])
			total += int64(len(buf) - keep)
			buf = append(buf[:0], buf[len(buf)-keep:]...)
		}
	}
}
