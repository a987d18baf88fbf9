package nahook_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/matryer/is"

	"github.com/nahook/nahook"
)

// An endpoint down long enough to exhaust its schedule, then back: Recover
// sends its failures again with the whole schedule before them; Resend
// sends a success again, with the same webhook-id; ReplayMissing sends
// what it missed while disabled.
func TestRecoveryEndToEnd(t *testing.T) {
	is := is.New(t)
	ctx := context.Background()
	w := newDueWorld(t, nahook.DeliveryConfig{Schedule: []time.Duration{time.Minute}})
	down := w.endpoint(t, "https://down.example/hook", http.StatusServiceUnavailable)
	since := w.clock()
	var failed []nahook.DeliveryID
	for range 3 {
		in := must(w.nh.Events.Ingest(ctx, w.key, "order.created", nahook.IngestInput{Payload: []byte(`{}`)}))
		failed = append(failed, in.Deliveries[0].ID)
	}
	must(w.nh.DeliverDue(ctx))
	w.advance(2 * time.Minute)
	must(w.nh.DeliverDue(ctx)) // the schedule is spent: failed
	for _, id := range failed {
		is.Equal(must(w.nh.Deliveries.Get(ctx, w.ws, id)).Delivery.Status, nahook.DeliveryFailed)
	}

	// Back up. Recover: each failed delivery is due now, and has its
	// schedule again (one retry after a failure, not straight to failed).
	w.setStatus(down.URL, http.StatusServiceUnavailable)
	n, err := w.nh.Deliveries.Recover(ctx, w.ws, down.ID, nahook.RecoverOptions{Since: since})
	is.NoErr(err)
	is.Equal(n, 3)
	is.Equal(must(w.nh.DeliverDue(ctx)), 3)
	for _, id := range failed {
		d := must(w.nh.Deliveries.Get(ctx, w.ws, id)).Delivery
		is.Equal(d.Status, nahook.DeliveryPending) // a retry is left
		is.Equal(d.Attempts, 3)
		is.Equal(d.SeriesStart, 2)
	}
	w.setStatus(down.URL, http.StatusOK)
	w.advance(2 * time.Minute)
	is.Equal(must(w.nh.DeliverDue(ctx)), 3)
	n, err = w.nh.Deliveries.Recover(ctx, w.ws, down.ID, nahook.RecoverOptions{Since: since})
	is.NoErr(err)
	is.Equal(n, 0) // nothing failed any more

	// Resend a success: sent again, once.
	sent := w.requests(down.URL)
	d, err := w.nh.Deliveries.Resend(ctx, w.ws, failed[0])
	is.NoErr(err)
	is.Equal(d.Status, nahook.DeliveryPending)
	is.Equal(must(w.nh.DeliverDue(ctx)), 1)
	is.Equal(w.requests(down.URL), sent+1)

	// Disabled, it misses events; enabled again, they are replayed, once.
	disabled := true
	must(w.nh.Endpoints.Update(ctx, w.ws, down.ID, nahook.EndpointPatch{Disabled: &disabled}))
	_, err = w.nh.Deliveries.Resend(ctx, w.ws, failed[0])
	wantErr(t, "Resend to a disabled endpoint", err, nahook.ErrEndpointDisabled, "endpointId")
	_, err = w.nh.Deliveries.ReplayMissing(ctx, w.ws, down.ID, nahook.ReplayOptions{Since: since})
	wantErr(t, "ReplayMissing to a disabled endpoint", err, nahook.ErrEndpointDisabled, "endpointId")
	for range 2 {
		in := must(w.nh.Events.Ingest(ctx, w.key, "order.created", nahook.IngestInput{Payload: []byte(`{}`)}))
		is.Equal(len(in.Deliveries), 0)
	}
	enabled := false
	must(w.nh.Endpoints.Update(ctx, w.ws, down.ID, nahook.EndpointPatch{Disabled: &enabled}))
	n, err = w.nh.Deliveries.ReplayMissing(ctx, w.ws, down.ID, nahook.ReplayOptions{Since: since})
	is.NoErr(err)
	is.Equal(n, 2)
	n, err = w.nh.Deliveries.ReplayMissing(ctx, w.ws, down.ID, nahook.ReplayOptions{Since: since})
	is.NoErr(err)
	is.Equal(n, 0)
	sent = w.requests(down.URL)
	is.Equal(must(w.nh.DeliverDue(ctx)), 2)
	is.Equal(w.requests(down.URL), sent+2)
}

// What Recover and ReplayMissing refuse, naming the field: a window that
// is missing, in the future, reversed or older than the retention; an
// endpoint not in the workspace.
func TestRecoveryRefuses(t *testing.T) {
	ctx := context.Background()
	w := newDueWorld(t, nahook.DeliveryConfig{Retention: 48 * time.Hour})
	ep := w.endpoint(t, "https://a.example/hook", http.StatusOK)
	now := w.clock()
	for _, c := range []struct {
		opts  nahook.RecoverOptions
		field string
	}{
		{nahook.RecoverOptions{}, "since"},
		{nahook.RecoverOptions{Since: now.Add(time.Minute)}, "since"},
		{nahook.RecoverOptions{Since: now.Add(-49 * time.Hour)}, "since"},
		{nahook.RecoverOptions{Since: now.Add(-time.Hour), Until: now.Add(-2 * time.Hour)}, "until"},
		{nahook.RecoverOptions{Since: now.Add(-time.Hour), Until: now.Add(-time.Hour)}, "until"},
	} {
		_, err := w.nh.Deliveries.Recover(ctx, w.ws, ep.ID, c.opts)
		wantField(t, "Recover", err, nahook.ErrInvalid, c.field)
		_, err = w.nh.Deliveries.ReplayMissing(ctx, w.ws, ep.ID, nahook.ReplayOptions{Since: c.opts.Since})
		if c.field == "since" {
			wantField(t, "ReplayMissing", err, nahook.ErrInvalid, "since")
		}
	}
	_, err := w.nh.Deliveries.Recover(ctx, w.ws, "ep_01kaaaaaaaaaaaaaaaaaaaaaaa", nahook.RecoverOptions{Since: now.Add(-time.Hour)})
	wantErr(t, "Recover, unknown endpoint", err, nahook.ErrNotFound, "")
	_, err = w.nh.Deliveries.ReplayMissing(ctx, w.ws, "ep_01kaaaaaaaaaaaaaaaaaaaaaaa", nahook.ReplayOptions{Since: now.Add(-time.Hour)})
	wantErr(t, "ReplayMissing, unknown endpoint", err, nahook.ErrNotFound, "")
	_, err = w.nh.Deliveries.Resend(ctx, w.ws, "dlv_01kaaaaaaaaaaaaaaaaaaaaaaa")
	wantErr(t, "Resend, unknown delivery", err, nahook.ErrNotFound, "")
	_, err = w.nh.Deliveries.Recover(ctx, w.ws, "nope", nahook.RecoverOptions{Since: now.Add(-time.Hour)})
	wantErr(t, "Recover, malformed endpoint ID", err, nahook.ErrNotFound, "") // as Endpoints.Get answers it
}
