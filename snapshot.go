// The routing snapshot: an immutable, sharded picture of who receives
// what, built from the store's routing data, and the copy-on-write step
// that swaps workspaces in and out of it. Readers need no lock; see
// freshness.go for how a Router keeps it current.

package nahook

import (
	"crypto/sha256"
	"maps"

	"github.com/nahook/nahook/store"
)

// snapshot is an immutable picture of routing: replaced whole, never
// changed, so readers need no lock. Both of its maps are sharded, so that
// a change copies only the shards it touches, not one entry per tenant.
type snapshot struct {
	// keys finds active environment keys by hash, sharded on the hash's
	// first byte.
	keys [256]keyTable
	// workspaces is sharded on wsShard: reloads read it.
	workspaces [256]map[idKey]*wsRoutes
	// places finds an environment by workspace and environment ID (zero
	// for the default one) in one map read, for the keyless answers
	// (Router.Route): its entries hold the pointers in place, so that
	// reaching the environment's routes costs no read of the workspace.
	// Sharded on wsShard, like workspaces.
	places [256]map[placeKey]place
}

// placeKey is a workspace ID and an environment ID, zero for the
// workspace's default environment.
type placeKey struct{ ws, env idKey }

// place is where a keyless call lands: a workspace and one of its
// environments.
type place struct {
	w   *wsRoutes
	env *envRoutes
}

// place returns the workspace and environment a keyless call names, env
// empty meaning the default one: one map read when both exist.
func (s *snapshot) place(ws WorkspaceID, envID EnvironmentID) (*wsRoutes, *envRoutes, error) {
	wk, okWS := keyOf(ws)
	ek, okEnv := idKey{}, true
	if envID != "" {
		ek, okEnv = keyOf(envID)
	}
	if okWS && okEnv {
		if p, ok := s.places[wsShard(ws)][placeKey{wk, ek}]; ok {
			return p.w, p.env, nil
		}
	}
	if s.workspace(ws) == nil {
		return nil, nil, store.Missing("workspaceId", ws)
	}
	return nil, nil, store.Missing("environmentId", envID)
}

// placeKeys returns the keys places holds for w: one per environment, and
// the zero environment for the default one.
func (w *wsRoutes) placeKeys(yield func(placeKey, *envRoutes) bool) {
	wk, ok := keyOf(w.id)
	if !ok {
		return
	}
	if w.defaultEnv != nil && !yield(placeKey{ws: wk}, w.defaultEnv) {
		return
	}
	for id, env := range w.envs {
		if ek, ok := keyOf(id); ok && !yield(placeKey{ws: wk, env: ek}, env) {
			return
		}
	}
}

// wsShard spreads workspace IDs over the shards by their last two
// characters, which are random bits of the UUIDv7.
func wsShard(id WorkspaceID) byte {
	if len(id) < 2 {
		return 0
	}
	return id[len(id)-1]*31 + id[len(id)-2]
}

func (s *snapshot) workspace(id WorkspaceID) *wsRoutes {
	k, ok := keyOf(id)
	if !ok {
		return nil
	}
	return s.workspaces[wsShard(id)][k]
}

// keyOf returns id as an idKey, or false if it is too long to be one (and
// so names nothing the snapshot holds). Keyed by idKey, a map compares the
// keys in its own memory, where string keys make it read each key's bytes
// elsewhere: one cache miss less per lookup, or several in a small map.
func keyOf[ID ~string](id ID) (idKey, bool) {
	var k idKey
	if len(id) > len(k) || id == "" {
		return k, false
	}
	copy(k[:], id)
	return k, true
}

// each calls fn for every workspace.
func (s *snapshot) each(fn func(*wsRoutes)) {
	for _, shard := range s.workspaces {
		for _, w := range shard {
			fn(w)
		}
	}
}

// keyRoute is where an environment key sends events. The snapshot's key
// table holds a copy in the key's slot, where Resolve reads it, and
// nothing else of the key's workspace and environment, before the event
// type's slot: each pointer followed is a cache miss that the next one
// waits for.
type keyRoute struct {
	id APIKeyID
	// wsID and envID are ws.id and env.id, held here so that a route reads
	// no more of ws and env than its answer needs; env.types is held in the
	// key's slot (keySlot).
	wsID  WorkspaceID
	envID EnvironmentID
	ws    *wsRoutes
	env   *envRoutes
}

type wsRoutes struct {
	id      WorkspaceID
	version int64 // the routing version it was loaded at
	keys    map[store.KeyHash]*keyRoute
	// envs holds every environment of the workspace, empty ones too, and
	// defaultEnv the one a query naming no environment means.
	envs       map[EnvironmentID]*envRoutes
	defaultEnv *envRoutes

	types     map[string]*eventTypeInfo
	endpoints map[EndpointID]*endpointInfo
	ordered   []*endpointInfo // by ID
}

type envRoutes struct {
	id EnvironmentID
	// types holds every event type published in the environment, by name,
	// with the endpoints it goes to: wildcards are expanded here, once.
	// routes is the same while the snapshot is built.
	types  typeTable
	routes map[string]*typeRoute
}

// typeRoute is where an event of one type goes in one environment, for
// each audience an event can have, worked out in advance so that choosing
// costs a lookup at most: every list is in ID order and shares nothing
// with callers.
//
// It is a slot of its environment's typeTable (TestTypeRouteLayout): its
// first cache line holds all that finding the type and routing an event
// for no application read but the name's bytes, and head holds those, for
// a name of up to 32 bytes, in the slot itself. Every load of such a
// route is at a known offset from the slot, so all are issued together
// once the slot is known: none waits for a pointer read by another.
type typeRoute struct {
	hash uint64 // the name's, with typeSeed; 0 in an empty slot
	name string
	id   EventTypeID
	// unowned are those of all without an application: the audience of an
	// event sent for no application.
	unowned []Target
	// head is the start of name, compared in place of the bytes name
	// points to (sameName).
	head [32]byte

	// all is every subscribed endpoint: a broadcast's audience.
	all []Target
	// apps are those of all owned by each application: the audience of an
	// event sent for it. byApp is the same while the snapshot is built.
	apps  idIndex[[]Target]
	byApp map[ApplicationID][]Target
}

// targets returns the endpoints an event of the type reaches when sent for
// app, or, with no app, as a broadcast or not.
func (tr *typeRoute) targets(app ApplicationID, broadcast bool) []Target {
	switch {
	case app != "":
		t, _ := tr.apps.get(string(app))
		return t
	case broadcast:
		return tr.all
	}
	return tr.unowned
}

// idIndex maps IDs to values in one flat, open-addressed table: a lookup
// reads one slot, or a few neighbours, where a Go map keyed by strings
// reads its header, its groups and the string of every key it compares,
// each a cache miss on a large snapshot. It is built once and only read.
type idIndex[V any] struct {
	slots []idSlot[V] // a power of two long, at most three quarters full
	shift uint8
}

// idSlot holds its ID in place, so that comparing it reads no other
// memory; an ID too long for it (none nahook makes) is not indexed.
type idSlot[V any] struct {
	id  idKey
	val V
}

// idKey is an ID, NUL-padded: a typeid is 30 bytes.
type idKey [32]byte

// newIDIndex indexes m.
func newIDIndex[ID ~string, V any](m map[ID]V) idIndex[V] {
	bits := uint8(1)
	for 1<<bits < len(m)+len(m)/3+1 { // at most three quarters full
		bits++
	}
	x := idIndex[V]{slots: make([]idSlot[V], 1<<bits), shift: 64 - bits}
	for id, v := range m {
		k, ok := keyOf(id)
		if !ok {
			continue
		}
		i := x.home(string(id))
		for x.slots[i].id != (idKey{}) {
			i = (i + 1) & (len(x.slots) - 1)
		}
		x.slots[i] = idSlot[V]{id: k, val: v}
	}
	return x
}

// home is the slot an ID is looked for from: a multiplicative hash of its
// last eight bytes, which are random bits in the IDs nahook makes.
func (x *idIndex[V]) home(id string) int {
	var h uint64
	for i := max(0, len(id)-8); i < len(id); i++ {
		h = h<<8 | uint64(id[i])
	}
	return int((h * 0x9e3779b97f4a7c15) >> x.shift)
}

// get returns the value of id, if it is indexed.
func (x *idIndex[V]) get(id string) (V, bool) {
	var zero V
	k, ok := keyOf(id)
	if len(x.slots) == 0 || !ok {
		return zero, false
	}
	for i := x.home(id); ; i = (i + 1) & (len(x.slots) - 1) {
		switch x.slots[i].id {
		case k:
			return x.slots[i].val, true
		case idKey{}:
			return zero, false
		}
	}
}

type eventTypeInfo struct {
	id        EventTypeID
	published map[EnvironmentID]bool
}

type endpointInfo struct {
	target   []Target // the endpoint alone, for ResolveDirect
	env      EnvironmentID
	app      ApplicationID
	disabled bool
	patterns []string
}

func (ep *endpointInfo) subscribes(eventType string) bool {
	for _, p := range ep.patterns {
		if subscriptionMatches(p, eventType) {
			return true
		}
	}
	return false
}

// key returns the route of an active environment key, or nil. Only the
// shape is checked before hashing: a string of the right length with other
// characters hashes to nothing the snapshot holds.
func (s *snapshot) key(apiKey string) *keyRoute {
	if k := s.keySlot(apiKey); k != nil {
		return k.route
	}
	return nil
}

// keySlot is key's slot in its table, for resolve: it holds the table of
// the key's types beside the route.
func (s *snapshot) keySlot(apiKey string) *keySlot {
	if len(apiKey) != len(EnvironmentKeyPrefix)+keyChars || apiKey[:len(EnvironmentKeyPrefix)] != EnvironmentKeyPrefix {
		return nil
	}
	h := hashKey(apiKey)
	return s.keys[h[0]].find(&h)
}

// hashKey hashes a key's plaintext through a buffer on the stack, so that
// the hot path does not allocate.
func hashKey(plaintext string) store.KeyHash {
	var buf [64]byte
	if len(plaintext) > len(buf) {
		return sha256.Sum256([]byte(plaintext))
	}
	n := copy(buf[:], plaintext)
	return sha256.Sum256(buf[:n])
}

// with returns a snapshot with the built workspaces replacing their old
// versions and the gone ones removed; everything else is shared with s.
func (s *snapshot) with(built map[WorkspaceID]*wsRoutes, gone []WorkspaceID) *snapshot {
	next := &snapshot{keys: s.keys, workspaces: s.workspaces, places: s.places}
	var wsCopied, placesCopied [256]bool
	// The key tables a change touches are built again, without the keys
	// of the workspaces dropped and with those of the ones built.
	var keysTouched [256]bool
	var keysAdded [256][]keySlot
	keysDropped := map[store.KeyHash]bool{}
	wsShardOf := func(id WorkspaceID) map[idKey]*wsRoutes {
		b := wsShard(id)
		if !wsCopied[b] {
			next.workspaces[b] = maps.Clone(next.workspaces[b])
			if next.workspaces[b] == nil {
				next.workspaces[b] = map[idKey]*wsRoutes{}
			}
			wsCopied[b] = true
		}
		return next.workspaces[b]
	}
	placeShard := func(id WorkspaceID) map[placeKey]place {
		b := wsShard(id)
		if !placesCopied[b] {
			next.places[b] = maps.Clone(next.places[b])
			if next.places[b] == nil {
				next.places[b] = map[placeKey]place{}
			}
			placesCopied[b] = true
		}
		return next.places[b]
	}
	drop := func(id WorkspaceID) {
		if old := next.workspace(id); old != nil {
			for h := range old.keys {
				keysDropped[h] = true
				keysTouched[h[0]] = true
			}
			for k := range old.placeKeys {
				delete(placeShard(id), k)
			}
			k, _ := keyOf(id) // it was found by it
			delete(wsShardOf(id), k)
		}
	}
	for _, id := range gone {
		drop(id)
	}
	for id, w := range built {
		drop(id)
		if k, ok := keyOf(id); ok { // else not an ID nahook makes, and only its keys find it
			wsShardOf(id)[k] = w
		}
		for k, env := range w.placeKeys {
			placeShard(id)[k] = place{w: w, env: env}
		}
		for h, k := range w.keys {
			keysAdded[h[0]] = append(keysAdded[h[0]], keySlot{hash: h, types: k.env.types, route: k})
			keysTouched[h[0]] = true
		}
	}
	for b, touched := range keysTouched {
		if !touched {
			continue
		}
		var slots []keySlot
		s.keys[b].each(func(k keySlot) {
			if !keysDropped[k.hash] {
				slots = append(slots, k)
			}
		})
		next.keys[b] = newKeyTable(append(slots, keysAdded[b]...))
	}
	return next
}

// build turns routing data into one wsRoutes per workspace it holds.
func build(data store.Routing) map[WorkspaceID]*wsRoutes {
	out := make(map[WorkspaceID]*wsRoutes, len(data.Workspaces))
	for _, id := range data.Workspaces {
		out[id] = &wsRoutes{
			id:        id,
			version:   data.Version,
			keys:      map[store.KeyHash]*keyRoute{},
			envs:      map[EnvironmentID]*envRoutes{},
			types:     map[string]*eventTypeInfo{},
			endpoints: map[EndpointID]*endpointInfo{},
		}
	}
	for _, e := range data.Environments {
		if w := out[e.WorkspaceID]; w != nil {
			env := w.env(e.ID)
			if e.IsDefault {
				w.defaultEnv = env
			}
		}
	}
	for _, et := range data.EventTypes {
		w := out[et.WorkspaceID]
		if w == nil {
			continue
		}
		info := &eventTypeInfo{id: et.ID, published: make(map[EnvironmentID]bool, len(et.PublishedIn))}
		w.types[et.Name] = info
		for _, env := range et.PublishedIn {
			info.published[env] = true
			w.env(env).routes[et.Name] = &typeRoute{id: et.ID, name: et.Name}
		}
	}
	// Endpoints come in ID order, so every target list is in ID order too.
	for _, ep := range data.Endpoints {
		w := out[ep.WorkspaceID]
		if w == nil {
			continue
		}
		info := &endpointInfo{
			target:   []Target{{ID: ep.ID, ApplicationID: ep.ApplicationID, URL: ep.URL}},
			env:      ep.EnvironmentID,
			app:      ep.ApplicationID,
			disabled: ep.Disabled,
			patterns: ep.EventTypes,
		}
		w.endpoints[ep.ID] = info
		w.ordered = append(w.ordered, info)
		if ep.Disabled {
			continue
		}
		env := w.env(ep.EnvironmentID)
		add := func(tr *typeRoute) {
			// An endpoint subscribed by several patterns to one type is
			// added once; it was the last one added if at all.
			if n := len(tr.all); n > 0 && tr.all[n-1].ID == ep.ID {
				return
			}
			tr.all = append(tr.all, info.target[0])
			if ep.ApplicationID == "" {
				tr.unowned = append(tr.unowned, info.target[0])
				return
			}
			if tr.byApp == nil {
				tr.byApp = map[ApplicationID][]Target{}
			}
			tr.byApp[ep.ApplicationID] = append(tr.byApp[ep.ApplicationID], info.target[0])
		}
		for _, p := range ep.EventTypes {
			if _, wildcard := wildcardPrefix(p); wildcard || p == "*" {
				for name, tr := range env.routes {
					if subscriptionMatches(p, name) {
						add(tr)
					}
				}
			} else if tr := env.routes[p]; tr != nil {
				add(tr)
			}
		}
	}
	for _, k := range data.Keys {
		if w := out[k.WorkspaceID]; w != nil {
			w.keys[k.Hash] = &keyRoute{id: k.ID, wsID: w.id, ws: w, env: w.env(k.EnvironmentID)}
		}
	}
	for _, w := range out {
		for _, env := range w.envs {
			for _, tr := range env.routes {
				tr.apps, tr.byApp = newIDIndex(tr.byApp), nil
			}
			env.types, env.routes = newTypeTable(env.routes), nil
		}
		for _, k := range w.keys {
			k.envID = k.env.id
		}
	}
	return out
}

// env returns the routes of an environment of w, making them if needed.
func (w *wsRoutes) env(id EnvironmentID) *envRoutes {
	e := w.envs[id]
	if e == nil {
		e = &envRoutes{id: id, routes: map[string]*typeRoute{}}
		w.envs[id] = e
	}
	return e
}
