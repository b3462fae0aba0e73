package commands

import (
	"bufio"
	"bytes"
	"testing"

	"redgo/internal/keyspace"
	"redgo/internal/resp"
)

// env runs commands against an in-memory keyspace without a server.
type env struct {
	t  *testing.T
	ks *keyspace.Keyspace
	db int
	// Proto is the protocol of replies (2 or 3).
	Proto int
}

func newEnv(t *testing.T) *env {
	return &env{t: t, ks: keyspace.New(16), Proto: 2}
}

// do runs a command and returns its parsed reply.
func (e *env) do(args ...string) resp.Value {
	e.t.Helper()
	bargs := make([][]byte, len(args))
	for i, a := range args {
		bargs[i] = []byte(a)
	}
	w := &resp.Writer{Proto: e.Proto}
	Exec(e.ks, e.db, w, bargs)
	v, err := resp.ReadValue(bufio.NewReader(bytes.NewReader(w.Buf)))
	if err != nil {
		e.t.Fatalf("%v: bad reply %q: %v", args, w.Buf, err)
	}
	return v
}

// must runs a command and checks its reply renders as want (Value.String).
func (e *env) must(want string, args ...string) {
	e.t.Helper()
	if got := e.do(args...).String(); got != want {
		e.t.Errorf("%v = %s, want %s", args, got, want)
	}
}

// mustErr checks the command fails with exactly msg.
func (e *env) mustErr(msg string, args ...string) {
	e.t.Helper()
	v := e.do(args...)
	if v.Type != '-' || v.Str != msg {
		e.t.Errorf("%v = %s, want error %q", args, v.String(), msg)
	}
}
