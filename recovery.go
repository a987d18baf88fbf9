// Recovery: sending deliveries again by hand, after a receiver was down or
// disabled. Resend sends one delivery again, whatever its status; Recover
// sends again an endpoint's deliveries that failed in a window of time;
// ReplayMissing sends an endpoint the events it would receive now but
// never had a delivery for. Receivers see each event's own webhook-id
// again, so they can tell a repeat.

package nahook

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/nahook/nahook/internal/typeid"
	"github.com/nahook/nahook/store"
)

// recoveryStep bounds the deliveries one transaction of Recover or
// ReplayMissing writes: a large recovery is many short transactions, so
// that the dispatchers, and every other writer, go on between them.
const recoveryStep = 500

// RecoverOptions is the window of Recover: deliveries made in it.
type RecoverOptions struct {
	// Since is when the window starts; it is required, and may not be
	// before the retention (DeliveryConfig.Retention) of events.
	Since time.Time
	// Until, when set, is when the window ends (excluded); zero means now.
	Until time.Time
}

// ReplayOptions says how far back ReplayMissing looks.
type ReplayOptions struct {
	// Since is the earliest event replayed; it is required, and may not be
	// before the retention (DeliveryConfig.Retention) of events.
	Since time.Time
}

// Resend sends a delivery again, whatever its status, with the same
// webhook-id: it is pending again, due now, and its retry schedule starts
// over; its attempts so far are kept. A delivery being attempted at this
// moment is ErrConflict (resend it once the attempt is recorded); one
// whose endpoint is disabled is ErrEndpointDisabled.
func (s *DeliveryService) Resend(ctx context.Context, ws WorkspaceID, id DeliveryID) (Delivery, error) {
	if err := workspace(ws); err != nil {
		return Delivery{}, err
	}
	if err := subject("", prefixDelivery, id); err != nil {
		return Delivery{}, err
	}
	d, _, err := s.c.store.GetDelivery(ctx, ws, id)
	if err != nil {
		return Delivery{}, err
	}
	if _, err := s.enabled(ctx, ws, d.EndpointID); err != nil {
		return Delivery{}, err
	}
	d, err = s.c.store.ResendDelivery(ctx, ws, id, s.c.now())
	if err == nil {
		s.c.nudgeDelivery()
	}
	return d, err
}

// Recover sends again every delivery to the endpoint that failed and was
// made in the window: each is pending again, due now, its retry schedule
// started over. It returns how many it recovered. It works in short
// transactions while delivery goes on, so that recovering a day of a busy
// endpoint holds up no one; a delivery is recovered once however many
// callers recover the endpoint at once, in any process. The endpoint must
// be enabled (ErrEndpointDisabled): enable it first.
func (s *DeliveryService) Recover(ctx context.Context, ws WorkspaceID, endpoint EndpointID, opts RecoverOptions) (int, error) {
	now := s.c.now()
	since, until := stored(opts.Since), stored(opts.Until)
	if until.IsZero() {
		until = now.Add(time.Millisecond) // deliveries made now included
	}
	if err := s.checkSince(since, now); err != nil {
		return 0, err
	}
	if err := untilAfter(since, until); err != nil {
		return 0, err
	}
	if _, err := s.enabled(ctx, ws, endpoint); err != nil {
		return 0, err
	}
	r := store.RecoverRequest{WorkspaceID: ws, EndpointID: endpoint, Since: since, Until: until, At: now, Limit: recoveryStep}
	return s.inSteps(func() (int, int, error) {
		n, last, looked, err := s.c.store.RecoverDeliveries(ctx, r)
		r.After = last
		return n, looked, err
	})
}

// ReplayMissing sends the endpoint every event since opts.Since that it
// would receive if it were sent now, and never had a delivery for: sent
// while the endpoint was disabled, or before it subscribed to the type, or
// before it existed. An event qualifies as routing would send it now: in
// the endpoint's environment, of a type published there that the endpoint
// subscribes to, and for its application (an event for another, or for
// none unless broadcast, is not missing). It returns how many deliveries
// it queued, due now; a second call queues none. It works in short
// transactions, as Recover does, and no event gets two deliveries to the
// endpoint however many callers replay at once. The endpoint must be
// enabled (ErrEndpointDisabled).
func (s *DeliveryService) ReplayMissing(ctx context.Context, ws WorkspaceID, endpoint EndpointID, opts ReplayOptions) (int, error) {
	now := s.c.now()
	since := stored(opts.Since) // as Recover's window
	if err := s.checkSince(since, now); err != nil {
		return 0, err
	}
	ep, err := s.enabled(ctx, ws, endpoint)
	if err != nil {
		return 0, err
	}
	types, err := s.receives(ctx, ep)
	if err != nil {
		return 0, err
	}
	r := store.MissingRequest{WorkspaceID: ws, EnvironmentID: ep.EnvironmentID, EndpointID: ep.ID,
		ApplicationID: ep.ApplicationID, EventTypes: types, Since: since, At: now, Limit: recoveryStep,
		NewID: func() DeliveryID { return DeliveryID(typeid.New(prefixDelivery)) }}
	return s.inSteps(func() (int, int, error) {
		n, last, looked, err := s.c.store.QueueMissing(ctx, r)
		r.After = last
		return n, looked, err
	})
}

// inSteps runs step, one short transaction of at most recoveryStep, until
// a step looks at fewer, and returns how many deliveries the steps made
// due. The dispatchers are woken after each step that made some, so that
// delivery starts with the first step rather than after the last.
func (s *DeliveryService) inSteps(step func() (due, looked int, err error)) (int, error) {
	total := 0
	for {
		n, looked, err := step()
		total += n
		if n > 0 {
			s.c.nudgeDelivery()
		}
		if err != nil || looked < recoveryStep {
			return total, err
		}
	}
}

// checkSince checks the start of a recovery: required, not in the future,
// and within the retention of events, before which nothing is kept.
func (s *DeliveryService) checkSince(since, now time.Time) error {
	horizon := now.Add(-s.c.cfg.Delivery.Retention)
	switch {
	case since.IsZero():
		return store.Invalid("since", "since is required: the time to recover from")
	case since.After(now):
		return store.Invalid("since", "since is in the future")
	case since.Before(horizon):
		return store.Invalid("since", "since is before the retention of events (%s): events before %s are not kept",
			s.c.cfg.Delivery.Retention, horizon.Format(time.RFC3339))
	}
	return nil
}

// enabled returns the endpoint, or ErrEndpointDisabled when it is
// disabled: what is sent to it again would wait, unseen, until it is
// enabled.
func (s *DeliveryService) enabled(ctx context.Context, ws WorkspaceID, id EndpointID) (Endpoint, error) {
	ep, err := s.c.Endpoints.Get(ctx, ws, id)
	if err != nil {
		return Endpoint{}, err
	}
	if ep.Disabled {
		return Endpoint{}, &Error{Kind: ErrEndpointDisabled, Field: "endpointId",
			Message: fmt.Sprintf("endpoint %s is disabled: enable it, then send to it again", id)}
	}
	return ep, nil
}

// receives returns the names of the event types ep receives now, as
// routing decides: published in its environment, and subscribed to by
// name or wildcard. It reads the store rather than the router's snapshot,
// which may not yet hold an endpoint another process just made.
func (s *DeliveryService) receives(ctx context.Context, ep Endpoint) ([]string, error) {
	published, err := s.c.published(ctx, ep.WorkspaceID, ep.EnvironmentID)
	if err != nil {
		return nil, err
	}
	var names []string
	for name := range published {
		if slices.ContainsFunc(ep.EventTypes, func(p string) bool { return subscriptionMatches(p, name) }) {
			names = append(names, name)
		}
	}
	slices.Sort(names) // the same query for the same endpoint
	return names, nil
}
