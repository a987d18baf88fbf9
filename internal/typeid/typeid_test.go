package typeid

import (
	"sort"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/matryer/is"
)

// The vectors are the valid cases of the TypeID specification.
func TestSpecVectors(t *testing.T) {
	vectors := []struct{ name, typeid, prefix, uuid string }{
		{"nil", "00000000000000000000000000", "", "00000000-0000-0000-0000-000000000000"},
		{"one", "00000000000000000000000001", "", "00000000-0000-0000-0000-000000000001"},
		{"ten", "0000000000000000000000000a", "", "00000000-0000-0000-0000-00000000000a"},
		{"sixteen", "0000000000000000000000000g", "", "00000000-0000-0000-0000-000000000010"},
		{"thirty-two", "00000000000000000000000010", "", "00000000-0000-0000-0000-000000000020"},
		{"max-valid", "7zzzzzzzzzzzzzzzzzzzzzzzzz", "", "ffffffff-ffff-ffff-ffff-ffffffffffff"},
		{"valid-alphabet", "prefix_0123456789abcdefghjkmnpqrs", "prefix", "0110c853-1d09-52d8-d73e-1194e95b5f19"},
		{"valid-uuidv7", "prefix_01h455vb4pex5vsknk084sn02q", "prefix", "01890a5d-ac96-774b-bcce-b302099a8057"},
		{"prefix-underscore", "pre_fix_00000000000000000000000000", "pre_fix", "00000000-0000-0000-0000-000000000000"},
	}
	for _, v := range vectors {
		t.Run(v.name, func(t *testing.T) {
			is := is.New(t)
			u := uuid.MustParse(v.uuid)
			is.Equal(Encode(v.prefix, u), v.typeid) // encoding matches the spec
			got, ok := Decode(v.prefix, v.typeid)
			is.True(ok)      // the spec's TypeID decodes
			is.Equal(got, u) // to the spec's UUID
		})
	}
}

func TestDecodeRejects(t *testing.T) {
	for _, id := range []string{
		"",
		"app_",
		"app_0000000000000000000000000",   // 25 characters
		"app_000000000000000000000000000", // 27 characters
		"app_8zzzzzzzzzzzzzzzzzzzzzzzzz",  // overflows 128 bits
		"app_0000000000000000000000000u",  // u is not in the alphabet
		"app_0000000000000000000000000A",  // upper case is not canonical
		"env_00000000000000000000000000",  // other prefix
		"app00000000000000000000000000",   // no separator
	} {
		if Valid("app", id) {
			t.Errorf("Valid(app, %q) = true, want false", id)
		}
	}
}

func TestNewRoundTripsAndSortsByTime(t *testing.T) {
	is := is.New(t)
	ids := make([]string, 1000)
	for i := range ids {
		ids[i] = New("ep")
		u, ok := Decode("ep", ids[i])
		is.True(ok)                            // a new ID decodes
		is.Equal(Encode("ep", u), ids[i])      // and re-encodes to itself
		is.Equal(u.Version(), uuid.Version(7)) // new IDs carry UUIDv7
	}
	is.True(sort.StringsAreSorted(ids)) // IDs made one after another sort in creation order
}

func TestFloorOrdersByTime(t *testing.T) {
	before := New("msg")
	time.Sleep(2 * time.Millisecond)
	floor := Floor("msg", time.Now())
	time.Sleep(2 * time.Millisecond)
	after := New("msg")
	if !(before < floor && floor < after) {
		t.Fatalf("want %s < %s < %s", before, floor, after)
	}
	if !Valid("msg", floor) {
		t.Fatalf("Floor made %q, not a valid TypeID", floor)
	}
}
