package nahook_test

import (
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/matryer/is"

	"github.com/nahook/nahook"
)

// concurrency counts the requests a receiver is answering at once, and the
// most it has.
type concurrency struct{ now, most atomic.Int64 }

func (c *concurrency) enter() {
	n := c.now.Add(1)
	for m := c.most.Load(); n > m && !c.most.CompareAndSwap(m, n); m = c.most.Load() {
	}
}

func (c *concurrency) leave() { c.now.Add(-1) }

// tarpit accepts connections and never answers, holding each until the
// test ends, and returns its URL and how many requests it has taken.
func tarpit(t testing.TB) (string, *atomic.Int64) {
	ln := must(net.Listen("tcp", "127.0.0.1:0"))
	var n atomic.Int64
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			n.Add(1)
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return "http://" + ln.Addr().String() + "/hook", &n
}

// An endpoint never has more than MaxInFlightPerEndpoint attempts in flight,
// however many of its deliveries are due; and one that has answered well
// gets that many.
func TestDeliverCapsAttemptsInFlightPerEndpoint(t *testing.T) {
	is := is.New(t)
	w := newDeliveryWorld(t, nahook.Config{Delivery: nahook.DeliveryConfig{MaxInFlightPerEndpoint: 3, PollInterval: 5 * time.Millisecond}})
	var c concurrency
	release := make(chan struct{})
	rc := newReceiver(t, func(n int, _ http.ResponseWriter) {
		if n == 1 {
			return // the first answers at once: the endpoint is new, on probation until it does
		}
		c.enter()
		defer c.leave()
		<-release
	})
	w.endpoint(t, rc)
	first := w.ingest(t, `{}`)
	w.waitStatus(t, first.Deliveries[0].ID, nahook.DeliverySucceeded)
	var ids []nahook.DeliveryID
	for range 20 {
		ids = append(ids, w.ingest(t, `{}`).Deliveries[0].ID)
	}
	waitFor(t, "3 attempts in flight", func() bool { return c.now.Load() == 3 })
	time.Sleep(50 * time.Millisecond) // time for a fourth, were one allowed
	is.Equal(c.most.Load(), int64(3))
	close(release)
	for _, id := range ids {
		w.waitStatus(t, id, nahook.DeliverySucceeded)
	}
	is.Equal(c.most.Load(), int64(3)) // never more
}

// An endpoint whose attempts fail, or succeed slowly, is on probation: one
// attempt at a time until one succeeds in good time. Its deliveries still
// follow the schedule, every attempt counted.
func TestDeliverProbationOneAttemptAtATime(t *testing.T) {
	for _, c := range []struct {
		name   string
		answer int
		delay  time.Duration
		final  nahook.DeliveryStatus
	}{
		{"failing", http.StatusServiceUnavailable, 0, nahook.DeliveryFailed},
		{"slow", http.StatusOK, 30 * time.Millisecond, nahook.DeliverySucceeded},
	} {
		t.Run(c.name, func(t *testing.T) {
			is := is.New(t)
			schedule := []time.Duration{time.Millisecond, time.Millisecond}
			w := newDeliveryWorld(t, nahook.Config{Delivery: nahook.DeliveryConfig{Schedule: schedule, SlowAfter: 10 * time.Millisecond,
				PollInterval: 5 * time.Millisecond, DisableAfter: -1}})
			var cc concurrency
			rc := newReceiver(t, func(_ int, w http.ResponseWriter) {
				cc.enter()
				defer cc.leave()
				time.Sleep(c.delay + 5*time.Millisecond) // long enough to overlap, were attempts allowed to
				w.WriteHeader(c.answer)
			})
			w.endpoint(t, rc)
			var ids []nahook.DeliveryID
			for range 10 {
				ids = append(ids, w.ingest(t, `{}`).Deliveries[0].ID)
			}
			for _, id := range ids {
				d := w.waitStatus(t, id, c.final)
				if c.final == nahook.DeliveryFailed {
					is.Equal(d.Delivery.Attempts, 1+len(schedule)) // each retry the schedule has, none dropped
				}
			}
			is.Equal(cc.most.Load(), int64(1))
		})
	}
}

// Endpoints on probation hold at most ProbeWorkers workers together, and
// one customer's at most half of them: another customer's new endpoint
// finds one free, and endpoints in good standing are not held up at all.
func TestDeliverProbesShareBoundedWorkers(t *testing.T) {
	is := is.New(t)
	w := newDeliveryWorld(t, nahook.Config{Delivery: nahook.DeliveryConfig{Workers: 6, ProbeWorkers: 4, Timeout: time.Minute,
		PollInterval: 5 * time.Millisecond}})
	established := newReceiver(t, nil)
	w.endpoint(t, established)
	w.ingest(t, `{}`)
	waitFor(t, "the established endpoint's first event", func() bool { return len(established.requests()) == 1 })

	// Two customers make endpoints that never answer.
	var taken []*atomic.Int64
	for _, name := range []string{"Hostile", "Also hostile"} {
		app := w.customer(t, name)
		for range 3 {
			url, n := tarpit(t)
			taken = append(taken, n)
			w.endpointAt(t, url, app)
		}
	}
	sum := func() (total int64) {
		for _, n := range taken {
			total += n.Load()
		}
		return total
	}
	for range 3 {
		w.broadcast(t, `{}`) // to every endpoint, the customers' too
	}
	waitFor(t, "the established endpoint to get every event", func() bool { return len(established.requests()) == 4 })
	waitFor(t, "the tarpits to hold every probe worker", func() bool { return sum() == 4 })
	time.Sleep(50 * time.Millisecond) // time for a fifth, were one allowed
	is.Equal(sum(), int64(4))         // ProbeWorkers, two per customer: six tarpits, two workers left

	// ProbeWorkers is a bound for all customers together: a third
	// customer's new endpoint, on probation too, waits for a probe worker
	// while the two hostile customers hold all four.
	fresh := newReceiver(t, nil)
	w.endpoint(t, fresh, w.customer(t, "Newcomer"))
	w.broadcast(t, `{}`)
	waitFor(t, "the established endpoint to get the later event too", func() bool { return len(established.requests()) == 5 })
	is.Equal(len(fresh.requests()), 0) // the probe share is full
}

// One customer's endpoints on probation hold at most half the probe
// workers: another customer's new endpoint gets its first delivery while
// they hang.
func TestDeliverProbesLeaveRoomForOtherCustomers(t *testing.T) {
	w := newDeliveryWorld(t, nahook.Config{Delivery: nahook.DeliveryConfig{Workers: 8, ProbeWorkers: 4, Timeout: time.Minute,
		PollInterval: 5 * time.Millisecond}})
	hostile := w.customer(t, "Hostile")
	var taken []*atomic.Int64
	for range 5 {
		url, n := tarpit(t)
		taken = append(taken, n)
		w.endpointAt(t, url, hostile)
	}
	w.broadcast(t, `{}`)
	waitFor(t, "the tarpits to take their half of the probe workers", func() bool {
		total := int64(0)
		for _, n := range taken {
			total += n.Load()
		}
		return total == 2
	})
	fresh := newReceiver(t, nil)
	w.endpoint(t, fresh, w.customer(t, "Newcomer"))
	w.broadcast(t, `{}`)
	waitFor(t, "the newcomer's first delivery", func() bool { return len(fresh.requests()) == 1 })
}
