// Deliveries: listing, showing and retrying them. Sending them is the
// dispatcher's (dispatcher.go, attempt.go).

package nahook

import (
	"context"
	"time"

	"github.com/nahook/nahook/store"
)

// DeliveryService reads the delivery log and retries deliveries by hand.
// Get it from Client.Deliveries; run the deliveries themselves with
// Client.Deliver.
type DeliveryService struct{ c *Client }

// DeliveryFilter narrows a list of deliveries; empty fields do not filter.
type DeliveryFilter struct {
	EndpointID EndpointID
	// EventID lists one event's deliveries.
	EventID EventID
	// ApplicationID lists the deliveries to the application's endpoints.
	ApplicationID ApplicationID
	Status        DeliveryStatus
	// Since and Until bound when the deliveries were made, Until
	// excluded; zero bounds nothing.
	Since, Until time.Time
	// NewestFirst lists the newest first instead of the oldest; the
	// cursor then leads to older ones.
	NewestFirst bool
}

// DeliveryDetail is a delivery with its event and every attempt.
type DeliveryDetail struct {
	Delivery Delivery
	Event    Event
	Attempts []Attempt
}

// List returns one page of the workspace's deliveries that match f,
// oldest first (newest first with f.NewestFirst). Filtering by an
// endpoint not in the workspace is ErrNotFound.
func (s *DeliveryService) List(ctx context.Context, ws WorkspaceID, f DeliveryFilter, opts ListOptions) (Page[Delivery], error) {
	if err := workspace(ws); err != nil {
		return Page[Delivery]{}, err
	}
	if f.EndpointID != "" {
		if _, err := s.c.Endpoints.Get(ctx, ws, f.EndpointID); err != nil {
			return Page[Delivery]{}, err
		}
	}
	return s.list(ctx, ws, f, opts)
}

// list is List for a filter whose endpoint, if any, is known to be in the
// workspace.
func (s *DeliveryService) list(ctx context.Context, ws WorkspaceID, f DeliveryFilter, opts ListOptions) (Page[Delivery], error) {
	switch f.Status {
	case "", DeliveryPending, DeliverySucceeded, DeliveryFailed:
	default:
		return Page[Delivery]{}, store.Invalid("status", "status must be pending, succeeded or failed")
	}
	if f.EventID != "" {
		if err := ref("eventId", prefixEvent, f.EventID); err != nil {
			return Page[Delivery]{}, err
		}
	}
	if f.ApplicationID != "" {
		if err := ref("applicationId", prefixApplication, f.ApplicationID); err != nil {
			return Page[Delivery]{}, err
		}
	}
	var err error
	if f.Since, f.Until, err = window(f.Since, f.Until); err != nil {
		return Page[Delivery]{}, err
	}
	sf := store.DeliveryFilter{EndpointID: f.EndpointID, EventID: f.EventID, ApplicationID: f.ApplicationID, Status: f.Status,
		Since: f.Since, Until: f.Until, NewestFirst: f.NewestFirst}
	return list(opts, prefixDelivery, func(d Delivery) DeliveryID { return d.ID },
		func(p store.PageRequest) ([]Delivery, error) { return s.c.store.ListDeliveries(ctx, ws, sf, p) })
}

// Get returns a delivery with its event and attempts, or ErrNotFound.
func (s *DeliveryService) Get(ctx context.Context, ws WorkspaceID, id DeliveryID) (DeliveryDetail, error) {
	if err := workspace(ws); err != nil {
		return DeliveryDetail{}, err
	}
	if err := subject("", prefixDelivery, id); err != nil {
		return DeliveryDetail{}, err
	}
	d, attempts, err := s.c.store.GetDelivery(ctx, ws, id)
	if err != nil {
		return DeliveryDetail{}, err
	}
	ev, err := s.c.store.GetEvent(ctx, ws, d.EventID)
	if err != nil {
		return DeliveryDetail{}, err
	}
	return DeliveryDetail{Delivery: d, Event: ev, Attempts: attempts}, nil
}

// Retry makes a failed delivery pending again, due now: one more attempt,
// and the retries the schedule has left. A delivery that has not failed is
// ErrConflict.
func (s *DeliveryService) Retry(ctx context.Context, ws WorkspaceID, id DeliveryID) (Delivery, error) {
	if err := workspace(ws); err != nil {
		return Delivery{}, err
	}
	if err := subject("", prefixDelivery, id); err != nil {
		return Delivery{}, err
	}
	d, err := s.c.store.RetryDelivery(ctx, ws, id, s.c.now())
	if err == nil {
		s.c.nudgeDelivery()
	}
	return d, err
}
