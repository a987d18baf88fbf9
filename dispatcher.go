package nahook

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/nahook/nahook/internal/typeid"
	"github.com/nahook/nahook/store"
)

// DeliveryConfig tunes delivery. Its zero value gives the defaults.
type DeliveryConfig struct {
	// Workers is how many attempts run at once in one Deliver call.
	// Default 32.
	Workers int
	// Timeout bounds one attempt, from dialing to the end of the answer's
	// headers. Default 15s. A claimed delivery is leased for twice this and
	// 5 seconds: if its dispatcher dies, it falls due again then.
	Timeout time.Duration
	// Schedule is the wait before each retry; a delivery still failing
	// after the last is failed. Each wait is jittered by ±20%. Default: 5s,
	// 5m, 30m, 2h, 5h, 10h, 10h: eight attempts over about 27 hours.
	Schedule []time.Duration
	// DisableAfter disables an endpoint whose every attempt has failed for
	// this long. Default 5 days; negative never disables.
	DisableAfter time.Duration
	// SecretGrace is how long, after a rotation, the previous signing
	// secret keeps signing beside the new one. Default 24h.
	SecretGrace time.Duration
	// Retention is how long events (with their deliveries and attempts)
	// are kept once no delivery is pending; it is also how long
	// idempotency keys are remembered. Default 30 days; at least 24h.
	Retention time.Duration
	// PollInterval is how often an idle dispatcher looks for deliveries
	// falling due or ingested by other processes; an ingest through the
	// same Client wakes it at once. Default 1s.
	PollInterval time.Duration
	// ResponseBytes is how much of an answer's body an attempt keeps, cut
	// before a character rather than through it. Default 4096; at most
	// 64 KiB. What is kept is made valid UTF-8 without NUL, as every
	// attempt's error text is, which is at most 1 KiB.
	ResponseBytes int
	// Transport sends the requests. Nil means one that refuses
	// non-public addresses after DNS resolution (unless
	// Config.AllowPrivateURLs), follows no redirect and uses no proxy.
	Transport http.RoundTripper
}

// Delivery defaults.
var defaultSchedule = []time.Duration{5 * time.Second, 5 * time.Minute, 30 * time.Minute,
	2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour}

// withDefaults fills in the zero fields.
func (d DeliveryConfig) withDefaults() DeliveryConfig {
	if d.Workers <= 0 {
		d.Workers = 32
	}
	if d.Timeout <= 0 {
		d.Timeout = 15 * time.Second
	}
	if d.Schedule == nil {
		d.Schedule = defaultSchedule
	}
	if d.DisableAfter == 0 {
		d.DisableAfter = 5 * 24 * time.Hour
	}
	if d.SecretGrace <= 0 {
		d.SecretGrace = 24 * time.Hour
	}
	if d.Retention <= 0 {
		d.Retention = 30 * 24 * time.Hour
	}
	d.Retention = max(d.Retention, 24*time.Hour)
	if d.PollInterval <= 0 {
		d.PollInterval = time.Second
	}
	if d.ResponseBytes <= 0 {
		d.ResponseBytes = 4096
	}
	d.ResponseBytes = min(d.ResponseBytes, 64<<10)
	return d
}

// Deliver runs delivery in this process until ctx ends: it claims
// deliveries as they fall due (in any process's outbox: several processes
// on one Postgres database share the work, never the same delivery),
// sends them signed, records every attempt and schedules retries. When ctx
// ends it stops claiming, lets the attempts in flight finish and records
// them, then returns nil; if the process dies instead, the deliveries it
// held fall due again when their lease runs out (at least once, never
// lost). Run it in its own goroutine; several may run at once.
func (c *Client) Deliver(ctx context.Context) error {
	d := newDispatcher(c)
	return d.run(ctx)
}

// nudgeDelivery wakes this process's dispatchers: a delivery is due now.
func (c *Client) nudgeDelivery() {
	select {
	case c.deliveryHint <- struct{}{}:
	default: // one is waiting already
	}
}

// dispatcher is one Deliver call.
type dispatcher struct {
	c      *Client
	cfg    DeliveryConfig
	client *http.Client
	lease  time.Duration
}

func newDispatcher(c *Client) *dispatcher {
	cfg := c.cfg.Delivery.withDefaults()
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
		lease: 2*cfg.Timeout + 5*time.Second,
	}
}

func (d *dispatcher) run(ctx context.Context) error {
	jobs := make(chan store.Dispatch)
	results := make(chan store.AttemptResult, d.cfg.Workers)
	slots := make(chan struct{}, d.cfg.Workers) // one per attempt claimed and not yet done

	var workers sync.WaitGroup
	for range d.cfg.Workers {
		workers.Go(func() {
			for job := range jobs {
				results <- d.attempt(job)
				<-slots
			}
		})
	}
	recorded := make(chan struct{})
	go func() {
		d.record(results)
		close(recorded)
	}()
	pruned := make(chan struct{})
	go func() {
		d.prune(ctx)
		close(pruned)
	}()

	d.claim(ctx, jobs, slots)

	// Drain: no more claims; the attempts in flight run to their own
	// timeouts, not ctx's end, and are recorded.
	close(jobs)
	workers.Wait()
	close(results)
	<-recorded
	<-pruned
	return nil
}

// claim leases due deliveries, as many as there are free workers, and
// hands them out, until ctx ends.
func (d *dispatcher) claim(ctx context.Context, jobs chan<- store.Dispatch, slots chan struct{}) {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		free := cap(slots) - len(slots)
		if free == 0 {
			// Every worker is busy: wait for one.
			select {
			case slots <- struct{}{}:
				<-slots
			case <-ctx.Done():
			}
			continue
		}
		// The claim is not cut short by ctx: what it leases is sent, even
		// when shutdown begins meanwhile, rather than left to its lease.
		claimCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		batch, err := d.c.store.ClaimDeliveries(claimCtx, d.c.cfg.Now().UTC(), min(free, 100), d.lease)
		cancel()
		if err != nil {
			if ctx.Err() == nil {
				d.c.cfg.Logger.Warn("nahook: claiming deliveries failed", "err", err, "retry in", backoff)
				d.wait(ctx, backoff)
				backoff = min(2*backoff, 10*time.Second)
			}
			continue
		}
		backoff = 100 * time.Millisecond
		for _, job := range batch {
			slots <- struct{}{}
			jobs <- job
		}
		if len(batch) < free {
			// Caught up: sleep until something is due, or an ingest wakes
			// us. A full batch means more may be waiting now.
			d.wait(ctx, d.cfg.PollInterval)
		}
	}
}

// wait sleeps for at most dur, waking early for ctx's end or a nudge.
func (d *dispatcher) wait(ctx context.Context, dur time.Duration) {
	t := time.NewTimer(dur)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	case <-d.c.deliveryHint:
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
		for _, r := range batch {
			if r.Attempt.StatusCode >= 200 && r.Attempt.StatusCode < 300 {
				continue
			}
			// A failure may have disabled an endpoint: a routing change
			// the router learns from the store.
			d.c.Router.nudge()
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

// saveOnce records a batch in one transaction, trying again with backoff,
// for about 12 seconds, while the store cannot be reached.
func (d *dispatcher) saveOnce(batch []store.AttemptResult) error {
	for try := 0; ; try++ {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := d.c.store.RecordAttempts(ctx, batch, d.cfg.DisableAfter)
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

// prune deletes events past their retention, hourly, until ctx ends.
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
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
