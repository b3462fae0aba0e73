// Package slot maps keys to Redis Cluster hash slots: CRC16 (XMODEM) of the
// key, or of its {hash tag}, modulo 16384.
package slot

// Count is the number of hash slots in a cluster.
const Count = 16384

var crcTable [256]uint16

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
		crcTable[i] = crc
	}
}

// CRC16 is CRC16-CCITT (XMODEM): poly 0x1021, init 0, no reflection.
func CRC16(b []byte) uint16 {
	var crc uint16
	for _, c := range b {
		crc = crc<<8 ^ crcTable[byte(crc>>8)^c]
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
