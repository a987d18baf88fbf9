package nahook_test

import (
	"context"
	"errors"
	"testing"

	"github.com/nahook/nahook"
)

// FuzzResolve drives Resolve, ResolveDirect and Explain with arbitrary keys
// and names: they never panic, every error is one of the documented kinds,
// and a route is always for the type asked.
func FuzzResolve(f *testing.F) {
	fx := newFixture(f)
	ctx := context.Background()
	for _, key := range []string{fx.stagingKey.Plaintext, fx.prodKey.Plaintext, fx.otherKey.Plaintext, "", "nhk_", "nhm_x"} {
		for _, name := range []string{"order.created", "order.item.shipped", "invoice.paid", "order.*", "*", "", "\x00"} {
			f.Add(key, name)
		}
	}
	kinds := []error{nahook.ErrUnauthorized, nahook.ErrUnknownEventType, nahook.ErrNotPublished,
		nahook.ErrNotFound, nahook.ErrOtherEnvironment, nahook.ErrEndpointDisabled}
	known := func(err error) bool {
		for _, k := range kinds {
			if errors.Is(err, k) {
				return true
			}
		}
		return false
	}
	f.Fuzz(func(t *testing.T, key, name string) {
		route, err := fx.nh.Router.Resolve(ctx, key, name)
		if err != nil && !known(err) {
			t.Fatalf("Resolve(%q, %q): undocumented error %v", key, name, err)
		}
		if err == nil && route.EventType != name {
			t.Fatalf("Resolve(%q, %q) routed type %q", key, name, route.EventType)
		}
		if _, err := fx.nh.Router.ResolveDirect(ctx, key, nahook.EndpointID(name)); err != nil && !known(err) {
			t.Fatalf("ResolveDirect(%q, %q): undocumented error %v", key, name, err)
		}
		if _, err := fx.nh.Router.Explain(ctx, key, name); err != nil && !known(err) {
			t.Fatalf("Explain(%q, %q): undocumented error %v", key, name, err)
		}
	})
}
