package nahook_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/matryer/is"

	"github.com/nahook/nahook"
	"github.com/nahook/nahook/store"
)

// countingStore counts the batches written.
type countingStore struct {
	store.Store
	batches atomic.Int64
}

func (s *countingStore) IngestBatch(ctx context.Context, items []store.IngestItem) ([]store.IngestResult, error) {
	s.batches.Add(1)
	return s.Store.IngestBatch(ctx, items)
}

// A batch is written in one transaction, and each event is answered as it
// would have been alone: stored, replayed, or refused on its own.
func TestIngestBatch(t *testing.T) {
	onEachStore(t, func(t *testing.T, st store.Store) {
		is := is.New(t)
		ctx := context.Background()
		defer st.Close()
		counting := &countingStore{Store: st}
		nh := must(nahook.New(counting, nahook.Config{Logger: quiet}))
		defer nh.Close()
		ws, key := shop(nh, "Batch")
		a := must(nh.Endpoints.Create(ctx, ws, nahook.EndpointInput{URL: "https://a.example/hook", EventTypes: []string{"order.created"}}))
		before := must(nh.Events.Ingest(ctx, key, "order.created", nahook.IngestInput{Payload: []byte(`{"n":0}`), IdempotencyKey: "before"}))

		typed := func(payload, key string) nahook.BatchEvent {
			return nahook.BatchEvent{EventType: "order.created", IngestInput: nahook.IngestInput{Payload: []byte(payload), IdempotencyKey: key}}
		}
		events := []nahook.BatchEvent{
			typed(`{"n":1}`, ""),
			{EndpointID: a.ID, IngestInput: nahook.IngestInput{Payload: []byte(`{"n":2}`)}},
			{EventType: "order.nope", IngestInput: nahook.IngestInput{Payload: []byte(`{}`)}},
			{EventType: "order.created", EndpointID: a.ID, IngestInput: nahook.IngestInput{Payload: []byte(`{}`)}},
			typed(`{"n":3}`, "k"),
			typed(`{"n":3}`, "k"),      // the same again: a replay of the one before
			typed(`{"n":4}`, "k"),      // the key, for another event
			typed(`{"n":0}`, "before"), // a key committed before the batch
			typed(`not json`, ""),      // a bad payload
			{EventType: "order.created", IngestInput: nahook.IngestInput{Payload: []byte(`{}`), ApplicationID: "app_01kaaaaaaaaaaaaaaaaaaaaaaa"}},
		}
		got, err := nh.Events.IngestBatch(ctx, key, events)
		is.NoErr(err)
		is.Equal(len(got), len(events))
		is.Equal(counting.batches.Load(), int64(1)) // one transaction

		for _, i := range []int{0, 1, 4} {
			is.NoErr(got[i].Err)
			is.True(!got[i].Replayed)
			is.Equal(len(got[i].Deliveries), 1)
			stored := must(nh.Events.Get(ctx, ws, got[i].Event.ID))
			is.Equal(string(stored.Payload), string(events[i].Payload))
		}
		is.Equal(got[1].Event.EndpointID, a.ID) // sent straight to a
		is.True(errors.Is(got[2].Err, nahook.ErrUnknownEventType))
		is.True(errors.Is(got[3].Err, nahook.ErrInvalid))
		is.NoErr(got[5].Err)
		is.True(got[5].Replayed)
		is.Equal(got[5].Event.ID, got[4].Event.ID)
		is.True(errors.Is(got[6].Err, nahook.ErrIdempotencyKeyReused))
		is.NoErr(got[7].Err)
		is.True(got[7].Replayed)
		is.Equal(got[7].Event.ID, before.Event.ID)
		is.True(errors.Is(got[8].Err, nahook.ErrInvalid))
		is.True(errors.Is(got[9].Err, nahook.ErrNotFound))

		ds := must(nh.Deliveries.List(ctx, ws, nahook.DeliveryFilter{EndpointID: a.ID}, nahook.ListOptions{Limit: 100}))
		is.Equal(len(ds.Items), 4) // before's, and 0, 1 and 4's

		// What concerns the whole batch fails the call.
		_, err = nh.Events.IngestBatch(ctx, key, nil)
		is.True(errors.Is(err, nahook.ErrInvalid))
		_, err = nh.Events.IngestBatch(ctx, key, make([]nahook.BatchEvent, nahook.MaxBatchEvents+1))
		is.True(errors.Is(err, nahook.ErrInvalid))
		_, err = nh.Events.IngestBatch(ctx, "nhk_nope", events[:1])
		is.True(errors.Is(err, nahook.ErrUnauthorized))
	})
}

// SendBatch answers each message on its own, in one transaction.
func TestSendBatch(t *testing.T) {
	onEachStore(t, func(t *testing.T, st store.Store) {
		is := is.New(t)
		ctx := context.Background()
		defer st.Close()
		counting := &countingStore{Store: st}
		nh := must(nahook.New(counting, nahook.Config{Logger: quiet}))
		defer nh.Close()
		ws, _ := shop(nh, "Batch")
		must(nh.Endpoints.Create(ctx, ws, nahook.EndpointInput{URL: "https://a.example/hook", EventTypes: []string{"order.created"}}))
		got, err := nh.Events.SendBatch(ctx, []nahook.Message{
			{WorkspaceID: ws, EventType: "order.created", Payload: []byte(`{"n":1}`)},
			{WorkspaceID: "ws_01kaaaaaaaaaaaaaaaaaaaaaaa", EventType: "order.created", Payload: []byte(`{}`)},
			{WorkspaceID: ws, EventType: "order.created", Payload: []byte(`{"n":2}`)},
		})
		is.NoErr(err)
		is.NoErr(got[0].Err)
		is.True(errors.Is(got[1].Err, nahook.ErrNotFound))
		is.NoErr(got[2].Err)
		is.Equal(len(got[0].Deliveries)+len(got[2].Deliveries), 2)
		is.Equal(counting.batches.Load(), int64(1))
		_, err = nh.Events.SendBatch(ctx, nil)
		is.True(errors.Is(err, nahook.ErrInvalid))
	})
}
