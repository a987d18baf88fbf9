// Delivery attempts: sending one delivery and keeping, within bounds, what
// its receiver answered.

package nahook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/nahook/nahook/store"
)

// One attempt: sending a delivery, and what is kept of the answer. The
// receiver is untrusted input: its status line, headers and body are read
// within bounds (the transport's MaxResponseHeaderBytes, ResponseBytes, the
// timeout) and what is stored of them is made text every store keeps.

// maxErrorBytes bounds an attempt's error text: a malformed status line or
// header of megabytes is reported, not kept.
const maxErrorBytes = 1024

// attempt sends one delivery, decides what comes next, and tells the
// observer.
func (d *dispatcher) attempt(job store.Dispatch) store.AttemptResult {
	res, outcome := d.try(job)
	d.c.observeAttempt(job, res, outcome)
	return res
}

// try sends one delivery and decides what comes next.
func (d *dispatcher) try(job store.Dispatch) (store.AttemptResult, AttemptOutcome) {
	start := d.c.cfg.Now().UTC()
	n := job.Delivery.Attempts + 1
	res := store.AttemptResult{
		DeliveryID:  job.Delivery.ID,
		WorkspaceID: job.Delivery.WorkspaceID,
		EndpointID:  job.Delivery.EndpointID,
		Attempt:     store.Attempt{Number: n, AttemptedAt: start.Truncate(time.Millisecond)},
		// Should this attempt fail the delivery, the host hears of it.
		Report: d.c.reportsOperationalEvents(),
	}
	status, header, body, err := d.send(job, start)
	end := d.c.cfg.Now().UTC()
	res.Attempt.Duration = end.Sub(start).Truncate(time.Millisecond)
	res.Attempt.StatusCode, res.Attempt.Response = status, storable(body, d.cfg.ResponseBytes, "")
	succeeded := err == nil && res.Attempt.Succeeded()
	// Only success in good time keeps an endpoint off probation: slow or
	// failing, it gets one attempt at a time, from the probe share.
	res.Probation = !succeeded || end.Sub(start) > d.cfg.SlowAfter
	retryable, outcome := false, AttemptFailed
	switch {
	case succeeded:
		res.Status = store.DeliverySucceeded
		return res, AttemptSucceeded
	case err != nil:
		res.Attempt.Error = errorText(err)
		retryable = true // the network or the receiver's time: worth trying again
		outcome = AttemptError
		if _, ok := err.(noAnswer); ok {
			outcome = AttemptTimedOut
		}
	case status == http.StatusTooManyRequests || status == http.StatusRequestTimeout || status >= 500:
		res.Attempt.Error = fmt.Sprintf("the endpoint answered %d", status)
		retryable = true
	case status >= 300 && status < 400:
		res.Attempt.Error = fmt.Sprintf("the endpoint answered %d, a redirect, which is not followed", status)
	default:
		res.Attempt.Error = fmt.Sprintf("the endpoint answered %d", status)
	}
	// The schedule counts the attempts of this series: a resend or a
	// recovery starts it over.
	k := n - job.Delivery.SeriesStart
	if !retryable || k > len(d.cfg.Schedule) {
		res.Status = store.DeliveryFailed
		return res, outcome
	}
	// Waits count from the answer, which is what Retry-After is relative
	// to. The next attempt is rounded up to the millisecond the store keeps,
	// so it is never early.
	wait := jitter(d.cfg.Schedule[k-1])
	if after, ok := retryAfter(header, end); ok {
		wait = min(max(wait, after), 24*time.Hour)
	}
	res.Status = store.DeliveryPending
	res.NextAttemptAt = end.Add(wait + time.Millisecond - 1).Truncate(time.Millisecond)
	return res, outcome
}

// send POSTs the signed payload and returns the answer's status, headers
// and the start of its body.
func (d *dispatcher) send(job store.Dispatch, at time.Time) (int, http.Header, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), d.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, job.URL, bytes.NewReader(job.Payload))
	if err != nil {
		return 0, nil, "", err
	}
	id := string(job.Delivery.EventID)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "nahook/1")
	req.Header.Set("webhook-id", id)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(at.Unix(), 10))
	req.Header.Set("webhook-signature", signature(job.Keys.Signing(at), id, at.Unix(), job.Payload))
	if job.Delivery.EventType != "" {
		req.Header.Set("nahook-event-type", job.Delivery.EventType)
	}
	resp, err := d.client.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return 0, nil, "", noAnswer{d.cfg.Timeout}
		}
		if e, ok := errors.AsType[*url.Error](err); ok {
			// "Post <url>: …" says nothing the delivery does not: keep
			// the room for what went wrong.
			err = e.Err
		}
		return 0, nil, "", err
	}
	defer resp.Body.Close()
	// A few bytes more than are kept, so that a character the limit cuts
	// through is seen whole, and dropped whole, rather than kept as a
	// broken one.
	kept, _ := io.ReadAll(io.LimitReader(resp.Body, int64(d.cfg.ResponseBytes+utf8.UTFMax-1)))
	// Read a little more, so the connection can be reused for the next
	// delivery, but not without end.
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, resp.Header, string(kept), nil
}

// noAnswer is an attempt that timed out.
type noAnswer struct{ timeout time.Duration }

func (e noAnswer) Error() string { return fmt.Sprintf("no answer within %v", e.timeout) }

// jitter spreads a wait by ±20%, so that deliveries that failed together
// do not all come back together.
func jitter(d time.Duration) time.Duration {
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
}

// retryAfter reads a Retry-After header: seconds, or an HTTP date.
func retryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	v := h.Get("Retry-After")
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.Atoi(v); err == nil && secs >= 0 {
		return time.Duration(secs) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// errorText is err as an attempt keeps it: storable, and at most
// maxErrorBytes, marked where it was cut.
func errorText(err error) string {
	return storable(err.Error(), maxErrorBytes, "…")
}

// storable returns s as text every store keeps: valid UTF-8, each run of
// invalid bytes replaced by U+FFFD; no NUL, which Postgres refuses in text,
// replaced by U+FFFD too; and at most limit bytes, cut before a character
// rather than through it, with mark (if any) at the end of a text that was
// cut, within the limit.
func storable(s string, limit int, mark string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", "\uFFFD")
	}
	if len(s) <= limit {
		return s
	}
	cut := max(limit-len(mark), 0)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + mark
}
