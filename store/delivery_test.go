package store

import (
	"testing"
	"time"
)

func TestStreaks(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }
	r := func(ep EndpointID, min, code int) AttemptResult {
		return AttemptResult{EndpointID: ep, WorkspaceID: "ws", Attempt: Attempt{AttemptedAt: at(min), StatusCode: code}}
	}
	got := Streaks([]AttemptResult{
		r("a", 3, 500), r("a", 1, 500), r("a", 2, 200), // out of order: fail 1, ok 2, fail 3
		r("b", 1, 500), r("b", 2, 0), // failing throughout
		r("c", 1, 500), r("c", 2, 204), // ends with a success
	})
	want := map[EndpointID]Streak{
		"a": {EndpointID: "a", WorkspaceID: "ws", Since: at(3), Restart: true, LastFailure: at(3)},
		"b": {EndpointID: "b", WorkspaceID: "ws", Since: at(1), LastFailure: at(2)},
		"c": {EndpointID: "c", WorkspaceID: "ws", Ended: true, LastFailure: at(1)},
	}
	if len(got) != len(want) {
		t.Fatalf("Streaks = %+v", got)
	}
	for _, s := range got {
		if s != want[s.EndpointID] {
			t.Errorf("endpoint %s: %+v, want %+v", s.EndpointID, s, want[s.EndpointID])
		}
	}
}
