// The delivery dispatcher: Client.Deliver, which claims
// due deliveries, runs their attempts under per-endpoint and probation limits,
// records the results and prunes old events.

package nahook

import (
	"cmp"
	"context"
	"errors"
	"maps"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/nahook/nahook/internal/typeid"
	"github.com/nahook/nahook/store"
)

// Deliver runs delivery in this process until ctx ends: it claims
// deliveries as they fall due (in any process's outbox: several processes
// on one Postgres database share the work, never the same delivery),
// sends them signed, records every attempt and schedules retries. When ctx
// ends it stops claiming, lets the attempts in flight finish and records
// them, then returns nil; if the process dies instead, the deliveries it
// held fall due again when their lease runs out (at least once, never
// lost). Run it in its own goroutine; several may run at once.
//
// No endpoint can hold up another's deliveries: each has at most
// MaxInFlightPerEndpoint attempts in flight, in all processes together;
// workers go to the endpoints with deliveries due in turn, the one that has
// waited longest for a worker first, however old the others' backlogs; and
// an endpoint on probation (new, or failing, or slow) gets one attempt at a
// time, from a share of the workers (ProbeWorkers).
//
// Beside the dispatcher, Deliver runs the relay of operational events
// (see Config.OnOperationalEvent), which shares nothing with it but the
// store: a slow or failing callback holds up no delivery.
func (c *Client) Deliver(ctx context.Context) error {
	var relayed sync.WaitGroup
	if c.reportsOperationalEvents() {
		relayed.Go(func() { newRelay(c).run(ctx) })
	}
	d := newDispatcher(c)
	d.run(ctx)
	relayed.Wait()
	return nil
}

// DeliverDue delivers what is due now, as Deliver does, and returns once
// nothing more is: it claims the due deliveries, sends them and records
// every attempt, and instead of waiting for more it returns when it has no
// attempt in flight and nothing due it could claim. A retry it schedules
// waits for its time by Config.Now, so with a clock that stands still
// each delivery due is attempted once; advance the clock past the retry
// and call it again for the next attempt. It returns how many attempts it
// made, and ctx.Err() if ctx ended first (the attempts in flight are
// still recorded). Unlike Deliver, it prunes no old events. Once the
// deliveries are done, it hands the operational events available by the
// clock to the host (see Config.OnOperationalEvent), once each: one that
// fails waits for its retry, by the clock, and the next call.
//
// It is for tests that run delivery without sleeping (package nahooktest
// builds on it), and for a host that delivers from a scheduled job rather
// than a goroutine that runs for good.
func (c *Client) DeliverDue(ctx context.Context) (int, error) {
	d := newDispatcher(c)
	d.untilIdle = true
	if idle := d.run(ctx); !idle {
		return d.attempts, ctx.Err()
	}
	if c.reportsOperationalEvents() {
		newRelay(c).drain(ctx)
	}
	return d.attempts, nil
}

// nudgeDelivery wakes this process's dispatchers: a delivery is due now.
func (c *Client) nudgeDelivery() {
	select {
	case c.deliveryHint <- struct{}{}:
	default: // one is waiting already
	}
}

// dueEndpointsMax bounds the endpoints one claim considers: far more than
// any dispatcher has workers for, so that an endpoint waiting its turn is
// not crowded out of the list by backlogs that cannot be served.
const dueEndpointsMax = 10_000

// owner is whose an endpoint is: its application's, or, without one, its
// workspace's: the customer one probe share is divided among.
type owner struct {
	ws  WorkspaceID
	app ApplicationID
}

// dispatcher is one Deliver call.
type dispatcher struct {
	c      *Client
	cfg    DeliveryConfig
	client *http.Client
	lease  time.Duration
	// wake is signalled when an attempt ends or results are recorded: a
	// worker, or room at an endpoint, may be free.
	wake chan struct{}

	mu   sync.Mutex
	busy int // attempts in flight
	// probingBy counts the attempts in flight to endpoints on probation,
	// by the endpoints' owner.
	probingBy map[owner]int
	// finished holds, by endpoint, the deliveries whose attempts have
	// ended and whose results are not yet recorded: their leases still
	// count in the store, but they send no more, so claims leave them out
	// of the endpoint's attempts in flight. Without this, recording would
	// be part of every attempt's time, and cap what one endpoint gets.
	finished map[EndpointID][]DeliveryID
	// recorded counts, by endpoint, the results recorded since the look
	// at the endpoints due began (see looking): leases that look may still
	// count as in flight, though they have ended.
	recorded map[EndpointID]int
	// claimed counts, by endpoint, what claims planned from that look
	// leased since (see claimedSince), and exhausted holds the endpoints
	// that gave one of them fewer than it asked for.
	claimed   map[EndpointID]int
	exhausted map[EndpointID]bool
	// probation holds, by endpoint, what the last result recorded since
	// that look did to its probation: newer than what the look saw, for
	// the claims planned from it.
	probation map[EndpointID]bool

	// served is, for each endpoint with deliveries due, the claim round in
	// which it last got a worker; round counts the rounds. Only the
	// claiming goroutine touches them.
	served map[EndpointID]uint64
	round  uint64

	// untilIdle makes the dispatcher return once nothing is due and no
	// attempt is in flight or unrecorded (DeliverDue), rather than wait
	// for more; attempts counts the attempts it started.
	untilIdle bool
	attempts  int
}

func newDispatcher(c *Client) *dispatcher {
	cfg := c.cfg.Delivery // resolved by New
	transport := cfg.Transport
	if transport == nil {
		transport = newTransport(c.cfg.AllowPrivateURLs, cfg.Workers)
	}
	return &dispatcher{
		c:   c,
		cfg: cfg,
		client: &http.Client{
			Transport: transport,
			// A receiver answers for itself: a redirect could point the
			// request anywhere, including inside the host's network.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		// Long enough for an attempt and its recording, with room to
		// spare; when a dispatcher dies, this is how soon its deliveries
		// fall due again.
		lease:     2*cfg.Timeout + 5*time.Second,
		wake:      make(chan struct{}, 1),
		served:    map[EndpointID]uint64{},
		finished:  map[EndpointID][]DeliveryID{},
		recorded:  map[EndpointID]int{},
		claimed:   map[EndpointID]int{},
		exhausted: map[EndpointID]bool{},
		probation: map[EndpointID]bool{},
		probingBy: map[owner]int{},
	}
}

// run delivers until ctx ends, or, untilIdle, until nothing is left to
// do, which it reports.
func (d *dispatcher) run(ctx context.Context) (idle bool) {
	results := make(chan store.AttemptResult, d.cfg.Workers)
	recorded := make(chan struct{})
	go func() {
		d.record(results)
		close(recorded)
	}()
	pruned := make(chan struct{})
	if d.untilIdle {
		close(pruned)
	} else {
		go func() {
			d.prune(ctx)
			close(pruned)
		}()
	}
	// Deliveries this process did not ingest, another's or those a host
	// committed in its own transaction (SendTx), are announced by stores
	// that can, after their commit: a claim then finds them at once,
	// rather than at the next poll. DeliverDue waits for nothing.
	watched := make(chan struct{})
	if n, ok := d.c.store.(store.DeliveryNotifier); ok && !d.untilIdle {
		go func() {
			keepWatching(ctx, d.c.cfg.Logger, "delivery", n.WatchDeliveries, d.signal)
			close(watched)
		}()
	} else {
		close(watched)
	}

	var attempts sync.WaitGroup
	idle = d.claim(ctx, results, &attempts)

	// Drain: no more claims; the attempts in flight run to their own
	// timeouts, not ctx's end, and are recorded.
	attempts.Wait()
	close(results)
	<-recorded
	<-pruned
	<-watched
	return idle
}

// claim leases due deliveries for the free workers, and starts their
// attempts, until ctx ends, or, untilIdle, until nothing is due that it
// could claim and every attempt it started is recorded; it reports the
// latter.
//
// Each claim plans from a look at the endpoints with deliveries due. A
// busy Deliver plans several claims from one look while it is fresh,
// counting what it claimed since (see claimedSince), and takes the next
// look with the claim that finds it half stale (one round trip for both,
// on Postgres), so that the store's work for a look is shared by the
// claims it plans. After it slept for want of anything due, when a claim
// planned from an earlier look finds nothing, or when it is idle, it
// looks afresh.
func (d *dispatcher) claim(ctx context.Context, results chan<- store.AttemptResult, attempts *sync.WaitGroup) bool {
	backoff := 100 * time.Millisecond
	var look []store.DueEndpoint // the endpoints due at the last look, unless nil
	var lookedAt time.Time
	for ctx.Err() == nil {
		free, probes := d.free()
		if free == 0 {
			d.wait(ctx, d.cfg.PollInterval) // until an attempt ends
			continue
		}
		// Only a dispatcher idle before it looks may take finding nothing
		// to claim for the end: a result recorded while it looks ends a
		// lease the look still counted as in flight.
		wasIdle := d.untilIdle && d.idle()
		// The claim is not cut short by ctx: what it leases is sent, even
		// when shutdown begins meanwhile, rather than left to its lease.
		claimCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		now := d.c.cfg.Now().UTC()
		var err error
		fresh := false // the look was taken for this claim, or with it
		if look == nil || time.Since(lookedAt) > lookMaxAge {
			d.looking()
			look, err = d.c.store.DueEndpoints(claimCtx, now, d.cfg.MaxInFlightPerEndpoint, dueEndpointsMax)
			lookedAt, fresh = time.Now(), true
		}
		var requests []store.ClaimRequest
		var probation map[EndpointID]*owner
		var batch []store.Dispatch
		if err == nil {
			requests, probation = d.plan(look, free, probes)
			switch {
			case len(requests) == 0:
			case d.untilIdle:
				batch, err = d.c.store.ClaimDeliveries(claimCtx, now, d.lease, requests)
			case time.Since(lookedAt) > lookMaxAge/2:
				// The look would be stale by the next claim: take the
				// next one with this claim. It sees this claim's leases,
				// so nothing is counted as claimed since.
				d.looking()
				batch, look, err = d.c.store.ClaimAndLook(claimCtx, now, d.lease, requests, d.cfg.MaxInFlightPerEndpoint, dueEndpointsMax)
				lookedAt, fresh = time.Now(), look != nil
			default:
				if batch, err = d.c.store.ClaimDeliveries(claimCtx, now, d.lease, requests); err == nil {
					d.claimedSince(requests, batch)
				}
			}
		}
		cancel()
		if err != nil {
			look = nil
			if ctx.Err() == nil {
				d.c.cfg.Logger.Warn("nahook: claiming deliveries failed", "err", err, "retry in", backoff)
				d.wait(ctx, backoff)
				backoff = min(2*backoff, 10*time.Second)
			}
			continue
		}
		backoff = 100 * time.Millisecond
		for _, job := range batch {
			d.start(job, probation[job.Delivery.EndpointID], results, attempts)
		}
		switch {
		case len(batch) > 0:
			// More may be due: claim again at once.
		case wasIdle:
			// Nothing claimed, nothing in flight, every result recorded:
			// what is still due, if anything, is held by another process.
			return true
		case d.untilIdle && d.idle():
			// The last results were recorded while it looked: look again,
			// at leases they ended.
		case !fresh:
			// Planned from an earlier look, whose deliveries due may be
			// gone, or which may not show those that fell due since: look
			// again before sleeping.
			look = nil
		case len(requests) > 0:
			// Room the plan saw was gone by the claim (another process's
			// claim, or leases not yet recorded as ended): look again
			// soon.
			look = nil
			d.wait(ctx, min(d.cfg.PollInterval, 50*time.Millisecond))
		default:
			// Nothing due, or nothing with room: sleep until an attempt
			// ends, an ingest wakes us, or the poll; then look afresh.
			look = nil
			d.wait(ctx, d.cfg.PollInterval)
		}
		if d.untilIdle {
			look = nil // DeliverDue looks before every claim
		}
	}
	return false
}

// lookMaxAge is how long one look may plan claims: a busy dispatcher
// claims again within milliseconds; an endpoint that falls due meanwhile
// waits this long at most for the next look.
const lookMaxAge = 20 * time.Millisecond

// looking notes that a look at the endpoints due is about to be taken:
// the results recorded from now on end leases it may count as in flight.
func (d *dispatcher) looking() {
	d.mu.Lock()
	clear(d.recorded)
	clear(d.claimed)
	clear(d.exhausted)
	clear(d.probation)
	d.mu.Unlock()
}

// claimedSince notes what a claim planned from an earlier look leased, by
// endpoint: leases that look does not count as in flight, and deliveries
// it counted as due. An endpoint that gave fewer than asked for has no
// more due for this dispatcher until the next look.
func (d *dispatcher) claimedSince(requests []store.ClaimRequest, batch []store.Dispatch) {
	d.mu.Lock()
	defer d.mu.Unlock()
	got := map[EndpointID]int{}
	for _, job := range batch {
		got[job.Delivery.EndpointID]++
	}
	for _, r := range requests {
		d.claimed[r.EndpointID] += got[r.EndpointID]
		if got[r.EndpointID] < r.Want {
			d.exhausted[r.EndpointID] = true
		}
	}
}

// idle reports that no attempt is in flight and every result is recorded.
func (d *dispatcher) idle() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.busy == 0 && len(d.finished) == 0
}

// free returns how many more attempts may start now, and how many of them
// to endpoints on probation.
func (d *dispatcher) free() (int, int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	free, probes := d.cfg.Workers-d.busy, d.cfg.ProbeWorkers
	for _, n := range d.probingBy {
		probes -= n
	}
	return free, min(free, probes)
}

// plan shares free workers (probes of them at most to endpoints on
// probation, and no owner more than half of ProbeWorkers) among the
// endpoints with deliveries due, in turn: one worker to each endpoint, the
// one that has waited longest for a worker first, then a second to each
// that has room for one, and so on. An endpoint has room for as many as
// are due, up to its cap less its attempts in flight in every process:
// MaxInFlightPerEndpoint, or 1 on probation. It returns the requests to
// claim with, and the owners of their endpoints on probation.
func (d *dispatcher) plan(due []store.DueEndpoint, free, probes int) ([]store.ClaimRequest, map[EndpointID]*owner) {
	type candidate struct {
		store.DueEndpoint
		limit, room, got int
		served           uint64
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	candidates := make([]candidate, 0, len(due))
	for _, e := range due {
		if d.exhausted[e.EndpointID] {
			continue
		}
		if p, ok := d.probation[e.EndpointID]; ok {
			e.Probation = p
		}
		limit := d.cfg.MaxInFlightPerEndpoint
		if e.Probation {
			limit = 1
		}
		claimed := d.claimed[e.EndpointID]
		inFlight := max(e.InFlight+claimed-len(d.finished[e.EndpointID])-d.recorded[e.EndpointID], 0)
		due := e.Due - claimed
		if e.Due >= d.cfg.MaxInFlightPerEndpoint {
			// Counted only up to the cap, which looks ask for: more may
			// be due than the look saw. A claim finds out.
			due = limit
		}
		if room := min(limit-inFlight, due); room > 0 {
			candidates = append(candidates, candidate{DueEndpoint: e, limit: limit, room: room, served: d.served[e.EndpointID]})
		}
	}
	slices.SortStableFunc(candidates, func(a, b candidate) int {
		if a.served != b.served {
			return cmp.Compare(a.served, b.served)
		}
		return a.DueSince.Compare(b.DueSince)
	})
	perOwner := max(d.cfg.ProbeWorkers/2, 1)
	probing := maps.Clone(d.probingBy)
	for more := true; more && free > 0; {
		more = false
		for i := range candidates {
			c := &candidates[i]
			o := owner{c.WorkspaceID, c.ApplicationID}
			if free == 0 || c.got == c.room || c.Probation && (probes == 0 || probing[o] == perOwner) {
				continue
			}
			if c.Probation {
				probes--
				probing[o]++
			}
			c.got++
			free--
			more = true
		}
	}
	d.round++
	var requests []store.ClaimRequest
	probation := map[EndpointID]*owner{}
	for _, c := range candidates {
		if c.got > 0 {
			requests = append(requests, store.ClaimRequest{EndpointID: c.EndpointID, Want: c.got, MaxInFlight: c.limit,
				Finished: slices.Clone(d.finished[c.EndpointID])})
			if c.Probation {
				probation[c.EndpointID] = &owner{c.WorkspaceID, c.ApplicationID}
			}
			d.served[c.EndpointID] = d.round
		}
	}
	if len(d.served) > 2*len(due)+1024 {
		// Forget the endpoints no longer due, now and then.
		keep := make(map[EndpointID]uint64, len(due))
		for _, e := range due {
			if r, ok := d.served[e.EndpointID]; ok {
				keep[e.EndpointID] = r
			}
		}
		d.served = keep
	}
	return requests, probation
}

// start runs an attempt for job in a goroutine of its own, counted in
// attempts, and sends its result to results. A probe (of an endpoint on
// probation, whose owner probe names) holds one of the ProbeWorkers until
// it ends.
func (d *dispatcher) start(job store.Dispatch, probe *owner, results chan<- store.AttemptResult, attempts *sync.WaitGroup) {
	d.mu.Lock()
	d.busy++
	d.attempts++
	if probe != nil {
		d.probingBy[*probe]++
	}
	d.mu.Unlock()
	attempts.Go(func() {
		r := d.attempt(job)
		d.mu.Lock()
		d.busy--
		if probe != nil {
			if d.probingBy[*probe]--; d.probingBy[*probe] == 0 {
				delete(d.probingBy, *probe)
			}
		}
		d.finished[r.EndpointID] = append(d.finished[r.EndpointID], r.DeliveryID)
		d.mu.Unlock()
		results <- r
		d.signal()
	})
}

// wait sleeps for at most dur, waking early for ctx's end, a nudge, or an
// attempt that ends.
func (d *dispatcher) wait(ctx context.Context, dur time.Duration) {
	t := time.NewTimer(dur)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	case <-d.c.deliveryHint:
	case <-d.wake:
	}
}

// signal wakes the claiming goroutine if it waits.
func (d *dispatcher) signal() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// record writes results in batches: what arrived while the previous batch
// was written goes in the next one, so busy dispatchers make few
// transactions.
func (d *dispatcher) record(results <-chan store.AttemptResult) {
	const batchMax = 256
	for first := range results {
		batch := []store.AttemptResult{first}
	more:
		for len(batch) < batchMax {
			select {
			case r, ok := <-results:
				if !ok {
					break more
				}
				batch = append(batch, r)
			default:
				break more
			}
		}
		d.save(batch)
		d.mu.Lock()
		for _, r := range batch {
			ids := slices.DeleteFunc(d.finished[r.EndpointID], func(id DeliveryID) bool { return id == r.DeliveryID })
			if len(ids) == 0 {
				delete(d.finished, r.EndpointID)
			} else {
				d.finished[r.EndpointID] = ids
			}
			d.recorded[r.EndpointID]++
			d.probation[r.EndpointID] = r.Probation // the last one's counts, as in the store
		}
		d.mu.Unlock()
		d.signal()
		for _, r := range batch {
			if r.Attempt.Succeeded() {
				continue
			}
			// A failure may have disabled an endpoint: a routing change
			// the router learns from the store; and it may have made an
			// operational event. (A success's endpoint.recovered waits
			// for the relay's poll: waking it for every success would
			// cost a claim per batch.)
			d.c.Router.nudge()
			if d.c.reportsOperationalEvents() {
				d.c.nudgeRelay()
			}
			break
		}
	}
}

// save records a batch of results. A batch the store refuses for what it
// holds is split, and split again, so that one result it cannot take never
// keeps the others (other customers' among them) from being recorded; that
// one is recorded without the answer's text, so that its attempt still
// counts and its delivery moves on. A store that cannot be reached is
// waited for a while; if it stays so, the batch's deliveries are attempted
// again when their leases end: at least once, never lost.
func (d *dispatcher) save(batch []store.AttemptResult) {
	err := d.saveOnce(batch)
	if err == nil || errors.Is(err, ErrUnavailable) {
		return
	}
	if len(batch) > 1 {
		half := len(batch) / 2
		d.save(batch[:half])
		d.save(batch[half:])
		return
	}
	d.c.cfg.Logger.Warn("nahook: a delivery attempt could not be recorded as it was; recording it without the answer",
		"err", err, "delivery", batch[0].DeliveryID)
	safe := batch[0]
	safe.Attempt.Response = ""
	safe.Attempt.Error = "the endpoint's answer could not be recorded"
	if err := d.saveOnce([]store.AttemptResult{safe}); err != nil && !errors.Is(err, ErrUnavailable) {
		d.c.cfg.Logger.Error("nahook: a delivery attempt could not be recorded; it will be attempted again when its lease ends",
			"err", err, "delivery", safe.DeliveryID)
	}
}

// saveOnce records a batch in one transaction, with what it does to its
// endpoints' failure streaks and probation, trying again with backoff, for
// about 12 seconds, while the store cannot be reached.
func (d *dispatcher) saveOnce(batch []store.AttemptResult) error {
	streaks := store.Streaks(batch, d.cfg.DisableAfter)
	if d.c.reportsOperationalEvents() {
		// The host hears of what the streaks do to their endpoints; the
		// store reports only what this batch changes.
		for i := range streaks {
			streaks[i].Report, streaks[i].FailingAfter = true, max(d.cfg.FailingAfter, 0)
		}
	}
	for try := 0; ; try++ {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := d.c.store.RecordAttempts(ctx, batch, streaks)
		cancel()
		if err == nil || !errors.Is(err, ErrUnavailable) {
			return err
		}
		if try == 5 {
			d.c.cfg.Logger.Error("nahook: recording delivery attempts failed; they will be attempted again when their lease ends",
				"err", err, "attempts", len(batch))
			return err
		}
		d.c.cfg.Logger.Warn("nahook: recording delivery attempts failed; retrying", "err", err)
		time.Sleep(time.Duration(1<<try) * 200 * time.Millisecond)
	}
}

// prune deletes events past their retention, and the endpoint-health
// rollup's rows past HealthRetention, hourly, until ctx ends.
func (d *dispatcher) prune(ctx context.Context) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		before := EventID(typeid.Floor(prefixEvent, d.c.cfg.Now().Add(-d.cfg.Retention)))
		for {
			n, err := d.c.store.PruneEvents(ctx, before, 1000)
			if err != nil {
				if ctx.Err() == nil {
					d.c.cfg.Logger.Warn("nahook: pruning old events failed", "err", err)
				}
				break
			}
			if n < 1000 {
				break
			}
		}
		d.pruneHealth(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
