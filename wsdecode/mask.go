package wsdecode

import "encoding/binary"

// maskKey64 returns the 4-byte masking key repeated to 8 bytes, rotated so
// that its first byte is key[pos&3] (the key phase of the next payload byte).
func maskKey64(key [4]byte, pos int) uint64 {
	k := binary.LittleEndian.Uint32(key[:])
	if r := uint(pos&3) * 8; r != 0 {
		k = k>>r | k<<(32-r)
	}
	return uint64(k) | uint64(k)<<32
}

// maskCopy writes src XOR the masking key into dst (RFC 6455 §5.3), starting
// at key phase pos (the index of the first byte in the frame payload, mod 4),
// and returns the phase of the byte after src. dst must be at least as long as
// src; dst and src may be the same slice (in-place unmasking) but must not
// otherwise overlap. It works 32 and 8 bytes at a time in pure Go.
func maskCopy(dst, src []byte, key [4]byte, pos int) int {
	n := len(src)
	dst = dst[:n]
	i := 0
	if n >= 8 {
		k := maskKey64(key, pos)
		for ; i+32 <= n; i += 32 {
			s := src[i : i+32 : i+32]
			d := dst[i : i+32 : i+32]
			binary.LittleEndian.PutUint64(d[0:8], binary.LittleEndian.Uint64(s[0:8])^k)
			binary.LittleEndian.PutUint64(d[8:16], binary.LittleEndian.Uint64(s[8:16])^k)
			binary.LittleEndian.PutUint64(d[16:24], binary.LittleEndian.Uint64(s[16:24])^k)
			binary.LittleEndian.PutUint64(d[24:32], binary.LittleEndian.Uint64(s[24:32])^k)
		}
		for ; i+8 <= n; i += 8 {
			binary.LittleEndian.PutUint64(dst[i:i+8], binary.LittleEndian.Uint64(src[i:i+8])^k)
		}
	}
	for ; i < n; i++ {
		dst[i] = src[i] ^ key[(pos+i)&3]
	}
	return (pos + n) & 3
}
