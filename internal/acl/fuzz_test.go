package acl

import (
	"strings"
	"testing"
)

// FuzzRules applies arbitrary rules (one per line) to a new user: it
// must never panic, a refused list must leave no user, and without
// selectors in play the rendering, applied again, must give the same
// user.
func FuzzRules(f *testing.F) {
	for _, s := range []string{
		"on\n>pw\n~k*\n+get",
		"+@all\n-@dangerous\n+config|get",
		"(+get ~x)\n(\n+set\n)",
		"%RW~a\n%R~b\n&c\nallchannels",
		"+select|0\n-select\nreset",
		"#5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8\n!5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8",
		"%\n~\n&\n+\n-\n+@\n(\n)",
	} {
		f.Add(s)
	}
	cat := testCatalog()
	f.Fuzz(func(t *testing.T, in string) {
		rules := strings.Split(in, "\n")
		us := NewUsers(cat)
		u, err := us.SetUser("u", rules)
		if err != nil {
			if us.Get("u") != nil {
				t.Fatal("a refused SETUSER created the user")
			}
			return
		}
		d := u.Describe()
		_ = u.Info()
		if strings.ContainsAny(in, "() \t\r\v\f\x00") {
			// As in Redis: a pattern's parentheses, a first-arg's spaces
			// do not survive the rendering.
			return
		}
		again, err := NewUsers(cat).SetUser("u", splitRendered(d))
		if err != nil {
			t.Fatalf("rendering %q does not apply: %v", d, err)
		}
		if again.Describe() != d {
			t.Fatalf("rendering %q applies as %q", d, again.Describe())
		}
	})
}

// FuzzLoadFile loads arbitrary ACL file text: it must never panic, a
// failed load changes nothing, and a loaded file saves to text that
// loads to the same users.
func FuzzLoadFile(f *testing.F) {
	for _, s := range []string{
		"user default on nopass ~* &* +@all\nuser a on >x ~k* +get (+set ~w*)\n",
		"user a on\nuser a off\n",
		"user b (+get\nnotuser\n\r\n",
		"user c ~x allkeys ~y +nosuch\n",
		"user  d  on  \tnopass\n",
	} {
		f.Add(s)
	}
	cat := testCatalog()
	f.Fuzz(func(t *testing.T, text string) {
		us := NewUsers(cat)
		us.SetUser("keep", []string{"on"})
		before := strings.Join(us.List(), "\n")
		if _, err := us.Load("f.acl", text); err != nil {
			if after := strings.Join(us.List(), "\n"); after != before {
				t.Fatalf("failed load changed users:\n%s\n->\n%s", before, after)
			}
			return
		}
		saved := us.Render()
		if strings.ContainsAny(text, "()\t\r\v\f\x00") {
			return
		}
		us2 := NewUsers(cat)
		if _, err := us2.Load("f.acl", saved); err != nil {
			t.Fatalf("saved text %q does not load: %v", saved, err)
		}
		if us2.Render() != saved {
			t.Fatalf("saved %q reloads as %q", saved, us2.Render())
		}
	})
}
