package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"redgo/internal/aof"
	"redgo/internal/keyspace"
	"redgo/internal/rdb"
)

func cmdStr(args ...string) string { return string(aof.AppendCommandStrings(nil, args...)) }

// rdbImage is an RDB file with keys k0..k(n-1), as an RDB-format AOF base.
func rdbImage(n int) string {
	var b bytes.Buffer
	w := rdb.NewWriter(&b)
	w.Header([]rdb.Aux{{Key: "redis-ver", Val: "7.0.15"}, {Key: "aof-base", Val: "1"}}, false)
	e := rdb.AppendSelectDB(nil, 0)
	for i := 0; i < n; i++ {
		e, _ = rdb.AppendEntry(e, "k"+string(rune('0'+i)), keyspace.NewString([]byte("v")), rdb.EntryOptions{Idle: -1, Freq: -1})
	}
	w.Write(e)
	w.Finish()
	return b.String()
}

// checkCases are AOF contents; a name ending in "/" is a multi-part
// directory (base, incr, manifest).
var checkCases = []struct {
	name  string
	files map[string]string
}{
	{"valid", map[string]string{"a.aof": cmdStr("SELECT", "0") + cmdStr("SET", "a", "b")}},
	{"torn", map[string]string{"a.aof": cmdStr("SELECT", "0") + cmdStr("SET", "a", "b") + "*3\r\n$3\r\nSET\r\n$1\r\nc"}},
	{"torn-header", map[string]string{"a.aof": cmdStr("SET", "a", "b") + "*3\r\n$3"}},
	{"garbage", map[string]string{"a.aof": cmdStr("SELECT", "0") + cmdStr("SET", "a", "b") + "XXXX" + cmdStr("SET", "a", "b")}},
	{"bad-crlf", map[string]string{"a.aof": cmdStr("SET", "a", "b") + "*3\r\n$3\r\nSETxx$1\r\na\r\n$1\r\nb\r\n"}},
	{"open-multi", map[string]string{"a.aof": cmdStr("SET", "a", "b") + cmdStr("MULTI") + cmdStr("SET", "a", "c")}},
	{"multi-ok", map[string]string{"a.aof": cmdStr("MULTI") + cmdStr("SET", "a", "c") + cmdStr("EXEC")}},
	{"nested-multi", map[string]string{"a.aof": cmdStr("MULTI") + cmdStr("MULTI") + cmdStr("EXEC")}},
	{"exec-alone", map[string]string{"a.aof": cmdStr("SET", "a", "b") + cmdStr("EXEC")}},
	{"empty", map[string]string{"a.aof": ""}},
	{"zero-args", map[string]string{"a.aof": cmdStr("SET", "a", "b") + "*0\r\n" + cmdStr("SET", "a", "b")}},
	{"negative-len", map[string]string{"a.aof": cmdStr("SET", "a", "b") + "*1\r\n$-1\r\n"}},
	{"huge-len", map[string]string{"a.aof": cmdStr("SET", "a", "b") + "*1\r\n$99999999999999999999999\r\nab\r\n"}},
	{"len-too-long", map[string]string{"a.aof": cmdStr("SET", "a", "b") + "*1\r\n$100\r\nab\r\n"}},
	{"no-prefix", map[string]string{"a.aof": cmdStr("SET", "a", "b") + "*2\r\nx3\r\nSET\r\n"}},
	{"bad-number", map[string]string{"a.aof": cmdStr("SET", "a", "b") + "*2x\r\n$3\r\nSET\r\n"}},
	{"annotated", map[string]string{"a.aof": "#TS:1700000000\r\n" + cmdStr("SET", "a", "b")}},
	{"rdb-preamble", map[string]string{"a.aof": rdbImage(3) + cmdStr("SET", "a", "b")}},
	{"rdb-preamble-torn-tail", map[string]string{"a.aof": rdbImage(3) + cmdStr("SET", "a", "b") + "*3\r\n$3"}},
	{"rdb-only", map[string]string{"a.aof": rdbImage(2)}},
	{"mp-rdb-base/", map[string]string{
		"appendonly.aof.1.base.rdb": rdbImage(2),
		"appendonly.aof.1.incr.aof": cmdStr("SELECT", "0") + cmdStr("SET", "a", "b") + "*3\r\n$3\r\nSET\r\n$1\r\nc",
		"appendonly.aof.manifest":   "file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n"}},
	{"mp-valid/", map[string]string{
		"appendonly.aof.1.base.aof": cmdStr("SELECT", "0") + cmdStr("SET", "a", "b"),
		"appendonly.aof.1.incr.aof": cmdStr("SELECT", "0") + cmdStr("SET", "a", "b"),
		"appendonly.aof.manifest":   "file appendonly.aof.1.base.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n"}},
	{"mp-torn-incr/", map[string]string{
		"appendonly.aof.1.base.aof": cmdStr("SELECT", "0") + cmdStr("SET", "a", "b"),
		"appendonly.aof.1.incr.aof": cmdStr("SELECT", "0") + cmdStr("SET", "a", "b") + "*3\r\n$3\r\nSET\r\n$1\r\nc",
		"appendonly.aof.manifest":   "file appendonly.aof.1.base.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n"}},
	{"mp-bad-base/", map[string]string{
		"appendonly.aof.1.base.aof": cmdStr("SELECT", "0") + cmdStr("SET", "a", "b") + "XX",
		"appendonly.aof.1.incr.aof": cmdStr("SET", "a", "b"),
		"appendonly.aof.manifest":   "file appendonly.aof.1.base.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n"}},
	{"mp-two-incr/", map[string]string{
		"appendonly.aof.1.incr.aof": cmdStr("SET", "a", "b"),
		"appendonly.aof.2.incr.aof": "",
		"appendonly.aof.manifest":   "file appendonly.aof.1.incr.aof seq 1 type i\nfile appendonly.aof.2.incr.aof seq 2 type i\n"}},
	{"mp-bad-manifest/", map[string]string{
		"appendonly.aof.manifest": "file appendonly.aof.1.incr.aof seq 1 type x\n"}},
}

// setup writes a case into a fresh directory and returns the path to check.
func setupCase(t *testing.T, files map[string]string, multi bool) (string, string) {
	dir := t.TempDir()
	for name, data := range files {
		os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644)
	}
	if multi {
		return dir, filepath.Join(dir, "appendonly.aof.manifest")
	}
	return dir, filepath.Join(dir, "a.aof")
}

func snapshot(dir string) string {
	ents, _ := os.ReadDir(dir)
	var b strings.Builder
	for _, e := range ents {
		data, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		b.WriteString(e.Name() + "=" + string(data) + "\n")
	}
	return b.String()
}

// Same output, exit status and repaired files as redis-check-aof 7.0.
func TestCheckAOFMatchesRedis(t *testing.T) {
	redisTool, err := exec.LookPath("redis-check-aof")
	if err != nil {
		t.Skip("redis-check-aof not installed")
	}
	for _, c := range checkCases {
		for _, fix := range []bool{false, true} {
			multi := strings.HasSuffix(c.name, "/")
			name := c.name
			if fix {
				name += " --fix"
			}
			t.Run(name, func(t *testing.T) {
				dirA, pathA := setupCase(t, c.files, multi)
				dirB, pathB := setupCase(t, c.files, multi)
				args := []string{pathA}
				if fix {
					args = []string{"--fix", pathA}
				}
				var out bytes.Buffer
				code := runCheckAOF(args, strings.NewReader("y\n"), &out)
				rargs := []string{pathB}
				if fix {
					rargs = []string{"--fix", pathB}
				}
				cmd := exec.Command(redisTool, rargs...)
				cmd.Stdin = strings.NewReader("y\n")
				want, err := cmd.Output()
				wantCode := 0
				if ee, ok := err.(*exec.ExitError); ok {
					wantCode = ee.ExitCode()
				}
				got := normalize(strings.ReplaceAll(out.String(), dirA, "DIR"))
				exp := normalize(strings.ReplaceAll(string(want), dirB, "DIR"))
				if got != exp || code != wantCode {
					t.Errorf("redgo (exit %d):\n%s\nredis-check-aof (exit %d):\n%s", code, got, wantCode, exp)
				}
				if a, b := snapshot(dirA), snapshot(dirB); a != b {
					t.Errorf("files differ after the check:\nredgo:\n%q\nredis:\n%q", a, b)
				}
			})
		}
	}
}

// normalize drops what redis-check-aof adds when it reports a bad
// manifest through the server's logger: "pid:C date # " prefixes and
// blank lines.
func normalize(s string) string {
	s = logPrefix.ReplaceAllString(s, "")
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l != "" {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

var logPrefix = regexp.MustCompile(`(?m)^\d+:C \d+ \w+ \d+ [\d:.]+ . `)

func TestCheckAOFFixAsksFirst(t *testing.T) {
	_, path := setupCase(t, checkCases[1].files, false)
	before, _ := os.ReadFile(path)
	var out bytes.Buffer
	if code := runCheckAOF([]string{"--fix", path}, strings.NewReader("n\n"), &out); code != 1 {
		t.Fatalf("exit %d", code)
	}
	if !strings.Contains(out.String(), "Aborting...") {
		t.Fatalf("output:\n%s", out.String())
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(before, after) {
		t.Fatal("file changed without consent")
	}
	out.Reset()
	if code := runCheckAOF([]string{"--fix", path}, strings.NewReader("y\n"), &out); code != 0 {
		t.Fatalf("exit %d:\n%s", code, out.String())
	}
	out.Reset()
	if code := runCheckAOF([]string{path}, strings.NewReader(""), &out); code != 0 || !strings.Contains(out.String(), "is valid") {
		t.Fatalf("after fix (exit %d):\n%s", code, out.String())
	}
}
