// Package slot maps keys to Redis Cluster hash slots: CRC16 (XMODEM) of the
// key, or of its {hash tag}, modulo 16384.
package slot

// Count is the number of hash slots in a cluster.
const Count = 16384

// crcTables[0] is the byte-at-a-time table of CRC16/XMODEM (polynomial
// 0x1021); crcTables[k] advances an entry of crcTables[k-1] by one more
// zero byte, so that eight bytes are folded in with eight independent
// lookups (slicing-by-8) instead of eight dependent ones: the slot of
// every key of every command is computed here.
var crcTables [8][256]uint16

func init() {
	for i := 0; i < 256; i++ {
		crc := uint16(i) << 8
		for j := 0; j < 8; j++ {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
		crcTables[0][i] = crc
	}
	for k := 1; k < 8; k++ {
		for i := 0; i < 256; i++ {
			c := crcTables[k-1][i]
			crcTables[k][i] = c<<8 ^ crcTables[0][c>>8]
		}
	}
}

// CRC16 is CRC16/XMODEM of b, as the cluster spec defines a key's hash.
func CRC16(b []byte) uint16 {
	var crc uint16
	t := &crcTables
	for len(b) >= 8 {
		crc = t[7][b[0]^byte(crc>>8)] ^ t[6][b[1]^byte(crc)] ^
			t[5][b[2]] ^ t[4][b[3]] ^ t[3][b[4]] ^ t[2][b[5]] ^
			t[1][b[6]] ^ t[0][b[7]]
		b = b[8:]
	}
	for _, c := range b {
		crc = crc<<8 ^ t[0][byte(crc>>8)^c]
	}
	return crc
}

// HashPart returns the part of key that is hashed: the body of the first
// {...} if it is non-empty, else the whole key.
func HashPart(key []byte) []byte {
	for i, c := range key {
		if c == '{' {
			for j := i + 1; j < len(key); j++ {
				if key[j] == '}' {
					if j == i+1 {
						return key
					}
					return key[i+1 : j]
				}
			}
			return key
		}
	}
	return key
}

// Of returns the hash slot of key.
func Of(key []byte) int {
	return int(CRC16(HashPart(key)) & (Count - 1))
}

// OfString is Of for a string key.
func OfString(key string) int {
	return Of([]byte(key))
}
