// Recovery: sending deliveries again, by hand. A resend or a recovery
// starts a delivery's retry schedule over (Delivery.SeriesStart); replaying
// what is missing adds deliveries an endpoint never had. Each call is one
// bounded transaction: nahook loops over a large recovery in steps, so
// that delivery goes on between them.

package store

import (
	"context"
	"fmt"
	"time"
)

// RecoveryStore sends deliveries again.
type RecoveryStore interface {
	// ResendDelivery makes the delivery pending, due at at, whatever its
	// status, and starts its retry schedule over (SeriesStart becomes
	// Attempts); its attempts so far are kept. It returns the delivery as
	// it now is; ErrNotFound; or ErrConflict while a dispatcher holds it
	// (pending, leased past at), whose attempt would otherwise race the
	// resend.
	ResendDelivery(ctx context.Context, ws WorkspaceID, id DeliveryID, at time.Time) (Delivery, error)
	// RecoverDeliveries makes failed deliveries of one endpoint pending,
	// due at r.At, their retry schedules started over: those made
	// (CreatedAt) from r.Since until r.Until, excluded, whose IDs sort
	// after r.After, up to r.Limit of them in ID order, in one
	// transaction. It returns how many it made pending, the last ID it
	// looked at, the After of the next step, and how many it looked at:
	// the recovery is over when fewer than Limit. A delivery is made
	// pending once however many callers recover it at once, in any
	// process: only a failed one moves.
	RecoverDeliveries(ctx context.Context, r RecoverRequest) (recovered int, last DeliveryID, looked int, err error)
	// QueueMissing adds a pending delivery, due at r.At, to r.EndpointID
	// for every event of r.EnvironmentID that the endpoint has none for
	// and that it would receive: made (CreatedAt) at r.Since or later,
	// routed by type (not sent straight to an endpoint), of a type in
	// r.EventTypes, and for r.ApplicationID (when set: the events sent for
	// it, and broadcasts; when empty: the events sent for no application).
	// It looks at up to r.Limit such events whose IDs sort after r.After,
	// in ID order, and returns how many deliveries it added, the last
	// event ID it looked at and how many it looked at: the replay is over
	// when fewer than Limit. The deliveries are added in one transaction. No
	// event gets two deliveries to one endpoint, however many callers
	// queue at once, in any process. New deliveries take their IDs from
	// r.NewID.
	QueueMissing(ctx context.Context, r MissingRequest) (queued int, last EventID, looked int, err error)
}

// RecoverRequest is one step of recovering an endpoint's failed
// deliveries.
type RecoverRequest struct {
	WorkspaceID WorkspaceID
	EndpointID  EndpointID
	// Since and Until bound when the deliveries were made, Until
	// excluded.
	Since, Until time.Time
	// After is where the step starts: the last ID the step before looked
	// at, or empty.
	After DeliveryID
	At    time.Time
	Limit int
}

// MissingRequest is one step of replaying an endpoint's missing
// deliveries.
type MissingRequest struct {
	WorkspaceID   WorkspaceID
	EnvironmentID EnvironmentID
	EndpointID    EndpointID
	// ApplicationID is the endpoint's application, or empty.
	ApplicationID ApplicationID
	// EventTypes are the names of the event types the endpoint receives
	// now; an event of another type is not missing.
	EventTypes []string
	// Since is the earliest time an event replayed was made.
	Since time.Time
	// After is where the step starts: the last event ID the step before
	// looked at, or empty.
	After EventID
	At    time.Time
	Limit int
	NewID func() DeliveryID
}

// CheckResendable returns ErrConflict when a delivery in status, leased
// until leasedUntil, may not be resent at at: a dispatcher holds it.
func CheckResendable(status DeliveryStatus, leasedUntil, at time.Time) error {
	if status == DeliveryPending && leasedUntil.After(at) {
		return &Error{Kind: ErrConflict, Message: fmt.Sprintf(
			"the delivery is being attempted now; resend it once the attempt is recorded (by %s at the latest)", leasedUntil.UTC().Format(time.RFC3339))}
	}
	return nil
}
