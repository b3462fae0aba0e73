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

// crcBytewise is CRC16/XMODEM one bit at a time, the definition.
func crcBytewise(b []byte) uint16 {
	var crc uint16
	for _, c := range b {
		crc ^= uint16(c) << 8
		for j := 0; j < 8; j++ {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}

func TestCRC16Lengths(t *testing.T) {
	b := make([]byte, 64)
	for i := range b {
		b[i] = byte(i*131 + 7)
	}
	for n := 0; n <= len(b); n++ {
		if got, want := CRC16(b[:n]), crcBytewise(b[:n]); got != want {
			t.Fatalf("CRC16 of %d bytes = %#x, want %#x", n, got, want)
		}
	}
}

func FuzzCRC16(f *testing.F) {
	f.Add([]byte("123456789"))
	f.Add([]byte("key:000000012345"))
	f.Add([]byte("{user1000}.following"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := CRC16(b), crcBytewise(b); got != want {
			t.Fatalf("CRC16(%q) = %#x, want %#x", b, got, want)
		}
	})
}

func BenchmarkOf(b *testing.B) {
	key := []byte("key:000000012345")
	for i := 0; i < b.N; i++ {
		Of(key)
	}
}
