package rdb

import "math/bits"

// CRC-64 as Redis computes it (crc64.c): the "Jones" polynomial
// 0xad93d23594c935a9, reflected input and output, initial value 0, no
// final xor. crc64("123456789") = 0xe9c6d914c4b8d9ca. The table-driven
// update below processes 8 bytes per step (slicing-by-8).

const jonesPoly = 0xad93d23594c935a9

var crcTable [8][256]uint64

func init() {
	rev := bits.Reverse64(jonesPoly)
	for i := 0; i < 256; i++ {
		c := uint64(i)
		for j := 0; j < 8; j++ {
			if c&1 == 1 {
				c = c>>1 ^ rev
			} else {
				c >>= 1
			}
		}
		crcTable[0][i] = c
	}
	for i := 0; i < 256; i++ {
		c := crcTable[0][i]
		for k := 1; k < 8; k++ {
			c = crcTable[0][c&0xff] ^ c>>8
			crcTable[k][i] = c
		}
	}
}

// CRC64 continues the checksum crc over p.
func CRC64(crc uint64, p []byte) uint64 {
	t := &crcTable
	for len(p) >= 8 {
		crc ^= uint64(p[0]) | uint64(p[1])<<8 | uint64(p[2])<<16 | uint64(p[3])<<24 |
			uint64(p[4])<<32 | uint64(p[5])<<40 | uint64(p[6])<<48 | uint64(p[7])<<56
		crc = t[7][crc&0xff] ^ t[6][crc>>8&0xff] ^ t[5][crc>>16&0xff] ^ t[4][crc>>24&0xff] ^
			t[3][crc>>32&0xff] ^ t[2][crc>>40&0xff] ^ t[1][crc>>48&0xff] ^ t[0][crc>>56]
		p = p[8:]
	}
	for _, b := range p {
		crc = t[0][byte(crc)^b] ^ crc>>8
	}
	return crc
}
