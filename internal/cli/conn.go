package cli

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"redgo/internal/resp"
)

// conn is one connection to a server: commands out as RESP arrays,
// replies in as resp.Values.
type conn struct {
	nc   net.Conn
	r    *bufio.Reader
	addr string // host:port (or the socket path)
}

// dial connects to addr (or the unix socket), with TLS when asked.
func dial(o *Options, host string, port int, socket string) (*conn, error) {
	network, addr := "tcp", net.JoinHostPort(host, strconv.Itoa(port))
	if socket != "" {
		network, addr = "unix", socket
	}
	nc, err := net.DialTimeout(network, addr, 10*time.Second)
	if err != nil {
		return nil, connectError(err)
	}
	if o.TLS.Enabled {
		cfg, err := tlsConfig(&o.TLS, host)
		if err != nil {
			nc.Close()
			return nil, err
		}
		tc := tls.Client(nc, cfg)
		if err := tc.Handshake(); err != nil {
			nc.Close()
			return nil, fmt.Errorf("Could not negotiate a TLS connection: %v", err)
		}
		nc = tc
	}
	return &conn{nc: nc, r: bufio.NewReaderSize(nc, 64<<10), addr: addr}, nil
}

// connectError is the reason as redis-cli words it ("Connection refused").
func connectError(err error) error {
	if oe, ok := err.(*net.OpError); ok {
		if se, ok := oe.Err.(*os.SyscallError); ok {
			s := se.Err.Error()
			return fmt.Errorf("%s", string(s[0]-32)+s[1:]) // capitalised, as strerror
		}
		return oe.Err
	}
	return err
}

func tlsConfig(t *TLSOptions, host string) (*tls.Config, error) {
	cfg := &tls.Config{ServerName: host, InsecureSkipVerify: t.Insecure}
	if t.SNI != "" {
		cfg.ServerName = t.SNI
	}
	if t.CACert != "" || t.CACertDir != "" {
		pool := x509.NewCertPool()
		files := []string{}
		if t.CACert != "" {
			files = append(files, t.CACert)
		}
		if t.CACertDir != "" {
			m, _ := filepath.Glob(filepath.Join(t.CACertDir, "*"))
			files = append(files, m...)
		}
		for _, f := range files {
			pem, err := os.ReadFile(f)
			if err != nil {
				return nil, err
			}
			pool.AppendCertsFromPEM(pem)
		}
		cfg.RootCAs = pool
	}
	if t.Cert != "" || t.Key != "" {
		c, err := tls.LoadX509KeyPair(t.Cert, t.Key)
		if err != nil {
			return nil, fmt.Errorf("Could not load the client certificate: %v", err)
		}
		cfg.Certificates = []tls.Certificate{c}
	}
	return cfg, nil
}

// send writes one command.
func (c *conn) send(args []string) error {
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
	_, err := c.nc.Write(b)
	return err
}

// read reads one reply.
func (c *conn) read() (resp.Value, error) { return resp.ReadValue(c.r) }

// do sends a command and reads its reply.
func (c *conn) do(args ...string) (resp.Value, error) {
	if err := c.send(args); err != nil {
		return resp.Value{}, err
	}
	return c.read()
}

func (c *conn) close() { c.nc.Close() }
