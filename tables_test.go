package nahook

import (
	"fmt"
	"testing"
	"unsafe"

	"github.com/nahook/nahook/store"
)

// A typeRoute is two cache lines, the first holding all that routing an
// event for no application reads: adding a field, or moving one, shows
// here rather than as a slower Resolve.
func TestTypeRouteLayout(t *testing.T) {
	var tr typeRoute
	if off := unsafe.Offsetof(tr.unowned) + unsafe.Sizeof(tr.unowned); off > 64 {
		t.Errorf("the first cache line of a typeRoute ends at byte %d, after unowned; want 64 at most", off)
	}
	if off := unsafe.Offsetof(tr.all); off < 64 {
		t.Errorf("typeRoute.all is at byte %d, in the first cache line", off)
	}
	if size := unsafe.Sizeof(tr); size != 128 {
		t.Errorf("a typeRoute is %d bytes; want 128, two cache lines", size)
	}
}

// Keys whose hashes share a home slot are all found, by probing, and a
// hash that shares it without being held is not.
func TestKeyTableCollisions(t *testing.T) {
	var slots []keySlot
	for i := range 12 {
		var h store.KeyHash
		h[0] = 7
		h[1] = byte(i % 3) // the home slot comes from bytes 1 to 8
		h[20] = byte(i)
		slots = append(slots, keySlot{hash: h, route: keyRoute{ws: &wsRoutes{}, id: APIKeyID(fmt.Sprint("key_", i))}})
	}
	table := newKeyTable(slots)
	for i, s := range slots {
		if got := table.find(&s.hash); got == nil || got.id != APIKeyID(fmt.Sprint("key_", i)) {
			t.Errorf("key %d: found %v", i, got)
		}
	}
	missing := slots[0].hash
	missing[31] = 1
	if got := table.find(&missing); got != nil {
		t.Errorf("a hash the table does not hold found %v", got.id)
	}
	if got := keyTable(nil).find(&missing); got != nil {
		t.Errorf("an empty table found %v", got.id)
	}
	// Of two slots with one hash, the later wins, as in a map.
	again := newKeyTable(append(slots, keySlot{hash: slots[4].hash, route: keyRoute{ws: &wsRoutes{}, id: "key_new"}}))
	if got := again.find(&slots[4].hash); got == nil || got.id != "key_new" {
		t.Errorf("a hash given twice finds %v; want the later", got)
	}
}

// Every published type is found by its name, with its route, and names
// that differ from one by a byte, or by length, find nothing.
func TestTypeTableFind(t *testing.T) {
	routes := map[string]*typeRoute{}
	for i := range 40 {
		name := fmt.Sprintf("order.event_%d", i)
		routes[name] = &typeRoute{id: EventTypeID(fmt.Sprint("et_", i)), unowned: []Target{{ID: EndpointID(fmt.Sprint("ep_", i))}}}
	}
	table := newTypeTable(routes)
	for name, want := range routes {
		got := table.find(name)
		if got == nil || got.id != want.id || got.name != name || len(got.unowned) != 1 || got.unowned[0] != want.unowned[0] {
			t.Errorf("%s: found %+v; want %+v", name, got, want)
		}
	}
	for _, name := range []string{"", "order.event_", "order.event_40", "order.event_1x", "Order.event_1"} {
		if got := table.find(name); got != nil {
			t.Errorf("%q found %s", name, got.name)
		}
	}
	if got := typeTable(nil).find("order.created"); got != nil {
		t.Errorf("an empty table found %s", got.name)
	}
}

// A keySlot is two cache lines: a lookup reads the digest and the key's
// route, adjacent, in one go.
func TestKeySlotLayout(t *testing.T) {
	if size := unsafe.Sizeof(keySlot{}); size != 128 {
		t.Errorf("a keySlot is %d bytes; want 128, two cache lines", size)
	}
}
