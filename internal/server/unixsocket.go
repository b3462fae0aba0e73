package server

// The unix socket listener (anet.c: anetUnixServer, server.c: listenToPort
// for server.unixsocket).

import (
	"fmt"
	"net"
	"os"
	"strconv"
)

// listenUnix listens on unixsocket when it is set, with unixsocketperm's
// mode when not 0; a stale socket file is replaced, as Redis unlinks it.
func (s *Server) listenUnix() error {
	path := s.Cfg.Get("unixsocket")
	if path == "" {
		return nil
	}
	os.Remove(path)
	ln, err := net.Listen("unix", path)
	if err != nil {
		return fmt.Errorf("Failed opening Unix socket: %w", err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(true)
	if perm, err := strconv.ParseUint(s.Cfg.Get("unixsocketperm"), 8, 32); err == nil && perm != 0 {
		os.Chmod(path, os.FileMode(perm))
	}
	s.uln = ln
	return nil
}

// unixPeer is how Redis shows both ends of a unix socket connection
// (anetFdToString for AF_UNIX): "/unixsocket" and port 0.
const unixPeer = "/unixsocket:0"
