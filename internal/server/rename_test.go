package server

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"redgo/internal/config"
)

// rename-command gives a command a new name or none, survives CONFIG
// REWRITE, and refuses what Redis refuses; the names compared with
// redis-server run with the same lines.
func TestRenameCommand(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "redis.conf")
	os.WriteFile(conf, []byte("rename-command flushdb badger\nrename-command keys \"\"\nrename-command config CONFIG2\n"), 0o644)
	s, rc := startServerConf(t, conf, "--dir", dir)
	for _, tc := range []struct {
		cmd  []any
		want string
	}{
		{[]any{"FLUSHDB"}, "ERR unknown command 'FLUSHDB', with args beginning with: "},
		{[]any{"KEYS", "*"}, "ERR unknown command 'KEYS', with args beginning with: '*' "},
		{[]any{"badger"}, ""},
		{[]any{"BADGER"}, ""},
		{[]any{"config2", "get", "port"}, ""},
		{[]any{"config", "get", "port"}, "ERR unknown command 'config', with args beginning with: 'get' 'port' "},
	} {
		err := rc.Do(ctx, tc.cmd...).Err()
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || err.Error() != tc.want) {
			t.Errorf("%v: %v, want %q", tc.cmd, err, tc.want)
		}
	}
	if err := rc.Do(ctx, "CONFIG2", "REWRITE").Err(); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(conf)
	if !strings.Contains(string(data), "rename-command flushdb badger") {
		t.Fatalf("rewrite lost the rename:\n%s", data)
	}
	_ = s
	for _, tc := range []struct{ lines, msg string }{
		{"rename-command nosuch x\n", "No such command in rename-command"},
		{"rename-command get set\n", "Target command name already exists"},
		{"rename-command get\n", "Bad directive or wrong number of arguments"},
	} {
		p := filepath.Join(t.TempDir(), "bad.conf")
		os.WriteFile(p, []byte(tc.lines), 0o644)
		cfg, err := config.Load(p, nil)
		if err == nil {
			_, err = New(cfg)
		}
		if err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%q: %v", tc.lines, err)
		}
	}
}
