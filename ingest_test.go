package nahook_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/matryer/is"

	"github.com/nahook/nahook"
	"github.com/nahook/nahook/store"
)

// Concurrent ingests, whose commits are shared, each get their own
// answer: an event stored, a replay of its key's first event, or its own
// error; nothing of one caller's mistake reaches another.
func TestConcurrentIngestsEachGetTheirOwnAnswer(t *testing.T) {
	onEachStore(t, func(t *testing.T, st store.Store) {
		is := is.New(t)
		ctx := context.Background()
		defer st.Close()
		nh := must(nahook.New(st, nahook.Config{Logger: quiet}))
		defer nh.Close()
		ws, key := shop(nh, "Concurrent")
		ep := must(nh.Endpoints.Create(ctx, ws, nahook.EndpointInput{URL: "https://example.com/hook", EventTypes: []string{"order.created"}}))
		check(nh.Router.Load(ctx))

		// 40 callers: keys k0…k9 sent twice each with the same payload,
		// k10…k14 twice with different payloads, and 10 with an
		// application the workspace does not have.
		type call struct {
			key, payload string
			app          nahook.ApplicationID
		}
		var calls []call
		for i := range 10 {
			calls = append(calls, call{key: fmt.Sprint("k", i), payload: "{}"}, call{key: fmt.Sprint("k", i), payload: "{}"})
		}
		for i := 10; i < 15; i++ {
			calls = append(calls, call{key: fmt.Sprint("k", i), payload: `{"a":1}`}, call{key: fmt.Sprint("k", i), payload: `{"a":2}`})
		}
		for range 10 {
			calls = append(calls, call{payload: "{}", app: "app_01kaaaaaaaaaaaaaaaaaaaaaaa"})
		}
		got := make([]nahook.Ingested, len(calls))
		errs := make([]error, len(calls))
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i, c := range calls {
			wg.Go(func() {
				<-start
				got[i], errs[i] = nh.Events.Ingest(ctx, key, "order.created",
					nahook.IngestInput{Payload: []byte(c.payload), IdempotencyKey: c.key, ApplicationID: c.app})
			})
		}
		close(start)
		wg.Wait()

		first := map[string]nahook.EventID{}
		var stored, replayed, reused, missing int
		for i, c := range calls {
			switch {
			case c.app != "":
				is.True(errors.Is(errs[i], nahook.ErrNotFound)) // its own mistake
				missing++
			case errors.Is(errs[i], nahook.ErrIdempotencyKeyReused):
				reused++
			default:
				is.NoErr(errs[i])
				if got[i].Replayed {
					replayed++
				} else {
					stored++
					is.Equal(len(got[i].Deliveries), 1)
				}
				if id, ok := first[c.key]; ok {
					is.Equal(got[i].Event.ID, id) // one event per key
				}
				first[c.key] = got[i].Event.ID
			}
		}
		is.Equal([]int{stored, replayed, reused, missing}, []int{15, 10, 5, 10})
		ds := must(nh.Deliveries.List(ctx, ws, nahook.DeliveryFilter{EndpointID: ep.ID}, nahook.ListOptions{Limit: 100}))
		is.Equal(len(ds.Items), 15) // one per event stored, none for the refused
	})
}
