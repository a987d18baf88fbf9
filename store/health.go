// Endpoint health: the compact rollup of attempts RecordAttempts keeps per
// endpoint, minute and latency bucket, so that reading an endpoint's
// success rate and latency costs the same whatever its volume.

package store

import (
	"cmp"
	"context"
	"math"
	"math/big"
	"slices"
	"strings"
	"time"
)

// HealthRetention is how long the rollup keeps a minute: the day a health
// read looks back over, and an hour to spare for a prune that runs hourly.
const HealthRetention = 25 * time.Hour

// HealthBucket is one latency bucket of an endpoint's rollup, summed over
// the last hour and the last day (see HealthStore.EndpointHealth).
type HealthBucket struct {
	// Latency is the bucket's upper bound, as LatencyBucket gives it: every
	// attempt counted here took at most this long, and more than the
	// bound of the bucket below.
	Latency time.Duration
	// HourAttempts and HourSucceeded count the attempts, and those that
	// succeeded (Attempt.Succeeded), made in the last hour.
	HourAttempts, HourSucceeded int
	// DayAttempts and DaySucceeded count those made in the last day, the
	// last hour's included.
	DayAttempts, DaySucceeded int
}

// HealthStore reads and prunes the endpoint-health rollup that
// RecordAttempts writes. The rollup counts, per endpoint, per minute of
// AttemptedAt (Unix time in whole minutes, HealthMinute) and per latency
// bucket (LatencyBucket of Attempt.Duration), the attempts recorded and
// how many succeeded, for every result whose delivery still existed when
// it was recorded. It has no link to endpoints: a deleted endpoint's rows
// stay until pruned, and recording never fails for them.
type HealthStore interface {
	// EndpointHealth returns the endpoint's rollup summed per latency
	// bucket, in ascending Latency, over the last hour (minutes m with
	// M-60 < m <= M, M being HealthMinute(now): now's minute and the 59
	// before it) and the last day (M-1440 < m <= M), a bucket being
	// listed when the day has an attempt in it. Minutes after now's (an
	// attempt stamped by a clock ahead, or a past now) count in neither.
	// An endpoint with no attempts in the day, or that does not exist,
	// has none: an empty slice and no error. It reads at most a day of
	// minutes, whatever the number of attempts, and returns at most one
	// row per latency bucket.
	EndpointHealth(ctx context.Context, ep EndpointID, now time.Time) ([]HealthBucket, error)
	// PruneEndpointHealth deletes up to limit rows of the rollup, of any
	// endpoint, whose minute is before HealthMinute(before), and returns
	// how many it deleted.
	PruneEndpointHealth(ctx context.Context, before time.Time, limit int) (int, error)
}

// HealthMinute is the minute of the rollup that t counts in: Unix time in
// whole minutes, rounded down.
func HealthMinute(t time.Time) int64 {
	s := t.Unix()
	if s < 0 {
		return (s - 59) / 60
	}
	return s / 60
}

// latencyBounds are the latency buckets' upper bounds in milliseconds:
// the distinct values of ⌊2^(k/8)⌋ for k from 0 to 160, that is every
// millisecond up to 14 ms, then bounds about 9% apart, up to 2^20 ms
// (about 17.5 minutes): 143 buckets. Each is exact (the largest m with m^8 ≤ 2^k), so
// every platform buckets alike. The rollup stores the bound itself, so
// changing the table never misreads a stored row.
var latencyBounds = func() []int64 {
	var out []int64
	for k := 0; k <= 160; k++ {
		pow := new(big.Int).Lsh(big.NewInt(1), uint(k))
		m := int64(math.Pow(2, float64(k)/8))
		eighth := func(m int64) *big.Int { return new(big.Int).Exp(big.NewInt(m), big.NewInt(8), nil) }
		for eighth(m).Cmp(pow) > 0 {
			m--
		}
		for eighth(m+1).Cmp(pow) <= 0 {
			m++
		}
		if len(out) == 0 || out[len(out)-1] != m {
			out = append(out, m)
		}
	}
	return out
}()

// LatencyBucket returns the upper bound of the latency bucket an attempt
// that took d falls in: d is kept to the millisecond, rounded down, as
// Attempt.Duration is, and the bound is the smallest of the bucket bounds
// (1, 2, … 14 ms, then ⌊2^(k/8)⌋ ms, about 9% apart) that is at least
// that. A bound
// overstates the latency by less than 2^(1/8), 9.05%. Durations beyond
// the last bound, 2^20 ms (17 min 28.576 s), count in the last bucket.
func LatencyBucket(d time.Duration) time.Duration {
	m := d.Milliseconds()
	i, _ := slices.BinarySearch(latencyBounds, m)
	i = min(i, len(latencyBounds)-1)
	return time.Duration(latencyBounds[i]) * time.Millisecond
}

// HealthRow is what a batch of results adds to one row of the rollup: one
// endpoint's attempts in one minute and latency bucket.
type HealthRow struct {
	EndpointID EndpointID
	Minute     int64         // HealthMinute of AttemptedAt
	Latency    time.Duration // LatencyBucket of Duration
	Attempts   int
	Succeeded  int
}

// HealthRows groups results into the rollup rows they add to, one per
// endpoint, minute and latency bucket, ordered by those: adapters write
// them in that order, so that batches recorded at once lock shared rows
// in one order and cannot deadlock on them. An attempt succeeded when
// Attempt.Succeeded says so; anything else (another status, a timeout, no
// connection) is a failure. Adapters pass only the results whose
// deliveries they recorded.
func HealthRows(results []AttemptResult) []HealthRow {
	type key struct {
		ep      EndpointID
		minute  int64
		latency time.Duration
	}
	rows := map[key]*HealthRow{}
	for _, r := range results {
		k := key{r.EndpointID, HealthMinute(r.Attempt.AttemptedAt), LatencyBucket(r.Attempt.Duration)}
		row := rows[k]
		if row == nil {
			row = &HealthRow{EndpointID: k.ep, Minute: k.minute, Latency: k.latency}
			rows[k] = row
		}
		row.Attempts++
		if r.Attempt.Succeeded() {
			row.Succeeded++
		}
	}
	out := make([]HealthRow, 0, len(rows))
	for _, row := range rows {
		out = append(out, *row)
	}
	slices.SortFunc(out, func(a, b HealthRow) int {
		if a.EndpointID != b.EndpointID {
			return strings.Compare(string(a.EndpointID), string(b.EndpointID))
		}
		if a.Minute != b.Minute {
			return cmp.Compare(a.Minute, b.Minute)
		}
		return cmp.Compare(a.Latency, b.Latency)
	})
	return out
}
