// Freshness: how a Router keeps its snapshot current. It loads on first
// use, reloads the workspaces this Client wrote to before answering about
// them (read-your-writes), and follows other processes' writes by polling
// and, where the store announces changes, by listening.

package nahook

import (
	"context"
	"log/slog"
	"time"

	"github.com/nahook/nahook/store"
)

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

// currentFor is current for a call that names its workspace: it reloads
// first only if this Client wrote to ws since. As in current, the pending
// state is read before the snapshot.
func (r *Router) currentFor(ctx context.Context, ws WorkspaceID) (*snapshot, error) {
	if r.pendingN.Load() == 0 || !r.isPending(ws) {
		if s := r.snap.Load(); s != nil {
			return s, nil
		}
	}
	return r.catchUp(ctx)
}

// currentIn is currentFor for a send inside the host's transaction tx.
// The store may be unable to answer while tx is open: an in-memory SQLite
// store has one connection, and tx holds it, so a reload through the store
// would wait for tx, which waits for the send. Where tx can read routing
// data itself (store.RoutingTx), a reload reads through tx instead; and
// if another reload holds the lock, perhaps itself waiting for tx's
// connection, the send routes from a snapshot of its own, with ws
// reloaded through tx, rather than wait. Nahook's routing tables are
// written only by the store, never in a host's transaction, so tx sees
// them as committed.
func (r *Router) currentIn(ctx context.Context, ws WorkspaceID, tx store.Tx) (*snapshot, error) {
	if r.pendingN.Load() == 0 || !r.isPending(ws) {
		if s := r.snap.Load(); s != nil {
			return s, nil
		}
	}
	rt, ok := tx.(store.RoutingTx)
	if !ok {
		return r.catchUp(ctx)
	}
	select {
	case r.lock <- struct{}{}:
		defer r.release()
		return r.catchUpLocked(ctx, rt.LoadRouting)
	default:
	}
	data, err := rt.LoadRouting(ctx, []WorkspaceID{ws})
	if err != nil {
		return nil, err
	}
	var gone []WorkspaceID
	if len(data.Workspaces) == 0 {
		gone = []WorkspaceID{ws}
	}
	s := r.snap.Load()
	if s == nil {
		s = &snapshot{}
	}
	return s.with(build(data), gone), nil
}

// loader is how a snapshot's data is read: the store's LoadRouting, or a
// host transaction's (currentIn).
type loader func(ctx context.Context, ws []WorkspaceID) (store.Routing, error)

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
	return r.catchUpLocked(ctx, r.c.store.LoadRouting)
}

// catchUpLocked is catchUp with r.lock held, reading through load.
func (r *Router) catchUpLocked(ctx context.Context, load loader) (*snapshot, error) {
	r.pendingMu.Lock()
	taken := make(map[WorkspaceID]uint64, len(r.pendingWS))
	for ws, gen := range r.pendingWS {
		taken[ws] = gen
	}
	r.pendingMu.Unlock()

	var err error
	if r.snap.Load() == nil {
		err = r.loadAll(ctx, load)
	} else if len(taken) > 0 {
		wss := make([]WorkspaceID, 0, len(taken))
		for ws := range taken {
			wss = append(wss, ws)
		}
		err = r.reload(ctx, load, wss)
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

// loadAll builds the whole snapshot, read through load, and starts
// following changes. r.lock is held.
func (r *Router) loadAll(ctx context.Context, load loader) error {
	data, err := load(ctx, nil)
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

// reload rebuilds the given workspaces, read through load, and swaps in a
// snapshot holding them; the rest are shared with the old one. r.lock is
// held.
func (r *Router) reload(ctx context.Context, load loader, wss []WorkspaceID) error {
	if len(wss) > reloadAllAbove {
		return r.loadAll(ctx, load)
	}
	data, err := load(ctx, wss)
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
		if err := r.reload(ctx, r.c.store.LoadRouting, stale); err != nil {
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
	keepWatching(ctx, r.c.cfg.Logger, "routing", n.WatchRouting, r.nudge)
}

// keepWatching runs watch, a store's announcements (WatchRouting,
// WatchDeliveries), with fn as its callback until ctx ends, starting it
// again with backoff when its connection fails: what of names in the
// log.
func keepWatching(ctx context.Context, log *slog.Logger, what string, watch func(context.Context, func()) error, fn func()) {
	backoff := 100 * time.Millisecond
	for {
		start := time.Now()
		err := watch(ctx, fn)
		if ctx.Err() != nil {
			return
		}
		if time.Since(start) > 10*time.Second {
			backoff = 100 * time.Millisecond // it was up a while: not a flapping connection
		}
		log.Warn("nahook: "+what+" listener stopped; reconnecting", "err", err, "in", backoff)
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
