package nahook_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"strings"

	"github.com/nahook/nahook"
	"github.com/nahook/nahook/store"
)

// storeResolve decides a route straight from the store, with no snapshot
// and no code shared with the router: the oracle of the property test and
// the baseline of BenchmarkResolve/store. It answers for an event of no
// application, as Resolve does.
func storeResolve(ctx context.Context, st store.Store, apiKey, eventType string) ([]nahook.EndpointID, error) {
	k, err := st.GetAPIKeyByHash(ctx, sha256.Sum256([]byte(apiKey)))
	if errors.Is(err, store.ErrNotFound) || (err == nil && (k.Revoked() || k.Kind != store.KeyKindEnvironment)) {
		return nil, nahook.ErrUnauthorized
	}
	if err != nil {
		return nil, err
	}
	return storeRoute(ctx, st, k.WorkspaceID, k.EnvironmentID, "", false, eventType)
}

// storeRoute is where an event of the named type, sent in env of ws for
// app or broadcast, goes, as the store says: the product's rules written
// out, isolation included. An application's endpoints receive its events
// and broadcasts only; an event of no application reaches endpoints of
// none, unless it is a broadcast.
func storeRoute(ctx context.Context, st store.Store, ws nahook.WorkspaceID, env nahook.EnvironmentID, app nahook.ApplicationID, broadcast bool, eventType string) ([]nahook.EndpointID, error) {
	vis, err := st.ListEventTypeVisibility(ctx, ws, env)
	if err != nil {
		return nil, err
	}
	published, known := false, false
	for _, v := range vis {
		if v.EventTypeName == eventType {
			known, published = true, v.Published
		}
	}
	switch {
	case !known:
		return nil, nahook.ErrUnknownEventType
	case !published:
		return nil, nahook.ErrNotPublished
	}
	var out []nahook.EndpointID
	page := store.PageRequest{Limit: 250}
	for {
		eps, err := st.ListEndpoints(ctx, ws, store.EndpointFilter{EnvironmentID: env}, page)
		if err != nil {
			return nil, err
		}
		for _, ep := range eps {
			audience := ep.ApplicationID == app || (app == "" && broadcast)
			if !ep.Disabled && audience && subscribes(ep.EventTypes, eventType) {
				out = append(out, ep.ID)
			}
		}
		if len(eps) < page.Limit {
			return out, nil
		}
		page.After = string(eps[len(eps)-1].ID)
	}
}

// storeResolveDirect is storeResolve for a direct delivery.
func storeResolveDirect(ctx context.Context, st store.Store, apiKey string, id nahook.EndpointID) error {
	k, err := st.GetAPIKeyByHash(ctx, sha256.Sum256([]byte(apiKey)))
	if errors.Is(err, store.ErrNotFound) || (err == nil && (k.Revoked() || k.Kind != store.KeyKindEnvironment)) {
		return nahook.ErrUnauthorized
	}
	if err != nil {
		return err
	}
	ep, err := st.GetEndpoint(ctx, k.WorkspaceID, id)
	switch {
	case err != nil:
		return err
	case ep.EnvironmentID != k.EnvironmentID:
		return nahook.ErrOtherEnvironment
	case ep.Disabled:
		return nahook.ErrEndpointDisabled
	}
	return nil
}

// subscribes is the subscription rule as the product documents it: "*"
// matches every name, "x.*" every name under "x.", anything else itself.
func subscribes(patterns []string, name string) bool {
	for _, p := range patterns {
		switch {
		case p == "*", p == name:
			return true
		case strings.HasSuffix(p, ".*"):
			prefix := strings.TrimSuffix(p, "*")
			if strings.HasPrefix(name, prefix) && len(name) > len(prefix) {
				return true
			}
		}
	}
	return false
}
