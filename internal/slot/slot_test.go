package slot

import "testing"

func TestCRC16(t *testing.T) {
	// Reference value from the Redis Cluster spec: CRC16("123456789") = 0x31C3.
	if got := CRC16([]byte("123456789")); got != 0x31C3 {
		t.Fatalf("CRC16 = %#x, want 0x31c3", got)
	}
}

func TestOf(t *testing.T) {
	cases := map[string]int{
		"foo":                  12182,
		"bar":                  5061,
		"{user1000}.following": Of([]byte("user1000")),
		"foo{}{bar}":           Of([]byte("foo{}{bar}")),
		"foo{{bar}}zap":        Of([]byte("{bar")),
		"foo{bar}{zap}":        Of([]byte("bar")),
		"{":                    Of([]byte("{")),
	}
	for k, want := range cases {
		if got := Of([]byte(k)); got != want {
			t.Errorf("Of(%q) = %d, want %d", k, got, want)
		}
	}
}
