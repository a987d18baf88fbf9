package main

import (
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/matryer/is"
)

// /metrics serves, for Prometheus, what the server did: an event ingested
// and a key refused, its delivery attempted once and succeeded, nothing
// left in the queue, the endpoint active.
func TestServerMetrics(t *testing.T) {
	is := is.New(t)
	rc := newHookReceiver(t)
	s := start(t, filepath.Join(t.TempDir(), "nahook.db"), true, true)
	key := setUpDelivery(t, s, rc)
	status, accepted := s.call("POST", "/api/ingest/event/order.created", key, `{"orderId": "ord_1"}`)
	is.Equal(status, http.StatusAccepted)
	status, _ = s.call("POST", "/api/ingest/event/order.created", "nhk_not-a-key", `{"orderId": "ord_2"}`)
	is.Equal(status, http.StatusUnauthorized)
	eventID := field(accepted, "eventId").(string)
	waitUntil(t, "the receiver to get the event", func() bool {
		missing, _ := rc.counts(map[string]bool{eventID: true})
		return missing == 0
	})

	var body string
	want := []struct {
		name, labels string
		value        float64
	}{
		{"nahook_ingest_events_total", `nahook_outcome="accepted",nahook_source="ingest"`, 1},
		{"nahook_ingest_events_total", `error_type="unauthorized",nahook_outcome="refused",nahook_source="ingest"`, 1},
		{"nahook_ingest_deliveries_total", `nahook_source="ingest"`, 1},
		{"nahook_attempts_total", `http_response_status_class="2xx",nahook_delivery_status="succeeded",nahook_outcome="succeeded"`, 1},
		{"nahook_attempt_duration_seconds_count", `nahook_outcome="succeeded"`, 1},
		{"nahook_delivery_latency_seconds_count", ``, 1},
		{"nahook_queue_pending", ``, 0},
		{"nahook_queue_due", ``, 0},
		{"nahook_endpoints", `nahook_endpoint_state="active"`, 1},
		{"nahook_endpoints", `nahook_endpoint_state="probation"`, 0},
	}
	// The attempt is recorded (and the endpoint taken off probation) just
	// after the receiver answers: scrape until it shows, or for 30s.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		body = scrape(t, s.url+"/metrics")
		all := true
		for _, w := range want {
			if v, ok := sample(body, w.name, w.labels); !ok || v != w.value {
				all = false
			}
		}
		if all || time.Now().After(deadline) {
			break
		}
	}
	for _, w := range want {
		v, ok := sample(body, w.name, w.labels)
		if !ok || v != w.value {
			t.Errorf("%s{%s} = %v (found %v), want %v\n%s", w.name, w.labels, v, ok, w.value, body)
		}
	}
}

func scrape(t *testing.T, url string) string {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %d %s", res.StatusCode, raw)
	}
	return string(raw)
}

// sample finds the sample of the metric whose labels, the exporter's own
// (otel_scope_…) left out, are exactly labels.
func sample(body, name, labels string) (float64, bool) {
	line := regexp.MustCompile(`^` + regexp.QuoteMeta(name) + `(?:\{(.*)\})? (\S+)$`)
	for l := range strings.Lines(body) {
		m := line.FindStringSubmatch(strings.TrimSpace(l))
		if m == nil {
			continue
		}
		var own []string
		for _, kv := range splitLabels(m[1]) {
			if !strings.HasPrefix(kv, "otel_scope_") {
				own = append(own, kv)
			}
		}
		if strings.Join(own, ",") != labels {
			continue
		}
		v, err := strconv.ParseFloat(m[2], 64)
		return v, err == nil
	}
	return 0, false
}

// splitLabels splits `a="x",b="y,z"` into its pairs; values here hold no
// quotes.
func splitLabels(s string) []string {
	var out []string
	for s != "" {
		end := strings.Index(s, `",`)
		if end < 0 {
			out = append(out, s)
			break
		}
		out = append(out, s[:end+1])
		s = s[end+2:]
	}
	return out
}
