package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/matryer/is"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/nahook/nahook/internal/pgtest"
)

// hookReceiver counts the webhooks it gets by webhook-id, refusing any
// whose signature the Standard Webhooks reference library does not accept.
type hookReceiver struct {
	srv     *httptest.Server
	mu      sync.Mutex
	verify  *standardwebhooks.Webhook
	seen    map[string]int
	refused atomic.Int64
}

func newHookReceiver(t *testing.T) *hookReceiver {
	rc := &hookReceiver{seen: map[string]int{}}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		defer rc.mu.Unlock()
		if rc.verify == nil || rc.verify.Verify(body, r.Header) != nil {
			rc.refused.Add(1)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		rc.seen[r.Header.Get("webhook-id")]++
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *hookReceiver) setSecret(t *testing.T, secret string) {
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	rc.mu.Lock()
	rc.verify = wh
	rc.mu.Unlock()
}

// counts returns how many webhooks it got and how many of those repeated
// one it had got already.
func (rc *hookReceiver) counts(ids map[string]bool) (missing, duplicates int) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	for id := range ids {
		switch n := rc.seen[id]; {
		case n == 0:
			missing++
		case n > 1:
			duplicates += n - 1
		}
	}
	return missing, duplicates
}

// setUpDelivery gives the server's workspace an event type published in
// production, an endpoint at rc, and an environment key; it returns the
// key.
func setUpDelivery(t *testing.T, s *server, rc *hookReceiver) string {
	is := is.New(t)
	m := "/management/v1/workspaces/" + s.secrets["NAHOOK_WORKSPACE_ID"]
	mgmt := s.secrets["NAHOOK_MANAGEMENT_KEY"]
	_, envs := s.call("GET", m+"/environments", mgmt, "")
	prod := field(field(envs, "data").([]any)[0], "id").(string)
	status, et := s.call("POST", m+"/event-types", mgmt, `{"name": "order.created"}`)
	is.Equal(status, http.StatusCreated)
	status, _ = s.call("PUT", m+"/environments/"+prod+"/event-types/"+field(et, "id").(string)+"/visibility", mgmt, `{"published": true}`)
	is.Equal(status, http.StatusOK)
	status, ep := s.call("POST", m+"/endpoints", mgmt, fmt.Sprintf(`{"url": %q, "eventTypes": ["order.created"]}`, rc.srv.URL+"/webhooks"))
	is.Equal(status, http.StatusCreated)
	status, secret := s.call("GET", m+"/endpoints/"+field(ep, "id").(string)+"/secret", mgmt, "")
	is.Equal(status, http.StatusOK)
	rc.setSecret(t, field(secret, "key").(string))
	_, key := s.call("POST", m+"/api-keys", mgmt, `{"name": "test"}`)
	return field(key, "key").(string)
}

// The server delivers what it ingests to a real local receiver, signed,
// and its delivery log shows the attempt.
func TestServerDelivers(t *testing.T) {
	is := is.New(t)
	rc := newHookReceiver(t)
	s := start(t, filepath.Join(t.TempDir(), "nahook.db"), true, true)
	key := setUpDelivery(t, s, rc)
	status, accepted := s.call("POST", "/api/ingest/event/order.created", key, `{"orderId": "ord_1"}`)
	is.Equal(status, http.StatusAccepted)
	eventID := field(accepted, "eventId").(string)
	deliveryID := field(field(accepted, "deliveries").([]any)[0], "id").(string)
	waitUntil(t, "the receiver to get the event", func() bool {
		missing, _ := rc.counts(map[string]bool{eventID: true})
		return missing == 0
	})
	is.Equal(rc.refused.Load(), int64(0)) // every signature verified
	m := "/management/v1/workspaces/" + s.secrets["NAHOOK_WORKSPACE_ID"]
	var d any
	waitUntil(t, "the attempt to be recorded", func() bool {
		_, d = s.call("GET", m+"/deliveries/"+deliveryID, s.secrets["NAHOOK_MANAGEMENT_KEY"], "")
		return field(d, "status") == "succeeded"
	})
	attempts := field(d, "attempts").([]any)
	is.Equal(len(attempts), 1)
	is.Equal(field(attempts[0], "statusCode"), float64(200))
	s.stop()
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// crashRun sends events through the server's ingest route, kills the
// server with SIGKILL partway, starts it again on the same database, and
// checks that every event the server acknowledged reaches the receiver at
// least once. Each event has its own Idempotency-Key, and a send that got
// no answer is sent again with it: an event acknowledged to a response that
// was lost is not ingested twice. It reports the duplicates.
func crashRun(t *testing.T, db string, events int) {
	rc := newHookReceiver(t)
	env := []string{"NAHOOK_DELIVERY_TIMEOUT=2s"} // leases of the killed process run out within 9s
	s := start(t, db, true, true, env...)
	key := setUpDelivery(t, s, rc)
	secrets := s.secrets

	var mu sync.Mutex
	acked := map[string]bool{} // event IDs the server acknowledged
	var url atomic.Value
	url.Store(s.url)
	var sent atomic.Int64
	client := &http.Client{Timeout: 10 * time.Second}
	send := func(i int) {
		for {
			req, _ := http.NewRequest("POST", url.Load().(string)+"/api/ingest/event/order.created", strings.NewReader(fmt.Sprintf(`{"n": %d}`, i)))
			req.Header.Set("Authorization", "Bearer "+key)
			req.Header.Set("Idempotency-Key", fmt.Sprint("event-", i))
			res, err := client.Do(req)
			if err == nil {
				raw, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if res.StatusCode == http.StatusAccepted {
					var id string
					if _, err := fmt.Sscanf(string(raw), `{"eventId":%q`, &id); err == nil {
						mu.Lock()
						acked[id] = true
						mu.Unlock()
						sent.Add(1)
						return
					}
				}
			}
			time.Sleep(20 * time.Millisecond) // the server is down or restarting: try again
		}
	}
	var next atomic.Int64
	var senders sync.WaitGroup
	for range 8 {
		senders.Go(func() {
			for {
				i := int(next.Add(1))
				if i > events {
					return
				}
				send(i)
			}
		})
	}

	// Kill the server without warning a third of the way through, then
	// start it again on the same database.
	waitUntil(t, "a third of the events to be acknowledged", func() bool { return sent.Load() >= int64(events/3) })
	s.cmd.Process.Signal(syscall.SIGKILL)
	s.exited <- <-s.exited // seen to exit; left for the cleanup to see too
	t.Logf("killed the server after %d acknowledged events", sent.Load())
	s = start(t, db, false, true, env...)
	s.secrets = secrets
	url.Store(s.url)
	senders.Wait()

	waitUntil(t, "every acknowledged event to be delivered", func() bool {
		mu.Lock()
		defer mu.Unlock()
		missing, _ := rc.counts(acked)
		return missing == 0
	})
	mu.Lock()
	_, duplicates := rc.counts(acked)
	n := len(acked)
	mu.Unlock()
	if n != events {
		t.Fatalf("%d events acknowledged, want %d", n, events)
	}
	if rc.refused.Load() != 0 {
		t.Fatalf("%d deliveries failed signature verification", rc.refused.Load())
	}
	t.Logf("%d events acknowledged, all delivered at least once; %d duplicate deliveries (%.2f%%)", n, duplicates, 100*float64(duplicates)/float64(n))
	s.stop()
}

func TestCrashLosesNothingSQLite(t *testing.T) {
	crashRun(t, filepath.Join(t.TempDir(), "nahook.db"), 10000)
}

func TestCrashLosesNothingPostgres(t *testing.T) {
	crashRun(t, pgtest.Schema(t), 10000)
}
