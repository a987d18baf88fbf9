// Package typeid encodes and decodes TypeIDs: a type prefix, an underscore and
// a UUID written as 26 lowercase Crockford base32 characters
// (https://github.com/jetify-com/typeid/tree/main/spec). New IDs carry a
// UUIDv7, so they sort by creation time and paginate on a single index.
package typeid

import (
	"time"

	"github.com/google/uuid"
)

const alphabet = "0123456789abcdefghjkmnpqrstvwxyz"

// suffixLen is the length of the encoded UUID: 128 bits in 5-bit characters,
// with the first character carrying only 3 bits.
const suffixLen = 26

var decodeTable = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for i := 0; i < len(alphabet); i++ {
		t[alphabet[i]] = byte(i)
	}
	return t
}()

// New returns a new TypeID with the given prefix and a fresh UUIDv7.
func New(prefix string) string {
	u, err := uuid.NewV7()
	if err != nil {
		// NewV7 fails only when the system's random source does, and nothing
		// sensible can carry on without randomness.
		panic("typeid: " + err.Error())
	}
	return Encode(prefix, u)
}

// Floor returns the smallest TypeID with the given prefix whose UUIDv7 was
// made at t or later: every ID made before t sorts before it, every ID made
// from t on sorts after it.
func Floor(prefix string, t time.Time) string {
	var u uuid.UUID
	ms := uint64(t.UnixMilli())
	for i := range 6 {
		u[i] = byte(ms >> (40 - 8*i))
	}
	return Encode(prefix, u)
}

// Encode returns the TypeID of u with the given prefix.
func Encode(prefix string, u uuid.UUID) string {
	buf := make([]byte, 0, len(prefix)+1+suffixLen)
	if prefix != "" {
		buf = append(buf, prefix...)
		buf = append(buf, '_')
	}
	// Read the UUID as a 130-bit big-endian number with two leading zero
	// bits, five bits at a time.
	var acc uint32
	bits := 2
	for _, b := range u {
		acc = acc<<8 | uint32(b)
		bits += 8
		for bits >= 5 {
			bits -= 5
			buf = append(buf, alphabet[(acc>>bits)&31])
		}
	}
	return string(buf)
}

// Decode splits id into its prefix and UUID. It reports false when id does
// not carry exactly the given prefix or its suffix is not a canonical
// encoding.
func Decode(prefix, id string) (uuid.UUID, bool) {
	var u uuid.UUID
	if prefix != "" {
		if len(id) != len(prefix)+1+suffixLen || id[:len(prefix)] != prefix || id[len(prefix)] != '_' {
			return u, false
		}
		id = id[len(prefix)+1:]
	}
	if len(id) != suffixLen || id[0] > '7' {
		return u, false
	}
	var acc uint32
	bits := -2 // the first character's two high bits are padding
	n := 0
	for i := 0; i < suffixLen; i++ {
		v := decodeTable[id[i]]
		if v == 0xff {
			return u, false
		}
		acc = acc<<5 | uint32(v)
		bits += 5
		if bits >= 8 {
			bits -= 8
			u[n] = byte(acc >> bits)
			n++
		}
	}
	return u, true
}

// Valid reports whether id is a TypeID with the given prefix.
func Valid(prefix, id string) bool {
	_, ok := Decode(prefix, id)
	return ok
}
