package nahook

import (
	"context"
	"crypto/sha256"
	"fmt"
	"maps"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nahook/nahook/store"
)

// errUnknownKey is returned as is, so that refusing a bad key, the answer
// an attacker guessing keys gets, allocates nothing.
var errUnknownKey = &Error{Kind: ErrUnauthorized, Message: "API key is missing, unknown or revoked"}

// Route is where one event goes: the decision of Resolve or ResolveDirect.
type Route struct {
	WorkspaceID   WorkspaceID
	EnvironmentID EnvironmentID
	// KeyID is the API key the event came with.
	KeyID APIKeyID
	// EventTypeID and EventType name the event's type; a direct route has
	// neither.
	EventTypeID EventTypeID
	EventType   string
	// Endpoints receive the event, in creation (ID) order. The slice is
	// shared with the router's snapshot: read it, never modify it.
	Endpoints []Target
}

// Target is an endpoint an event is routed to.
type Target struct {
	ID            EndpointID
	ApplicationID ApplicationID
	URL           string
}

// Router decides which endpoints receive an event, from an in-memory
// snapshot of the store, in a few map reads and without allocating. Get it
// from Client.Router.
//
// The snapshot is loaded on first use and kept coherent: a write through
// the same Client is seen by the next call (read-your-writes); writes by
// other processes sharing the database are seen after the store announces
// them (Postgres: LISTEN/NOTIFY, within milliseconds) or the next poll
// (Config.RoutingPollInterval). Only the workspaces that changed are
// reloaded. If the store cannot be reached while following other processes'
// changes, the router keeps answering from the snapshot it has and logs
// the failure; only a call that must first load, or reload after this
// Client's own write, returns the store's error.
type Router struct {
	c    *Client
	snap atomic.Pointer[snapshot]

	// lock serialises loads and swaps of snap. It is a channel rather than
	// a mutex so that a caller waiting for it gives up when its context
	// ends: a load holds it across database calls.
	lock  chan struct{}
	since atomic.Int64 // the routing version changes have been followed to

	// Workspaces written to through this Client and not yet reloaded, each
	// with the generation of its latest write, so that a write made while
	// a reload runs is not taken as reloaded by it.
	pendingMu  sync.Mutex
	pendingWS  map[WorkspaceID]uint64
	pendingGen uint64
	pendingN   atomic.Int32

	hint    chan struct{}
	stopMu  sync.Mutex
	stop    context.CancelFunc // under stopMu
	closed  bool               // under stopMu
	stopped sync.WaitGroup
}

func newRouter(c *Client) *Router {
	return &Router{c: c, lock: make(chan struct{}, 1), pendingWS: map[WorkspaceID]uint64{}, hint: make(chan struct{}, 1)}
}

// Resolve returns where an event of the named type, sent with apiKey, goes:
// every enabled endpoint of the key's environment subscribed to the type by
// name or by a matching wildcard, in creation order. The type must exist
// (ErrUnknownEventType) and be published in the key's environment
// (ErrNotPublished); the key must be an active environment key
// (ErrUnauthorized). A published type nobody subscribes to routes to no
// endpoint, without error.
func (r *Router) Resolve(ctx context.Context, apiKey, eventType string) (Route, error) {
	k, err := r.keyRoute(ctx, apiKey)
	if err != nil {
		return Route{}, err
	}
	if tr := k.env.routes[eventType]; tr != nil {
		return Route{WorkspaceID: k.ws.id, EnvironmentID: k.env.id, KeyID: k.id,
			EventTypeID: tr.id, EventType: tr.name, Endpoints: tr.targets}, nil
	}
	if k.ws.types[eventType] == nil {
		return Route{}, &Error{Kind: ErrUnknownEventType, Field: "eventType",
			Message: fmt.Sprintf("the workspace has no event type %s", quote(eventType))}
	}
	return Route{}, &Error{Kind: ErrNotPublished, Field: "eventType",
		Message: fmt.Sprintf("event type %s is not published in environment %s", quote(eventType), k.env.id)}
}

// ResolveDirect returns the route of an event sent with apiKey straight to
// one endpoint, which must be in the key's environment
// (ErrOtherEnvironment), exist in its workspace (ErrNotFound) and be
// enabled (ErrEndpointDisabled).
func (r *Router) ResolveDirect(ctx context.Context, apiKey string, endpoint EndpointID) (Route, error) {
	k, err := r.keyRoute(ctx, apiKey)
	if err != nil {
		return Route{}, err
	}
	ep := k.ws.endpoints[endpoint]
	switch {
	case ep == nil:
		return Route{}, store.NotFound("endpointId", "endpoint", endpoint)
	case ep.env != k.env.id:
		return Route{}, &Error{Kind: ErrOtherEnvironment, Field: "endpointId",
			Message: fmt.Sprintf("endpoint %s is not in the API key's environment", endpoint)}
	case ep.disabled:
		return Route{}, &Error{Kind: ErrEndpointDisabled, Field: "endpointId",
			Message: fmt.Sprintf("endpoint %s is disabled", endpoint)}
	}
	return Route{WorkspaceID: k.ws.id, EnvironmentID: k.env.id, KeyID: k.id, Endpoints: ep.target}, nil
}

// Reason says why an endpoint does not receive an event.
type Reason string

// Reasons, as Explain reports them.
const (
	// ReasonOtherEnvironment: the endpoint is in another environment than
	// the key's.
	ReasonOtherEnvironment Reason = "other_environment"
	// ReasonUnknownEventType: the workspace has no event type of that name.
	ReasonUnknownEventType Reason = "unknown_event_type"
	// ReasonNotPublished: the event type is not published in the key's
	// environment.
	ReasonNotPublished Reason = "not_published"
	// ReasonDisabled: the endpoint is disabled.
	ReasonDisabled Reason = "disabled"
	// ReasonNotSubscribed: none of the endpoint's subscriptions matches the
	// event type.
	ReasonNotSubscribed Reason = "not_subscribed"
)

// Explanation is Explain's answer: for every endpoint of the workspace,
// whether it receives the event, and if not, why.
type Explanation struct {
	WorkspaceID   WorkspaceID
	EnvironmentID EnvironmentID
	KeyID         APIKeyID
	EventType     string
	// EventTypeID is empty when the workspace has no such event type.
	EventTypeID EventTypeID
	// Published reports whether the event type is published in the key's
	// environment.
	Published bool
	// Endpoints are every endpoint of the workspace, in creation order.
	Endpoints []EndpointVerdict
}

// EndpointVerdict is one endpoint's part of an Explanation.
type EndpointVerdict struct {
	Target
	EnvironmentID EnvironmentID
	// Receives reports whether Resolve routes the event to the endpoint;
	// it is true exactly when Reasons is empty.
	Receives bool
	// Reasons lists every rule that keeps the event from the endpoint.
	Reasons []Reason
}

// Explain answers the question support engineers ask most: for an event
// of the named type sent with apiKey, which endpoints of the workspace
// receive it, and why each of the others does not. It agrees with Resolve,
// from the same snapshot. Only a bad key is an error.
func (r *Router) Explain(ctx context.Context, apiKey, eventType string) (Explanation, error) {
	k, err := r.keyRoute(ctx, apiKey)
	if err != nil {
		return Explanation{}, err
	}
	x := Explanation{WorkspaceID: k.ws.id, EnvironmentID: k.env.id, KeyID: k.id, EventType: eventType}
	known := k.ws.types[eventType]
	if known != nil {
		x.EventTypeID = known.id
		x.Published = known.published[k.env.id]
	}
	x.Endpoints = make([]EndpointVerdict, 0, len(k.ws.ordered))
	for _, ep := range k.ws.ordered {
		v := EndpointVerdict{Target: ep.target[0], EnvironmentID: ep.env}
		if ep.env != k.env.id {
			v.Reasons = append(v.Reasons, ReasonOtherEnvironment)
		}
		switch {
		case known == nil:
			v.Reasons = append(v.Reasons, ReasonUnknownEventType)
		case !x.Published:
			v.Reasons = append(v.Reasons, ReasonNotPublished)
		}
		if ep.disabled {
			v.Reasons = append(v.Reasons, ReasonDisabled)
		}
		if !ep.subscribes(eventType) {
			v.Reasons = append(v.Reasons, ReasonNotSubscribed)
		}
		v.Receives = len(v.Reasons) == 0
		x.Endpoints = append(x.Endpoints, v)
	}
	return x, nil
}

// keyRoute returns the route of an active environment key from the
// current snapshot.
func (r *Router) keyRoute(ctx context.Context, apiKey string) (*keyRoute, error) {
	s, err := r.current(ctx, apiKey)
	if err != nil {
		return nil, err
	}
	if k := s.key(apiKey); k != nil {
		return k, nil
	}
	return nil, errUnknownKey
}

// Version returns the store's routing version the router has followed
// changes to: its answers include every write up to it, by any process. It
// is 0 until the router has loaded.
func (r *Router) Version() int64 { return r.since.Load() }

// Load loads the routing snapshot now, rather than on the first Resolve,
// and starts following changes. Calling it again is harmless.
func (r *Router) Load(ctx context.Context) error {
	_, err := r.catchUp(ctx)
	return err
}

// current returns the snapshot to answer a call with apiKey from: loading
// it on first use, and first reloading the key's workspace if this Client
// wrote to it since. A key the snapshot does not know may belong to a
// workspace just written to, so it waits for every pending reload. Calls
// for other workspaces answer from the snapshot as it is.
//
// The pending state is read before the snapshot: a reload stores its
// snapshot before it clears the pending mark, so a snapshot loaded after
// seeing no mark holds every write that was marked.
func (r *Router) current(ctx context.Context, apiKey string) (*snapshot, error) {
	if r.pendingN.Load() == 0 {
		if s := r.snap.Load(); s != nil {
			return s, nil
		}
	} else if s := r.snap.Load(); s != nil {
		if k := s.key(apiKey); k != nil && !r.isPending(k.ws.id) {
			return r.snap.Load(), nil
		}
	}
	return r.catchUp(ctx)
}

// changed records that this Client wrote to ws, so that the next call that
// needs ws reloads it first.
func (r *Router) changed(ws WorkspaceID) {
	r.pendingMu.Lock()
	defer r.pendingMu.Unlock()
	r.pendingGen++
	r.pendingWS[ws] = r.pendingGen
	r.pendingN.Store(int32(len(r.pendingWS)))
}

func (r *Router) isPending(ws WorkspaceID) bool {
	r.pendingMu.Lock()
	defer r.pendingMu.Unlock()
	_, ok := r.pendingWS[ws]
	return ok
}

// acquire takes r.lock, or gives up when ctx ends.
func (r *Router) acquire(ctx context.Context) error {
	select {
	case r.lock <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (r *Router) release() { <-r.lock }

// catchUp loads the whole snapshot if there is none, and reloads the
// workspaces written to through this Client. A workspace leaves the
// pending set only once a snapshot holding its reload is stored, and only
// if no write came after the one the reload covers.
func (r *Router) catchUp(ctx context.Context) (*snapshot, error) {
	if err := r.acquire(ctx); err != nil {
		return nil, err
	}
	defer r.release()
	r.pendingMu.Lock()
	taken := make(map[WorkspaceID]uint64, len(r.pendingWS))
	for ws, gen := range r.pendingWS {
		taken[ws] = gen
	}
	r.pendingMu.Unlock()

	var err error
	if r.snap.Load() == nil {
		err = r.loadAll(ctx)
	} else if len(taken) > 0 {
		wss := make([]WorkspaceID, 0, len(taken))
		for ws := range taken {
			wss = append(wss, ws)
		}
		err = r.reload(ctx, wss)
	}
	if err != nil {
		return nil, err
	}
	r.pendingMu.Lock()
	for ws, gen := range taken {
		if r.pendingWS[ws] == gen {
			delete(r.pendingWS, ws)
		}
	}
	r.pendingN.Store(int32(len(r.pendingWS)))
	r.pendingMu.Unlock()
	return r.snap.Load(), nil
}

// loadAll builds the whole snapshot and starts following changes. r.lock
// is held.
func (r *Router) loadAll(ctx context.Context) error {
	data, err := r.c.store.LoadRouting(ctx, nil)
	if err != nil {
		return err
	}
	var gone []WorkspaceID
	if old := r.snap.Load(); old != nil {
		built := build(data)
		old.each(func(w *wsRoutes) {
			if built[w.id] == nil {
				gone = append(gone, w.id)
			}
		})
		r.snap.Store(old.with(built, gone))
	} else {
		r.snap.Store((&snapshot{}).with(build(data), nil))
	}
	r.since.Store(data.Version)
	r.start()
	return nil
}

// reloadAllAbove is how many workspaces a reload may name before loading
// everything is the cheaper (and, for stores that bound the size of a
// query, the only) way.
const reloadAllAbove = 1000

// reload rebuilds the given workspaces from the store and swaps in a
// snapshot holding them; the rest are shared with the old one. r.lock is
// held.
func (r *Router) reload(ctx context.Context, wss []WorkspaceID) error {
	if len(wss) > reloadAllAbove {
		return r.loadAll(ctx)
	}
	data, err := r.c.store.LoadRouting(ctx, wss)
	if err != nil {
		return err
	}
	built := build(data)
	var gone []WorkspaceID
	for _, ws := range wss {
		if built[ws] == nil {
			gone = append(gone, ws)
		}
	}
	r.snap.Store(r.snap.Load().with(built, gone))
	return nil
}

// followTimeout bounds one round of following changes, so that a store
// that hangs cannot hold r.lock for ever.
const followTimeout = 30 * time.Second

// follow reloads the workspaces that changed since the version followed
// last, by this process or any other.
func (r *Router) follow(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, followTimeout)
	defer cancel()
	if err := r.acquire(ctx); err != nil {
		return err
	}
	defer r.release()
	current, changes, err := r.c.store.RoutingChanges(ctx, r.since.Load())
	if err != nil {
		return err
	}
	s := r.snap.Load()
	var stale []WorkspaceID
	for _, c := range changes {
		if w := s.workspace(c.WorkspaceID); w == nil || w.version < c.Version {
			stale = append(stale, c.WorkspaceID)
		}
	}
	if len(stale) > 0 {
		if err := r.reload(ctx, stale); err != nil {
			return err
		}
	}
	r.since.Store(max(r.since.Load(), current))
	return nil
}

// start runs the goroutines that follow changes: a poll, and a listener
// when the store announces changes. It does nothing once started or
// closed.
func (r *Router) start() {
	r.stopMu.Lock()
	defer r.stopMu.Unlock()
	if r.closed || r.stop != nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.stop = cancel
	notifier, notifies := r.c.store.(store.RoutingNotifier)
	r.stopped.Go(func() { r.poll(ctx, r.c.cfg.RoutingPollInterval) })
	if notifies {
		r.stopped.Go(func() { r.listen(ctx, notifier) })
	}
}

// poll follows changes every interval, and whenever the listener hints.
func (r *Router) poll(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-r.hint:
		}
		if err := r.follow(ctx); err != nil && ctx.Err() == nil {
			r.c.cfg.Logger.Warn("nahook: routing refresh failed; answering from the last snapshot", "err", err)
		}
	}
}

// listen keeps the store's change announcements flowing into hints,
// reconnecting with backoff. Each (re)connection hints once, so changes
// made while it was not listening are followed too.
func (r *Router) listen(ctx context.Context, n store.RoutingNotifier) {
	backoff := 100 * time.Millisecond
	for {
		start := time.Now()
		err := n.WatchRouting(ctx, r.nudge)
		if ctx.Err() != nil {
			return
		}
		if time.Since(start) > 10*time.Second {
			backoff = 100 * time.Millisecond // it was up a while: not a flapping connection
		}
		r.c.cfg.Logger.Warn("nahook: routing listener stopped; reconnecting", "err", err, "in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

// nudge asks the poll loop to follow changes now.
func (r *Router) nudge() {
	select {
	case r.hint <- struct{}{}:
	default: // one is already waiting
	}
}

// close stops following changes, for good. It cancels first, so a round
// of following blocked in the store ends rather than holding it up.
func (r *Router) close() {
	r.stopMu.Lock()
	stop := r.stop
	r.closed = true
	r.stopMu.Unlock()
	if stop != nil {
		stop()
		r.stopped.Wait()
	}
}

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
