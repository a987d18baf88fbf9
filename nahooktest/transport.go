package nahooktest

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/nahook/nahook"
)

// Request is a webhook a Kit's Client sent: what its receiver would have
// got, and what the Transport answered.
type Request struct {
	// URL is where it was sent: its endpoint's URL.
	URL string
	// Header holds its headers: webhook-id, webhook-timestamp,
	// webhook-signature, nahook-event-type and the rest.
	Header http.Header
	// Body is the event's payload, byte for byte.
	Body []byte
	// At is the Kit's clock when it was sent.
	At time.Time
	// Status is the status the Transport answered.
	Status int
}

// EventID returns the ID of the event the request carries (its
// webhook-id): the same on every retry of one delivery.
func (r Request) EventID() nahook.EventID { return nahook.EventID(r.Header.Get("webhook-id")) }

// EventType returns the event's type (its nahook-event-type header), or
// "" for an event sent straight to one endpoint without a type.
func (r Request) EventType() string { return r.Header.Get("nahook-event-type") }

// String describes the request in one line, for a test's failure message.
func (r Request) String() string {
	return r.EventType() + " " + string(r.EventID()) + " to " + r.URL + " answered " + strconv.Itoa(r.Status)
}

// Transport is the http.RoundTripper a Kit's Client delivers through: it
// records every request and answers it from memory, 200 unless told
// otherwise, so nothing reaches the network. It is safe for concurrent
// use.
type Transport struct {
	clock *Clock

	mu       sync.Mutex
	requests []Request
	respond  func(Request) int
}

// RoundTrip records the request and answers it with the status Respond
// set, with an empty body.
func (t *Transport) RoundTrip(r *http.Request) (*http.Response, error) {
	var body []byte
	if r.Body != nil {
		b, err := io.ReadAll(r.Body)
		r.Body.Close()
		if err != nil {
			return nil, err
		}
		body = b
	}
	rec := Request{URL: r.URL.String(), Header: r.Header.Clone(), Body: body, At: t.clock.Now()}
	t.mu.Lock()
	rec.Status = http.StatusOK
	if t.respond != nil {
		rec.Status = t.respond(rec)
	}
	t.requests = append(t.requests, rec)
	t.mu.Unlock()
	return &http.Response{
		Status:     strconv.Itoa(rec.Status) + " " + http.StatusText(rec.Status),
		StatusCode: rec.Status,
		Proto:      "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:        http.Header{},
		Body:          io.NopCloser(bytes.NewReader(nil)),
		ContentLength: 0,
		Request:       r,
	}, nil
}

// Respond makes the Transport answer each request with the status f
// returns for it (503 to make a delivery retry, 410 to make it fail at
// once…). f is called with the Transport's lock held, one request at a
// time, so it may count requests without a lock of its own; it must not
// call the Transport. Nil answers 200 again.
func (t *Transport) Respond(f func(Request) int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.respond = f
}

// Requests returns every request recorded, in the order they were sent.
func (t *Transport) Requests() []Request {
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Clone(t.requests)
}

// To returns the requests sent to rawURL, in the order they were sent.
// The URL is compared as the request's, so that an endpoint's URL as
// stored finds its requests whatever its spelling.
func (t *Transport) To(rawURL string) []Request {
	if u, err := url.Parse(rawURL); err == nil {
		rawURL = u.String()
	}
	var to []Request
	for _, r := range t.Requests() {
		if r.URL == rawURL {
			to = append(to, r)
		}
	}
	return to
}

// Reset forgets the requests recorded so far.
func (t *Transport) Reset() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.requests = nil
}
