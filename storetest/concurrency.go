package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/matryer/is"

	"github.com/nahook/nahook"
	"github.com/nahook/nahook/store"
)

// race runs fn n times at once and returns the errors, one per call.
func race(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	ready := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-ready // start together, to make the race as tight as possible
			errs[i] = fn(i)
		})
	}
	close(ready)
	wg.Wait()
	return errs
}

// tally counts errs by kind; any other error fails the case.
func tally(t *testing.T, errs []error, kinds ...error) map[error]int {
	t.Helper()
	counts := map[error]int{}
	for _, err := range errs {
		if err == nil {
			counts[nil]++
			continue
		}
		known := false
		for _, k := range kinds {
			if errors.Is(err, k) {
				counts[k]++
				known = true
				break
			}
		}
		if !known {
			t.Errorf("unexpected error: %v", err)
		}
	}
	return counts
}

var concurrencyTests = []test{
	{
		name:     "Concurrency/EnvironmentLimit",
		contract: "The 10-environment limit holds under concurrent creates: 50 parallel creates on a new workspace leave exactly 10 environments, every refused create failing with ErrLimitExceeded.",
		run: func(t *testing.T, h *harness) {
			is := is.New(t)
			ws := h.workspace(t)
			errs := race(50, func(i int) error {
				_, err := h.racer(i).Environments.Create(h.ctx, ws.ID, nahook.EnvironmentInput{Name: "Racer", Slug: fmt.Sprint("racer-", i)})
				return err
			})
			counts := tally(t, errs, nahook.ErrLimitExceeded)
			is.Equal(counts[nil], nahook.MaxEnvironments-1)                          // nine join the default
			is.Equal(counts[nahook.ErrLimitExceeded], 50-(nahook.MaxEnvironments-1)) // the rest are refused
			envs, err := h.st.ListEnvironments(h.ctx, ws.ID, store.Page{Limit: 100})
			is.NoErr(err)
			is.Equal(len(envs), nahook.MaxEnvironments) // exactly 10
		},
	},
	{
		name:     "Concurrency/ExternalIDUnique",
		contract: "externalId uniqueness holds under concurrent creates: 50 parallel creates with one externalId leave exactly one application and 49 ErrConflict errors.",
		run: func(t *testing.T, h *harness) {
			is := is.New(t)
			ws := h.workspace(t)
			errs := race(50, func(i int) error {
				_, err := h.racer(i).Applications.Create(h.ctx, ws.ID, nahook.ApplicationInput{Name: fmt.Sprint("Racer ", i), ExternalID: "cust_123"})
				return err
			})
			counts := tally(t, errs, nahook.ErrConflict)
			is.Equal(counts[nil], 1)
			is.Equal(counts[nahook.ErrConflict], 49)
			apps, err := h.st.ListApplications(h.ctx, ws.ID, store.Page{Limit: 100})
			is.NoErr(err)
			is.Equal(len(apps), 1) // exactly one application
			for _, err := range errs {
				if err != nil {
					wantErr(t, err, nahook.ErrConflict, "externalId")
				}
			}
		},
	},
	{
		name:     "Concurrency/SlugAndNameUnique",
		contract: "Slug and event type name uniqueness hold under concurrent creates: of 20 parallel creates with one value exactly one succeeds, the others are ErrConflict.",
		run: func(t *testing.T, h *harness) {
			is := is.New(t)
			ws := h.workspace(t)
			errs := race(20, func(i int) error {
				_, err := h.racer(i).Environments.Create(h.ctx, ws.ID, nahook.EnvironmentInput{Name: "Staging", Slug: "staging"})
				return err
			})
			counts := tally(t, errs, nahook.ErrConflict)
			is.Equal(counts[nil], 1)
			is.Equal(counts[nahook.ErrConflict], 19)
			errs = race(20, func(i int) error {
				_, err := h.racer(i).EventTypes.Create(h.ctx, ws.ID, nahook.EventTypeInput{Name: "order.created"})
				return err
			})
			counts = tally(t, errs, nahook.ErrConflict)
			is.Equal(counts[nil], 1)
			is.Equal(counts[nahook.ErrConflict], 19)
		},
	},
	{
		name:     "Concurrency/DeleteWhileCreating",
		contract: "Deleting an environment while endpoints and keys are created in it leaves no endpoint or key behind: each create either lands before the delete (and goes with it) or fails with ErrNotFound.",
		run: func(t *testing.T, h *harness) {
			is := is.New(t)
			ws := h.workspace(t)
			staging := h.env(t, ws.ID, "staging")
			errs := race(41, func(i int) error {
				switch {
				case i == 20:
					return h.racer(i).Environments.Delete(h.ctx, ws.ID, staging.ID)
				case i%2 == 0:
					_, err := h.racer(i).Endpoints.Create(h.ctx, ws.ID, nahook.EndpointInput{EnvironmentID: staging.ID, URL: "https://example.com/hook"})
					return err
				default:
					_, err := h.racer(i).APIKeys.Create(h.ctx, ws.ID, nahook.APIKeyInput{EnvironmentID: staging.ID})
					return err
				}
			})
			tally(t, errs, nahook.ErrNotFound)
			is.NoErr(errs[20]) // the delete itself succeeds
			eps, err := h.st.ListEndpoints(h.ctx, ws.ID, store.EndpointFilter{}, store.Page{Limit: 100})
			is.NoErr(err)
			is.Equal(len(eps), 0) // no endpoint outlived its environment
			keys, err := h.st.ListAPIKeys(h.ctx, ws.ID, store.APIKeyFilter{}, store.Page{Limit: 100})
			is.NoErr(err)
			is.Equal(len(keys), 0) // no key either
		},
	},
}
