package cluster

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"redgo/internal/slot"
)

// NodesConf is the content of a cluster-config-file (nodes.conf): one
// CLUSTER NODES line per known node, then
//
//	vars currentEpoch <n> lastVoteEpoch <n>
//
// Parse reads what Redis 7.0 writes, and also the aux fields Redis 7.2+
// adds after the address (ip:port@cport,hostname,key=value,...).
// Append writes Redis 7.0's format, which both versions load.
type NodesConf struct {
	// Nodes in file order. A node named only as a master or in a
	// migration marker, without a line of its own, is a placeholder
	// with no flags and no address, as Redis creates; those come last.
	Nodes         []*Node
	Myself        *Node
	CurrentEpoch  uint64
	LastVoteEpoch uint64
	// Migrations of myself's slots, ascending, migrating before
	// importing for one slot.
	Migrations []SlotMigration
}

// ErrEmptyConfig is returned for an empty nodes.conf: Redis treats it as
// no configuration and starts a new node.
var ErrEmptyConfig = errors.New("cluster: nodes.conf is empty")

// ParseNodesConf parses a nodes.conf. Like Redis it skips blank lines and
// unknown vars and aux fields, and fails on a line with fewer than eight
// fields, an unknown flag, a bad address, a slot out of range, or a file
// without a myself line. Unlike Redis it reports every number it cannot
// read instead of taking it as 0.
//
// Values are those of the file: Redis, when it loads, also sets
// ping-sent and pong-recv that are not 0 to the current time and the
// FAIL time of failed nodes to now; that is for the caller. A slot
// claimed by two nodes goes to the first, as in Redis; currentEpoch is
// raised to the highest configEpoch if it is lower, as Redis does.
func ParseNodesConf(data []byte) (*NodesConf, error) {
	if len(data) == 0 {
		return nil, ErrEmptyConfig
	}
	p := confParser{
		conf:   &NodesConf{},
		byName: map[string]*Node{},
		seen:   map[string]bool{},
		mig:    map[int]string{},
		imp:    map[int]string{},
	}
	for i, line := range bytes.Split(data, []byte{'\n'}) {
		fields := strings.Fields(string(line))
		if len(fields) == 0 {
			continue
		}
		if err := p.line(fields); err != nil {
			return nil, fmt.Errorf("cluster: nodes.conf line %d: %w", i+1, err)
		}
	}
	c := p.conf
	if c.Myself == nil {
		return nil, errors.New("cluster: nodes.conf has no myself line")
	}
	for _, n := range p.all {
		if !p.seen[n.Name] {
			c.Nodes = append(c.Nodes, n) // placeholder
		}
	}
	for _, n := range c.Nodes {
		c.CurrentEpoch = max(c.CurrentEpoch, n.ConfigEpoch)
	}
	for s, name := range p.mig {
		c.Migrations = append(c.Migrations, SlotMigration{Slot: s, Node: name})
	}
	for s, name := range p.imp {
		c.Migrations = append(c.Migrations, SlotMigration{Slot: s, Node: name, Importing: true})
	}
	slices.SortFunc(c.Migrations, func(a, b SlotMigration) int {
		if a.Slot != b.Slot {
			return a.Slot - b.Slot
		}
		if a.Importing == b.Importing {
			return 0
		}
		if a.Importing {
			return 1
		}
		return -1
	})
	return c, nil
}

type confParser struct {
	conf     *NodesConf
	byName   map[string]*Node
	seen     map[string]bool // names that had their own line
	all      []*Node         // every node, in order of first mention
	owner    [slot.Count]*Node
	mig, imp map[int]string
}

// node returns the node called name, creating a placeholder.
func (p *confParser) node(name string) (*Node, error) {
	if n := p.byName[name]; n != nil {
		return n, nil
	}
	if !ValidName(name) {
		return nil, fmt.Errorf("bad node name %q", name)
	}
	n := &Node{Name: name}
	p.byName[name] = n
	p.all = append(p.all, n)
	return n, nil
}

func (p *confParser) line(f []string) error {
	if strings.EqualFold(f[0], "vars") {
		return p.vars(f[1:])
	}
	if len(f) < 8 {
		return fmt.Errorf("%d fields, want at least 8", len(f))
	}
	if p.seen[f[0]] {
		return fmt.Errorf("node %s listed twice", f[0])
	}
	n, err := p.node(f[0])
	if err != nil {
		return err
	}
	p.seen[f[0]] = true
	p.conf.Nodes = append(p.conf.Nodes, n)
	if err := parseAddr(n, f[1]); err != nil {
		return err
	}
	if err := p.flags(n, f[2]); err != nil {
		return err
	}
	if f[3] != "-" {
		m, err := p.node(f[3])
		if err != nil {
			return err
		}
		n.ReplicaOf = m
		if !slices.Contains(m.Replicas, n) {
			m.Replicas = append(m.Replicas, n)
		}
	}
	if n.PingSent, err = strconv.ParseInt(f[4], 10, 64); err != nil {
		return fmt.Errorf("ping-sent: %w", err)
	}
	if n.PongReceived, err = strconv.ParseInt(f[5], 10, 64); err != nil {
		return fmt.Errorf("pong-recv: %w", err)
	}
	if n.ConfigEpoch, err = strconv.ParseUint(f[6], 10, 64); err != nil {
		return fmt.Errorf("config epoch: %w", err)
	}
	// f[7], the link state, is not kept.
	for _, s := range f[8:] {
		if err := p.slots(n, s); err != nil {
			return err
		}
	}
	return nil
}

func (p *confParser) vars(f []string) error {
	if len(f)%2 != 0 {
		return errors.New("vars: odd number of arguments")
	}
	for i := 0; i < len(f); i += 2 {
		var dst *uint64
		switch {
		case strings.EqualFold(f[i], "currentEpoch"):
			dst = &p.conf.CurrentEpoch
		case strings.EqualFold(f[i], "lastVoteEpoch"):
			dst = &p.conf.LastVoteEpoch
		default:
			continue // Redis logs and skips unknown vars
		}
		v, err := strconv.ParseUint(f[i+1], 10, 64)
		if err != nil {
			return fmt.Errorf("vars %s: %w", f[i], err)
		}
		*dst = v
	}
	return nil
}

// parseAddr reads ip:port@cport[,hostname[,key=value...]].
func parseAddr(n *Node, field string) error {
	parts := strings.Split(field, ",")
	addr := parts[0]
	colon := strings.LastIndexByte(addr, ':')
	if colon < 0 {
		return fmt.Errorf("address %q has no port", field)
	}
	n.IP = addr[:colon]
	port, cport, hasBus := strings.Cut(addr[colon+1:], "@")
	var err error
	if n.Port, err = parsePort(port); err != nil {
		return fmt.Errorf("address %q: %w", field, err)
	}
	if !hasBus { // written before Redis 4.0
		n.CPort = n.Port + 10000
	} else if n.CPort, err = parsePort(cport); err != nil {
		return fmt.Errorf("address %q: %w", field, err)
	}
	if len(parts) > 1 {
		n.Hostname = parts[1]
	}
	for _, aux := range parts[min(2, len(parts)):] {
		k, v, ok := strings.Cut(aux, "=")
		if !ok || strings.Contains(v, "=") {
			return fmt.Errorf("bad aux field %q", aux)
		}
		switch k {
		case "shard-id":
			if !ValidName(v) {
				return fmt.Errorf("bad shard-id %q", v)
			}
			n.ShardID = v
		case "nodename":
			n.HumanName = v
		case "tcp-port": // the address has the TLS port; this is the plaintext one
			if n.PPort, err = parsePort(v); err != nil {
				return fmt.Errorf("tcp-port: %w", err)
			}
		case "tls-port": // the TLS port of a plaintext-first node: not kept
			if _, err = parsePort(v); err != nil {
				return fmt.Errorf("tls-port: %w", err)
			}
		}
	}
	return nil
}

func parsePort(s string) (int, error) {
	p, err := strconv.Atoi(s)
	if err != nil || p < 0 || p > 65535 {
		return 0, fmt.Errorf("bad port %q", s)
	}
	return p, nil
}

func (p *confParser) flags(n *Node, field string) error {
	for _, name := range strings.Split(field, ",") {
		var f Flags
		switch strings.ToLower(name) {
		case "myself":
			if p.conf.Myself != nil {
				return errors.New("a second myself")
			}
			p.conf.Myself = n
			f = FlagMyself
		case "master":
			f = FlagMaster
		case "slave":
			f = FlagSlave
		case "fail?":
			f = FlagPFail
		case "fail":
			f = FlagFail
		case "handshake":
			f = FlagHandshake
		case "noaddr":
			f = FlagNoAddr
		case "nofailover":
			f = FlagNoFailover
		case "noflags":
		default:
			return fmt.Errorf("unknown flag %q", name)
		}
		n.Flags |= f
	}
	return nil
}

// slots reads one slot, range or migration marker.
func (p *confParser) slots(n *Node, s string) error {
	if strings.HasPrefix(s, "[") {
		// [slot->-name] or [slot-<-name]
		num, rest, ok := strings.Cut(s[1:], "-")
		sl, err := strconv.Atoi(num)
		if !ok || err != nil || sl < 0 || sl >= slot.Count || len(rest) < 3 ||
			!strings.HasSuffix(rest, "]") || (rest[:2] != ">-" && rest[:2] != "<-") {
			return fmt.Errorf("bad migration marker %q", s)
		}
		other, err := p.node(rest[2 : len(rest)-1])
		if err != nil {
			return fmt.Errorf("migration marker %q: %w", s, err)
		}
		if rest[0] == '>' {
			p.mig[sl] = other.Name
		} else {
			p.imp[sl] = other.Name
		}
		return nil
	}
	first, last, isRange := strings.Cut(s, "-")
	start, err := strconv.Atoi(first)
	if err != nil || start < 0 || start >= slot.Count {
		return fmt.Errorf("bad slot %q", s)
	}
	stop := start
	if isRange {
		if stop, err = strconv.Atoi(last); err != nil || stop < 0 || stop >= slot.Count {
			return fmt.Errorf("bad slot range %q", s)
		}
	}
	for ; start <= stop; start++ { // start > stop adds nothing, as in Redis
		if p.owner[start] == nil {
			p.owner[start] = n
			n.Slots.Set(start)
		}
	}
	return nil
}

// Append appends the file in Redis 7.0's format: a line per node except
// those in handshake, the migration markers on myself's line, then the
// vars line.
func (c *NodesConf) Append(dst []byte) []byte {
	for _, n := range c.Nodes {
		if n.Flags&FlagHandshake != 0 {
			continue
		}
		dst = AppendNodeLine(dst, n, false, c.Migrations)
		dst = append(dst, '\n')
	}
	dst = append(dst, "vars currentEpoch "...)
	dst = strconv.AppendUint(dst, c.CurrentEpoch, 10)
	dst = append(dst, " lastVoteEpoch "...)
	dst = strconv.AppendUint(dst, c.LastVoteEpoch, 10)
	return append(dst, '\n')
}
