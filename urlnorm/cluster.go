package urlnorm

import (
	"crypto/sha1"
	"encoding/hex"
)

// namespaceURL is RFC 9562's (formerly RFC 4122's) name space for URLs,
// 6ba7b811-9dad-11d1-80b4-00c04fd430c8, so any UUID library reproduces a
// cluster ID as uuid5(NAMESPACE_URL, normalized).
var namespaceURL = [16]byte{
	0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1,
	0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8,
}

// Cluster is the ID of the cluster of reports about normalized, a URL as
// Normalize returns it: the version 5 (SHA-1, name-based) UUID of the URL in
// the URL name space, in lower-case 8-4-4-4-12 form. Every instance computes
// the same ID for the same URL with no coordination. Cluster does not
// normalise: pass it a raw URL and the ID differs from its content's cluster.
func Cluster(normalized string) string {
	h := sha1.New()
	h.Write(namespaceURL[:])
	h.Write([]byte(normalized))
	var u [16]byte
	copy(u[:], h.Sum(nil))
	u[6] = u[6]&0x0f | 0x50 // version 5
	u[8] = u[8]&0x3f | 0x80 // variant 10x, RFC 9562
	var out [36]byte
	hex.Encode(out[0:8], u[0:4])
	hex.Encode(out[9:13], u[4:6])
	hex.Encode(out[14:18], u[6:8])
	hex.Encode(out[19:23], u[8:10])
	hex.Encode(out[24:36], u[10:16])
	out[8], out[13], out[18], out[23] = '-', '-', '-', '-'
	return string(out[:])
}
