package server

import (
	"testing"

	"redgo/internal/acl"
	"redgo/internal/commands"
)

// BenchmarkACLCheck is dispatch's permission check of SET for a user
// with key patterns, and for the default user (the flag test).
func BenchmarkACLCheck(b *testing.B) {
	us := acl.NewUsers(catalog())
	u, err := us.SetUser("u", []string{"on", "+@all", "~key:*"})
	if err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		u    *acl.User
		args []string
	}{
		{"restricted-set", u, []string{"SET", "key:1", "v"}},
		{"restricted-get", u, []string{"GET", "key:1"}},
		{"restricted-mset", u, []string{"MSET", "key:1", "v", "key:2", "v"}},
		{"default-set", us.Default(), []string{"SET", "key:1", "v"}},
	} {
		args := make([][]byte, len(tc.args))
		for i, a := range tc.args {
			args[i] = []byte(a)
		}
		cmd := commands.Lookup(args[0])
		var req acl.Request
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if res, _ := aclCheck(tc.u, cmd, args, &req); res != acl.OK {
					b.Fatal(res)
				}
			}
		})
	}
}
