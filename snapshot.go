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
	// keys maps active environment keys by hash, sharded on the hash's
	// first byte.
	keys [256]map[store.KeyHash]*keyRoute
	// workspaces is sharded on wsShard; only reloads read it.
	workspaces [256]map[WorkspaceID]*wsRoutes
}

// wsShard spreads workspace IDs over the shards by their last two
// characters, which are random bits of the UUIDv7.
func wsShard(id WorkspaceID) byte {
	if len(id) < 2 {
		return 0
	}
	return id[len(id)-1]*31 + id[len(id)-2]
}

func (s *snapshot) workspace(id WorkspaceID) *wsRoutes { return s.workspaces[wsShard(id)][id] }

// each calls fn for every workspace.
func (s *snapshot) each(fn func(*wsRoutes)) {
	for _, shard := range s.workspaces {
		for _, w := range shard {
			fn(w)
		}
	}
}

type keyRoute struct {
	id  APIKeyID
	ws  *wsRoutes
	env *envRoutes
}

type wsRoutes struct {
	id        WorkspaceID
	version   int64 // the routing version it was loaded at
	keys      map[store.KeyHash]*keyRoute
	envs      map[EnvironmentID]*envRoutes
	types     map[string]*eventTypeInfo
	endpoints map[EndpointID]*endpointInfo
	ordered   []*endpointInfo // by ID
}

type envRoutes struct {
	id EnvironmentID
	// routes holds every event type published in the environment, by name,
	// with the endpoints it goes to: wildcards are expanded here, once.
	routes map[string]*typeRoute
}

type typeRoute struct {
	id      EventTypeID
	name    string
	targets []Target
}

type eventTypeInfo struct {
	id        EventTypeID
	published map[EnvironmentID]bool
}

type endpointInfo struct {
	target   []Target // the endpoint alone, for ResolveDirect
	env      EnvironmentID
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
	if len(apiKey) != len(EnvironmentKeyPrefix)+keyChars || apiKey[:len(EnvironmentKeyPrefix)] != EnvironmentKeyPrefix {
		return nil
	}
	h := hashKey(apiKey)
	return s.keys[h[0]][h]
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
	next := &snapshot{keys: s.keys, workspaces: s.workspaces}
	var keysCopied, wsCopied [256]bool
	keyShard := func(b byte) map[store.KeyHash]*keyRoute {
		if !keysCopied[b] {
			next.keys[b] = maps.Clone(next.keys[b])
			if next.keys[b] == nil {
				next.keys[b] = map[store.KeyHash]*keyRoute{}
			}
			keysCopied[b] = true
		}
		return next.keys[b]
	}
	wsShardOf := func(id WorkspaceID) map[WorkspaceID]*wsRoutes {
		b := wsShard(id)
		if !wsCopied[b] {
			next.workspaces[b] = maps.Clone(next.workspaces[b])
			if next.workspaces[b] == nil {
				next.workspaces[b] = map[WorkspaceID]*wsRoutes{}
			}
			wsCopied[b] = true
		}
		return next.workspaces[b]
	}
	drop := func(id WorkspaceID) {
		if old := next.workspace(id); old != nil {
			for h := range old.keys {
				delete(keyShard(h[0]), h)
			}
			delete(wsShardOf(id), id)
		}
	}
	for _, id := range gone {
		drop(id)
	}
	for id, w := range built {
		drop(id)
		wsShardOf(id)[id] = w
		for h, k := range w.keys {
			keyShard(h[0])[h] = k
		}
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
			if n := len(tr.targets); n == 0 || tr.targets[n-1].ID != ep.ID {
				tr.targets = append(tr.targets, info.target[0])
			}
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
			w.keys[k.Hash] = &keyRoute{id: k.ID, ws: w, env: w.env(k.EnvironmentID)}
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
