package nahook

import (
	"fmt"
	"strings"
	"testing"
	"unsafe"

	"github.com/nahook/nahook/store"
)

// A typeRoute's first cache line holds all that routing an event for no
// application reads but the name's bytes, and its head those, right
// after: adding a field, or moving one, shows here rather than as a
// slower Resolve.
func TestTypeRouteLayout(t *testing.T) {
	var tr typeRoute
	if off := unsafe.Offsetof(tr.unowned) + unsafe.Sizeof(tr.unowned); off > 64 {
		t.Errorf("the first cache line of a typeRoute ends at byte %d, after unowned; want 64 at most", off)
	}
	if off := unsafe.Offsetof(tr.head); off != 64 {
		t.Errorf("typeRoute.head is at byte %d; want 64, right after the first line", off)
	}
	if size := unsafe.Sizeof(tr); size != 160 {
		t.Errorf("a typeRoute is %d bytes; want 160", size)
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
		slots = append(slots, keySlot{hash: h, route: &keyRoute{ws: &wsRoutes{}, id: APIKeyID(fmt.Sprint("key_", i))}})
	}
	table := newKeyTable(slots)
	for i, s := range slots {
		if got := table.find(&s.hash); got == nil || got.route.id != APIKeyID(fmt.Sprint("key_", i)) {
			t.Errorf("key %d: found %v", i, got)
		}
	}
	missing := slots[0].hash
	missing[31] = 1
	if got := table.find(&missing); got != nil {
		t.Errorf("a hash the table does not hold found %v", got.route.id)
	}
	if got := keyTable(nil).find(&missing); got != nil {
		t.Errorf("an empty table found %v", got.route.id)
	}
	// Of two slots with one hash, the later wins, as in a map.
	again := newKeyTable(append(slots, keySlot{hash: slots[4].hash, route: &keyRoute{ws: &wsRoutes{}, id: "key_new"}}))
	if got := again.find(&slots[4].hash); got == nil || got.route.id != "key_new" {
		t.Errorf("a hash given twice finds %v; want the later", got)
	}
}

// Every published type is found by its name, with its route, and names
// that differ from one by a byte, or by length, find nothing.
func TestTypeTableFind(t *testing.T) {
	routes := map[string]*typeRoute{}
	for i := range 40 {
		// Half the names fit in a slot's head, half are longer.
		name := fmt.Sprintf("order.event_%d", i)
		if i%2 == 1 {
			name = fmt.Sprintf("billing.subscription.payment_method.updated_%d", i)
		}
		routes[name] = &typeRoute{id: EventTypeID(fmt.Sprint("et_", i)), unowned: []Target{{ID: EndpointID(fmt.Sprint("ep_", i))}}}
	}
	table := newTypeTable(routes)
	for name, want := range routes {
		got := table.find(name)
		if got == nil || got.id != want.id || got.name != name || len(got.unowned) != 1 || got.unowned[0] != want.unowned[0] {
			t.Errorf("%s: found %+v; want %+v", name, got, want)
		}
	}
	for _, name := range []string{"", "order.event_", "order.event_40", "order.event_0x", "Order.event_0",
		"billing.subscription.payment_method.updated_", "billing.subscription.payment_method.updated_2"} {
		if got := table.find(name); got != nil {
			t.Errorf("%q found %s", name, got.name)
		}
	}
	if got := typeTable(nil).find("order.created"); got != nil {
		t.Errorf("an empty table found %s", got.name)
	}
}

// sameName compares the whole name, in the head and past it, and its
// length, whichever way two names differ.
func TestSameName(t *testing.T) {
	for _, name := range []string{"", "a", "order.created", strings.Repeat("x", 31), strings.Repeat("x", 32),
		strings.Repeat("x", 33), "billing.subscription.payment_method.updated"} {
		tr := newTypeTable(map[string]*typeRoute{name: {}}).find(name)
		if tr == nil || !tr.sameName(name) {
			t.Fatalf("%q is not the name of its own slot", name)
		}
		others := []string{name + "x", "x" + name}
		if name != "" {
			others = append(others, name[:len(name)-1], name[:len(name)-1]+"\x00", "\x00"+name[1:])
		}
		if len(name) > 32 {
			others = append(others, name[:32]+"Y"+name[33:]) // differs in the tail only
		}
		for _, other := range others {
			if other != name && tr.sameName(other) {
				t.Errorf("the slot of %q takes %q for its name", name, other)
			}
		}
	}
}

// A keySlot is one cache line: a lookup reads the digest and what the
// type's lookup needs in one go.
func TestKeySlotLayout(t *testing.T) {
	if size := unsafe.Sizeof(keySlot{}); size != 64 {
		t.Errorf("a keySlot is %d bytes; want 64, one cache line", size)
	}
}
