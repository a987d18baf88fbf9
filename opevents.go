// Operational events: what nahook tells the host program about its
// endpoints and deliveries (an endpoint disabled, failing or recovered, a
// delivery given up), and the relay that hands them from the store's
// outbox to Config.OnOperationalEvent and Config.OperationalWebhook.

package nahook

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/nahook/nahook/store"
)

// The operational events' records are the store's own, as the other
// records are.
type (
	// OperationalEvent is one thing that happened to an endpoint or a
	// delivery that the host should hear about, perhaps to tell its
	// customer (ApplicationID) before they notice; see
	// store.OperationalEvent for every field. nahook records one in the
	// transaction that records the attempt causing it, and only when
	// Config.OnOperationalEvent or Config.OperationalWebhook is set.
	OperationalEvent = store.OperationalEvent
	// OperationalEventType says what happened: EndpointDisabled,
	// EndpointFailing, EndpointRecovered or DeliveryExhausted.
	OperationalEventType = store.OperationalEventType
	// OperationalEventID identifies an operational event: "op_…".
	OperationalEventID = store.OperationalEventID
)

// Operational event types.
const (
	// EndpointDisabled: nahook disabled the endpoint, every attempt to it
	// having failed for DeliveryConfig.DisableAfter (FailingSince says
	// since when). It receives nothing until enabled again, and events
	// sent meanwhile are not delivered to it.
	EndpointDisabled = store.EndpointDisabled
	// EndpointFailing: the endpoint's consecutive failed attempts reached
	// DeliveryConfig.FailingAfter; once per failure streak.
	EndpointFailing = store.EndpointFailing
	// EndpointRecovered: an attempt succeeded, ending a streak reported as
	// EndpointFailing.
	EndpointRecovered = store.EndpointRecovered
	// DeliveryExhausted: a delivery failed for good (DeliveryID, EventID),
	// its retries used or its answer not worth retrying; it can be
	// retried by hand.
	DeliveryExhausted = store.DeliveryExhausted
)

// OperationalWebhook sends operational events to a URL the host names, as
// Svix's operational webhooks do, signed as deliveries are (Standard
// Webhooks: webhook-id is the event's ID, the same on every try). Each is
// POSTed as JSON:
//
//	{
//	  "type": "endpoint.disabled",
//	  "timestamp": "2026-01-15T10:30:00.000Z",
//	  "data": {
//	    "id": "op_…",
//	    "workspaceId": "ws_…",
//	    "environmentId": "env_…",
//	    "applicationId": "app_…",
//	    "endpointId": "ep_…",
//	    "failingSince": "2026-01-10T10:29:58.000Z",
//	    "failures": 17
//	  }
//	}
//
// timestamp is when it happened (OperationalEvent.At); data holds the
// event's other fields in camelCase, the strings left out when empty:
// applicationId for an endpoint of no application, deliveryId and eventId
// but for delivery.exhausted, failingSince for delivery.exhausted. Times
// are RFC 3339 UTC with milliseconds. A 2xx answer takes the event; any
// other, or none within DeliveryConfig.Timeout, makes it retried with
// backoff. The request goes through DeliveryConfig.Transport, or the
// transport deliveries use, which refuses private addresses unless
// Config.AllowPrivateURLs.
type OperationalWebhook struct {
	// URL receives the events. Empty means no operational webhook. It
	// follows the rules of an endpoint's URL.
	URL string
	// Secret signs them: "whsec_" and the base64 of 24 to 64 bytes, as an
	// endpoint's secret is. Required with URL.
	Secret string
}

// checkOperationalWebhook checks Config.OperationalWebhook and returns its
// signing key, or nil when there is no webhook.
func checkOperationalWebhook(w OperationalWebhook, allowPrivate bool) ([]byte, error) {
	if w.URL == "" {
		if w.Secret != "" {
			return nil, errors.New("nahook: Config.OperationalWebhook.URL is required with a Secret")
		}
		return nil, nil
	}
	if err := checkURL(w.URL, allowPrivate); err != nil {
		msg := err.Error()
		if e, ok := errors.AsType[*store.Error](err); ok {
			msg = e.Message
		}
		return nil, fmt.Errorf("nahook: Config.OperationalWebhook.URL: %s", msg)
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(w.Secret, SecretPrefix))
	if !strings.HasPrefix(w.Secret, SecretPrefix) || err != nil || len(key) < 24 || len(key) > 64 {
		return nil, errors.New(`nahook: Config.OperationalWebhook.Secret must be "whsec_" and the base64 of 24 to 64 bytes`)
	}
	return key, nil
}

// reportsOperationalEvents reports whether the host hears of operational
// events: only then are they recorded, so that an outbox nobody reads does
// not grow.
func (c *Client) reportsOperationalEvents() bool {
	return c.cfg.OnOperationalEvent != nil || c.cfg.OperationalWebhook.URL != "" || c.cfg.Observer.OperationalEvent != nil
}

// nudgeRelay wakes this process's relays: an operational event may have
// been recorded.
func (c *Client) nudgeRelay() {
	select {
	case c.relayHint <- struct{}{}:
	default:
	}
}

// relayBatch is how many events a relay claims at once. It hands them out
// one after another, so their lease covers that many tries.
const relayBatch = 8

// relay hands operational events from the outbox to the host: Deliver
// runs one beside its dispatcher, sharing nothing with it but the store,
// so that a slow, failing or panicking callback holds up no delivery.
type relay struct {
	c *Client
	// client posts the operational webhook; nil without one.
	client *http.Client
	lease  time.Duration
}

func newRelay(c *Client) *relay {
	cfg := c.cfg
	// Each try takes at most the callback's Timeout and the webhook's.
	r := &relay{c: c, lease: relayBatch*2*cfg.Delivery.Timeout + 30*time.Second}
	if cfg.OperationalWebhook.URL != "" {
		transport := cfg.Delivery.Transport
		if transport == nil {
			transport = newTransport(cfg.AllowPrivateURLs, 1)
		}
		r.client = &http.Client{Transport: transport,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	return r
}

// run hands out events as they are recorded, until ctx ends; the event in
// hand then is finished.
func (r *relay) run(ctx context.Context) {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		n, err := r.handOut(ctx)
		switch {
		case err != nil:
			if ctx.Err() == nil {
				r.c.cfg.Logger.Warn("nahook: claiming operational events failed", "err", err, "retry in", backoff)
				r.wait(ctx, backoff)
				backoff = min(2*backoff, 10*time.Second)
			}
		case n == 0:
			backoff = 100 * time.Millisecond
			r.wait(ctx, r.c.cfg.Delivery.PollInterval)
			// Nudges come with batches of failures, which may come by
			// the hundred a second: at most ten claims a second for
			// them, each of a write transaction.
			pause := time.NewTimer(100 * time.Millisecond)
			select {
			case <-ctx.Done():
			case <-pause.C:
			}
			pause.Stop()
		}
	}
}

// drain hands out the events available now, and returns when none is
// left: what DeliverDue does once its deliveries are done. An event that
// fails waits for its retry by Config.Now, so drain ends.
func (r *relay) drain(ctx context.Context) {
	for ctx.Err() == nil {
		n, err := r.handOut(ctx)
		if err != nil {
			r.c.cfg.Logger.Warn("nahook: claiming operational events failed; they wait for the next call", "err", err)
			return
		}
		if n == 0 {
			return
		}
	}
}

// wait sleeps for at most d, waking early for ctx's end or a nudge.
func (r *relay) wait(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	case <-r.c.relayHint:
	}
}

// handOut claims a batch of events and hands out each, returning how many
// it claimed.
func (r *relay) handOut(ctx context.Context) (int, error) {
	evs, err := r.c.store.ClaimOperationalEvents(ctx, r.c.cfg.Now().UTC(), r.lease, relayBatch)
	if err != nil {
		return 0, err
	}
	for _, ev := range evs {
		r.handle(context.WithoutCancel(ctx), ev)
	}
	return len(evs), nil
}

// handle hands ev to the callback and the webhook, and removes it from
// the outbox once both have taken it; otherwise it puts it off, by a wait
// that grows with its tries. An event older than the retention is given
// up, loudly: its endpoint's deliveries are gone too.
func (r *relay) handle(ctx context.Context, ev OperationalEvent) {
	if f := r.c.cfg.Observer.OperationalEvent; f != nil && ev.Attempts == 1 {
		f(ev)
	}
	err := r.send(ctx, ev)
	now := r.c.cfg.Now()
	storeCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	log := r.c.cfg.Logger
	if err != nil && ev.At.Before(now.Add(-r.c.cfg.Delivery.Retention)) {
		log.Error("nahook: an operational event older than the retention was never taken; giving it up",
			"event", ev.ID, "type", ev.Type, "endpoint", ev.EndpointID, "err", err)
		err = nil
	}
	if err == nil {
		if err := r.c.store.AckOperationalEvent(storeCtx, ev.ID); err != nil {
			log.Warn("nahook: an operational event was taken but could not be removed; it will be handed out again",
				"event", ev.ID, "err", err)
		}
		return
	}
	wait := relayBackoff(ev.Attempts)
	log.Warn("nahook: an operational event was not taken; retrying", "event", ev.ID, "type", ev.Type, "err", err, "retry in", wait)
	if err := r.c.store.RetryOperationalEvent(storeCtx, ev.ID, now.UTC().Add(wait)); err != nil {
		log.Warn("nahook: an operational event could not be put off; it will be handed out again when its lease ends",
			"event", ev.ID, "err", err)
	}
}

// relayBackoff is the wait after the given number of failed tries: 5
// seconds, doubling, up to an hour, jittered.
func relayBackoff(tries int) time.Duration {
	return jitter(min(5*time.Second<<min(max(tries-1, 0), 10), time.Hour))
}

// send hands ev to the callback, then to the webhook.
func (r *relay) send(ctx context.Context, ev OperationalEvent) error {
	if f := r.c.cfg.OnOperationalEvent; f != nil {
		if err := r.call(ctx, f, ev); err != nil {
			return err
		}
	}
	if r.client != nil {
		return r.post(ctx, ev)
	}
	return nil
}

// call runs the host's callback, turning a panic into an error, logged
// with its stack.
func (r *relay) call(ctx context.Context, f func(context.Context, OperationalEvent) error, ev OperationalEvent) (err error) {
	ctx, cancel := context.WithTimeout(ctx, r.c.cfg.Delivery.Timeout)
	defer cancel()
	defer func() {
		if p := recover(); p != nil {
			r.c.cfg.Logger.Error("nahook: Config.OnOperationalEvent panicked", "event", ev.ID, "type", ev.Type,
				"panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			err = fmt.Errorf("Config.OnOperationalEvent panicked: %v", p)
		}
	}()
	return f(ctx, ev)
}

// post sends ev to the operational webhook, signed.
func (r *relay) post(ctx context.Context, ev OperationalEvent) error {
	body, err := operationalWebhookBody(ev)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, r.c.cfg.Delivery.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.c.cfg.OperationalWebhook.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	now := r.c.cfg.Now()
	id := string(ev.ID)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "nahook/1")
	req.Header.Set("webhook-id", id)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(now.Unix(), 10))
	req.Header.Set("webhook-signature", signature([][]byte{r.c.opKey}, id, now.Unix(), body))
	resp, err := r.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode >= 300 {
		return fmt.Errorf("the operational webhook answered %d", resp.StatusCode)
	}
	return nil
}

// webhookTime is how the operational webhook writes times: RFC 3339, UTC,
// with milliseconds, as the HTTP API does.
const webhookTime = "2006-01-02T15:04:05.000Z07:00"

// operationalWebhookBody is ev as the operational webhook sends it (see
// OperationalWebhook).
func operationalWebhookBody(ev OperationalEvent) ([]byte, error) {
	type data struct {
		ID            OperationalEventID `json:"id"`
		WorkspaceID   WorkspaceID        `json:"workspaceId"`
		EnvironmentID EnvironmentID      `json:"environmentId"`
		ApplicationID ApplicationID      `json:"applicationId,omitempty"`
		EndpointID    EndpointID         `json:"endpointId"`
		DeliveryID    DeliveryID         `json:"deliveryId,omitempty"`
		EventID       EventID            `json:"eventId,omitempty"`
		FailingSince  string             `json:"failingSince,omitempty"`
		Failures      int                `json:"failures"`
	}
	d := data{ID: ev.ID, WorkspaceID: ev.WorkspaceID, EnvironmentID: ev.EnvironmentID, ApplicationID: ev.ApplicationID,
		EndpointID: ev.EndpointID, DeliveryID: ev.DeliveryID, EventID: ev.EventID, Failures: ev.Failures}
	if !ev.FailingSince.IsZero() {
		d.FailingSince = ev.FailingSince.UTC().Format(webhookTime)
	}
	return json.Marshal(struct {
		Type      OperationalEventType `json:"type"`
		Timestamp string               `json:"timestamp"`
		Data      data                 `json:"data"`
	}{ev.Type, ev.At.UTC().Format(webhookTime), d})
}
