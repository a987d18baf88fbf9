package nahook_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/matryer/is"

	"github.com/nahook/nahook"
	"github.com/nahook/nahook/httpapi"
	"github.com/nahook/nahook/store"
	"github.com/nahook/nahook/store/sqlite"
)

// rawReceiver answers every request with answer, bytes no http.Handler
// could write (a status line of megabytes, say), and returns its URL and
// a count of the requests it has read.
func rawReceiver(t *testing.T, answer []byte) (string, *atomic.Int64) {
	ln := must(net.Listen("tcp", "127.0.0.1:0"))
	var n atomic.Int64
	var conns sync.WaitGroup
	accepting := make(chan struct{})
	go func() {
		defer close(accepting)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Go(func() {
				defer c.Close()
				req, err := http.ReadRequest(bufio.NewReader(c))
				if err != nil {
					return
				}
				io.Copy(io.Discard, req.Body)
				n.Add(1)
				// The client hangs up once it has read what it will;
				// the deadline only guards against one that does not.
				c.SetWriteDeadline(time.Now().Add(10 * time.Second))
				c.Write(answer)
			})
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-accepting
		conns.Wait()
	})
	return "http://" + ln.Addr().String() + "/hook", &n
}

// TestDeliverHostileAnswers: what a receiver answers is data, never a
// fault. Beside receivers that answer a NUL, invalid UTF-8, a body whose
// 4 KiB cut falls inside a character, a status line of megabytes and
// headers of megabytes, a healthy endpoint gets every event exactly once;
// every bad delivery has each attempt recorded, as text every store keeps,
// and follows the retry schedule; and a list of 250 such deliveries stays
// small.
func TestDeliverHostileAnswers(t *testing.T) {
	onEachStore(t, func(t *testing.T, st store.Store) {
		is := is.New(t)
		ctx := context.Background()
		schedule := []time.Duration{10 * time.Millisecond, 10 * time.Millisecond}
		w := newDeliveryWorldOn(t, st, nahook.Config{Delivery: nahook.DeliveryConfig{Schedule: schedule,
			PollInterval: 5 * time.Millisecond, DisableAfter: -1}})

		healthy := newReceiver(t, nil)
		w.endpoint(t, healthy)
		body := func(b string) *receiver {
			return newReceiver(t, func(_ int, w http.ResponseWriter) { io.WriteString(w, b) })
		}
		megabytes := strings.Repeat("x", 3<<20)
		statusLine, _ := rawReceiver(t, []byte("HTTP/1.1 200 "+megabytes+"\r\nContent-Length: 0\r\n\r\n"))
		headers, _ := rawReceiver(t, []byte("HTTP/1.1 200 OK\r\nX-Big: "+megabytes+"\r\nContent-Length: 0\r\n\r\n"))
		cases := []struct {
			name     string
			url      string
			status   nahook.DeliveryStatus
			response string // kept of the answer, for those that succeed
		}{
			{"NUL", body("ok\x00done").srv.URL, nahook.DeliverySucceeded, "ok\uFFFDdone"},
			{"invalid UTF-8", body("\xff\xfe ok").srv.URL, nahook.DeliverySucceeded, "\uFFFD ok"},
			{"cut inside a character", body(strings.Repeat("a", 4095) + strings.Repeat("é", 1000)).srv.URL, nahook.DeliverySucceeded, strings.Repeat("a", 4095)},
			{"status line of megabytes", statusLine, nahook.DeliveryFailed, ""},
			{"headers of megabytes", headers, nahook.DeliveryFailed, ""},
		}
		byEndpoint := map[nahook.EndpointID]int{}
		for i, c := range cases {
			byEndpoint[w.endpointAt(t, c.url).ID] = i
		}

		const events = 20
		var ids []nahook.DeliveryID
		for range events {
			for _, d := range w.ingest(t, `{"n": 1}`).Deliveries {
				ids = append(ids, d.ID)
			}
		}
		for _, id := range ids {
			waitFor(t, "delivery "+string(id)+" to be final", func() bool {
				return w.delivery(t, id).Delivery.Status != nahook.DeliveryPending
			})
			d := w.delivery(t, id)
			i, bad := byEndpoint[d.Delivery.EndpointID]
			if !bad {
				is.Equal(d.Delivery.Status, nahook.DeliverySucceeded) // the healthy endpoint's
				continue
			}
			c := cases[i]
			if d.Delivery.Status != c.status {
				t.Fatalf("%s: delivery is %s, want %s (attempts: %+v)", c.name, d.Delivery.Status, c.status, d.Attempts)
			}
			want := 1
			if c.status == nahook.DeliveryFailed {
				want = 1 + len(schedule) // every retry the schedule has
			}
			is.Equal(d.Delivery.Attempts, want)
			is.Equal(len(d.Attempts), want)
			for j, a := range d.Attempts {
				is.Equal(a.Number, j+1)
				for _, text := range []string{a.Response, a.Error, d.Delivery.LastError} {
					is.True(utf8.ValidString(text))
					is.True(!strings.ContainsRune(text, 0))
				}
				is.True(len(a.Error) <= 1024)
				if c.status == nahook.DeliverySucceeded {
					is.Equal(a.Response, c.response)
				} else {
					is.True(a.Error != "")
					t.Logf("%s: %s", c.name, a.Error)
				}
				if j > 0 {
					// Not before the schedule's wait, less its jitter.
					is.True(a.AttemptedAt.Sub(d.Attempts[j-1].AttemptedAt) >= 7*time.Millisecond)
				}
			}
		}
		seen := map[string]int{}
		for _, r := range healthy.requests() {
			seen[r.header.Get("webhook-id")]++
		}
		is.Equal(len(seen), events)
		for id, n := range seen {
			if n != 1 {
				t.Fatalf("the healthy endpoint got %s %d times", id, n)
			}
		}

		// 250 deliveries to the receiver of the megabyte status line: their
		// list answers in well under a megabyte.
		var target nahook.EndpointID
		for ep, i := range byEndpoint {
			if cases[i].name == "status line of megabytes" {
				target = ep
			}
		}
		for range 250 - events {
			must(w.nh.Events.IngestDirect(ctx, w.key, target, nahook.IngestInput{Payload: []byte(`{}`)}))
		}
		// On probation, one attempt at a time: 690 of them.
		waitForWithin(t, 3*time.Minute, "every delivery to fail", func() bool {
			p := must(w.nh.Deliveries.List(ctx, w.ws, nahook.DeliveryFilter{EndpointID: target, Status: nahook.DeliveryPending}, nahook.ListOptions{}))
			return len(p.Items) == 0
		})
		api := must(httpapi.New(httpapi.Config{Client: w.nh, Logger: quiet}))
		mgmt := must(w.nh.APIKeys.CreateManagement(ctx, w.ws, "test"))
		req := httptest.NewRequest("GET", "/management/v1/workspaces/"+string(w.ws)+"/endpoints/"+string(target)+"/deliveries?limit=250", nil)
		req.Header.Set("Authorization", "Bearer "+mgmt.Plaintext)
		rec := httptest.NewRecorder()
		api.ServeHTTP(rec, req)
		is.Equal(rec.Code, http.StatusOK)
		var list struct {
			Data []struct {
				AttemptCount int    `json:"attemptCount"`
				LastError    string `json:"lastError"`
			} `json:"data"`
		}
		is.NoErr(json.Unmarshal(rec.Body.Bytes(), &list))
		is.Equal(len(list.Data), 250)
		for _, d := range list.Data {
			is.Equal(d.AttemptCount, 1+len(schedule))
		}
		t.Logf("a list of 250 deliveries: %d bytes", rec.Body.Len())
		is.True(rec.Body.Len() < 1<<20)
	})
}

// refusingStore refuses, as Postgres refuses a NUL, any batch of results
// that holds an answer containing "poison".
type refusingStore struct {
	store.Store
	refused atomic.Int64
}

func (s *refusingStore) RecordAttempts(ctx context.Context, results []store.AttemptResult, streaks []store.Streak) error {
	for _, r := range results {
		if strings.Contains(r.Attempt.Response, "poison") {
			s.refused.Add(1)
			return store.Unstorable(nil)
		}
	}
	return s.Store.RecordAttempts(ctx, results, streaks)
}

// TestDeliverRecordsAroundARefusedResult: a result the store refuses does
// not keep the others of its batch from being recorded, and is itself
// recorded without the answer, so that its attempt counts.
func TestDeliverRecordsAroundARefusedResult(t *testing.T) {
	is := is.New(t)
	st := &refusingStore{Store: must(sqlite.Open(context.Background(), ":memory:"))}
	w := newDeliveryWorldOn(t, st, nahook.Config{Delivery: nahook.DeliveryConfig{PollInterval: 5 * time.Millisecond}})
	healthy := newReceiver(t, nil)
	w.endpoint(t, healthy)
	poison := newReceiver(t, func(_ int, w http.ResponseWriter) { io.WriteString(w, "poison") })
	bad := w.endpoint(t, poison)
	var ids []nahook.DeliveryID
	for range 30 {
		for _, d := range w.ingest(t, `{}`).Deliveries {
			ids = append(ids, d.ID)
		}
	}
	for _, id := range ids {
		d := w.waitStatus(t, id, nahook.DeliverySucceeded)
		is.Equal(d.Delivery.Attempts, 1)
		is.Equal(len(d.Attempts), 1)
		if d.Delivery.EndpointID == bad.ID {
			is.Equal(d.Attempts[0].Response, "")
			is.Equal(d.Attempts[0].Error, "the endpoint's answer could not be recorded")
		}
	}
	is.True(st.refused.Load() > 0)
	is.Equal(len(healthy.requests()), 30) // each once: none waited for its lease to run out
	is.Equal(len(poison.requests()), 30)
}
