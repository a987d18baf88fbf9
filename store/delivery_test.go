package store

import (
	"bytes"
	"testing"
	"time"
)

func TestStreaks(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }
	r := func(ep EndpointID, min, code int) AttemptResult {
		return AttemptResult{EndpointID: ep, WorkspaceID: "ws", Attempt: Attempt{AttemptedAt: at(min), StatusCode: code}}
	}
	results := []AttemptResult{
		r("a", 3, 500), r("a", 1, 500), r("a", 2, 200), // out of order: fail 1, ok 2, fail 3
		r("b", 1, 500), r("b", 2, 0), // failing throughout
		r("c", 1, 500), r("c", 2, 204), // ends with a success
		r("d", 1, 302), r("d", 2, 199), // neither is 2xx
	}
	want := map[EndpointID]Streak{
		"a": {EndpointID: "a", WorkspaceID: "ws", Since: at(3), Restart: true, LastFailure: at(3), DisableIfFailingSince: at(3).Add(-time.Hour), Failures: 1, EndedAt: at(2)},
		"b": {EndpointID: "b", WorkspaceID: "ws", Since: at(1), LastFailure: at(2), DisableIfFailingSince: at(2).Add(-time.Hour), Failures: 2},
		"c": {EndpointID: "c", WorkspaceID: "ws", Ended: true, LastFailure: at(1), EndedAt: at(2)},
		"d": {EndpointID: "d", WorkspaceID: "ws", Since: at(1), LastFailure: at(2), DisableIfFailingSince: at(2).Add(-time.Hour), Failures: 2},
	}
	check := func(got []Streak, want map[EndpointID]Streak) {
		t.Helper()
		if len(got) != len(want) {
			t.Fatalf("Streaks = %+v", got)
		}
		for _, s := range got {
			if s != want[s.EndpointID] {
				t.Errorf("endpoint %s: %+v, want %+v", s.EndpointID, s, want[s.EndpointID])
			}
		}
	}
	check(Streaks(results, time.Hour), want)
	for _, never := range []time.Duration{0, -time.Hour} { // disables nothing
		for id, s := range want {
			s.DisableIfFailingSince = time.Time{}
			want[id] = s
		}
		check(Streaks(results, never), want)
	}
}

// Reports tells the failing and recovered transitions from the count of
// consecutive failures before and after a streak is applied, and reports
// nothing unless asked.
func TestStreakReports(t *testing.T) {
	failing := Streak{Report: true, FailingAfter: 3}
	restart := Streak{Report: true, FailingAfter: 3, Restart: true}
	ended := Streak{Report: true, FailingAfter: 3, Ended: true}
	for _, c := range []struct {
		name                     string
		s                        Streak
		before, after            int
		wantFailing, wantRecover bool
	}{
		{"below", failing, 0, 2, false, false},
		{"reaches", failing, 2, 3, true, false},
		{"crosses", failing, 1, 5, true, false},
		{"already past", failing, 3, 4, false, false}, // reported once per streak
		{"ends a reported streak", ended, 4, 0, false, true},
		{"ends an unreported streak", ended, 2, 0, false, false},
		{"ends one and reaches again", restart, 3, 3, true, true},
		{"ends one, fails below", restart, 5, 1, false, true},
		{"not asked", Streak{FailingAfter: 3}, 2, 3, false, false},
		{"no threshold", Streak{Report: true}, 2, 3, false, false},
	} {
		f, r := c.s.Reports(c.before, c.after)
		if f != c.wantFailing || r != c.wantRecover {
			t.Errorf("%s: Reports(%d, %d) = %v, %v; want %v, %v", c.name, c.before, c.after, f, r, c.wantFailing, c.wantRecover)
		}
	}
}

func TestStreaksProbation(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	r := func(sec int, probation bool) AttemptResult {
		return AttemptResult{EndpointID: "a", Probation: probation, Attempt: Attempt{AttemptedAt: t0.Add(time.Duration(sec) * time.Second), StatusCode: 200}}
	}
	// The last attempt decides, not the last result.
	if s := Streaks([]AttemptResult{r(2, false), r(1, true)}, 0); s[0].Probation {
		t.Errorf("Probation = true, want the last attempt's false")
	}
	if s := Streaks([]AttemptResult{r(1, false), r(2, true)}, 0); !s[0].Probation {
		t.Errorf("Probation = false, want the last attempt's true")
	}
}

func TestAttemptSucceeded(t *testing.T) {
	for code, want := range map[int]bool{0: false, 199: false, 200: true, 204: true, 299: true, 300: false, 404: false, 500: false} {
		if got := (Attempt{StatusCode: code}).Succeeded(); got != want {
			t.Errorf("Attempt{StatusCode: %d}.Succeeded() = %v, want %v", code, got, want)
		}
	}
}

func TestEndpointKeysSigning(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	current, previous := []byte("current"), []byte("previous")
	for _, tc := range []struct {
		name string
		keys EndpointKeys
		want [][]byte
	}{
		{"never rotated", EndpointKeys{Current: current}, [][]byte{current}},
		{"in the grace", EndpointKeys{Current: current, Previous: previous, PreviousUntil: now.Add(time.Millisecond)}, [][]byte{current, previous}},
		{"at its end", EndpointKeys{Current: current, Previous: previous, PreviousUntil: now}, [][]byte{current}},
		{"after it", EndpointKeys{Current: current, Previous: previous, PreviousUntil: now.Add(-time.Hour)}, [][]byte{current}},
	} {
		got := tc.keys.Signing(now)
		if len(got) != len(tc.want) {
			t.Errorf("%s: Signing = %q, want %q", tc.name, got, tc.want)
			continue
		}
		for i := range got {
			if !bytes.Equal(got[i], tc.want[i]) {
				t.Errorf("%s: Signing = %q, want %q", tc.name, got, tc.want)
			}
		}
	}
}
