package store_test

import (
	"testing"
	"time"

	"github.com/nahook/nahook/store"
)

// LatencyBucket's bounds: every millisecond up to 14 ms, then ⌊2^(k/8)⌋
// ms, each less than 2^(1/8) times the durations it holds, up to 2^20 ms.
func TestLatencyBucket(t *testing.T) {
	ms := time.Millisecond
	for _, c := range []struct{ d, want time.Duration }{
		{-time.Second, ms},
		{0, ms},
		{999 * time.Microsecond, ms}, // kept to the millisecond, rounded down
		{ms, ms},
		{2 * ms, 2 * ms},
		{14 * ms, 14 * ms},
		{15 * ms, 16 * ms},   // 2^4
		{117 * ms, 117 * ms}, // ⌊2^(55/8)⌋
		{118 * ms, 128 * ms}, // 2^7
		{120 * ms, 128 * ms},
		{128 * ms, 128 * ms},
		{129 * ms, 139 * ms}, // ⌊2^(57/8)⌋
		{900 * ms, 939 * ms}, // ⌊2^(79/8)⌋
		{15 * time.Second, 15024 * ms},
		{1 << 20 * ms, 1 << 20 * ms},
		{time.Hour, 1 << 20 * ms}, // the last bucket
	} {
		if got := store.LatencyBucket(c.d); got != c.want {
			t.Errorf("LatencyBucket(%v) = %v, want %v", c.d, got, c.want)
		}
	}
	// Every duration's bound is at least it, and overstates it by less
	// than 2^(1/8); the bounds rise.
	prev := time.Duration(0)
	for m := time.Duration(1); m <= 1<<20; m += 1 + m/64 {
		d := m * ms
		b := store.LatencyBucket(d)
		if b < d || float64(b) >= float64(d)*1.0906 || b < prev {
			t.Fatalf("LatencyBucket(%v) = %v", d, b)
		}
		prev = b
	}
	buckets := map[time.Duration]bool{}
	for m := range time.Duration(1<<20 + 1) {
		if m%997 == 0 || m < 20000 {
			buckets[store.LatencyBucket(m*ms)] = true
		}
	}
	if n := len(buckets); n != 143 {
		t.Fatalf("%d buckets, want 143", n)
	}
}

// HealthMinute is Unix time in whole minutes, rounded down, before 1970
// too.
func TestHealthMinute(t *testing.T) {
	for _, c := range []struct {
		t    time.Time
		want int64
	}{
		{time.Unix(0, 0), 0},
		{time.Unix(59, 999_999_999), 0},
		{time.Unix(60, 0), 1},
		{time.Unix(-1, 0), -1},
		{time.Unix(-60, 0), -1},
		{time.Unix(-61, 0), -2},
		{time.Date(2026, 1, 15, 12, 30, 59, 0, time.FixedZone("CEST", 7200)), time.Date(2026, 1, 15, 10, 30, 0, 0, time.UTC).Unix() / 60},
	} {
		if got := store.HealthMinute(c.t); got != c.want {
			t.Errorf("HealthMinute(%v) = %d, want %d", c.t, got, c.want)
		}
	}
}
