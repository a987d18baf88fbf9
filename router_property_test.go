package nahook_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/nahook/nahook"
	"github.com/nahook/nahook/internal/pgtest"
	"github.com/nahook/nahook/store"
	"github.com/nahook/nahook/store/postgres"
	"github.com/nahook/nahook/store/sqlite"
)

var (
	propertyNames = []string{"order.created", "order.refunded", "order.item.shipped", "invoice.paid",
		"invoice.payment.failed", "user.signup", "a", "a.b"}
	propertyPatterns = append([]string{"*", "order.*", "invoice.*", "order.item.*", "a.*", "user.*"}, propertyNames...)
)

// world is a randomised set of workspaces and the handles to poke at them.
type world struct {
	nh        *nahook.Client
	st        store.Store
	rng       *rand.Rand
	wss       []nahook.WorkspaceID
	envs      map[nahook.WorkspaceID][]nahook.EnvironmentID
	types     map[nahook.WorkspaceID][]nahook.EventType
	endpoints map[nahook.WorkspaceID][]nahook.EndpointID
	apps      map[nahook.WorkspaceID][]nahook.ApplicationID
	keys      []nahook.IssuedAPIKey // every key ever issued, revoked ones included
}

func pick[T any](rng *rand.Rand, s []T) T { return s[rng.IntN(len(s))] }

func (w *world) patterns() []string {
	var out []string
	for range w.rng.IntN(4) {
		out = append(out, pick(w.rng, propertyPatterns))
	}
	return out
}

// populate makes n random workspaces.
func (w *world) populate(ctx context.Context, n int) {
	for i := range n {
		ws := must(w.nh.Workspaces.Create(ctx, nahook.WorkspaceInput{Name: fmt.Sprint("ws ", i)}))
		w.wss = append(w.wss, ws.ID)
		w.envs[ws.ID] = []nahook.EnvironmentID{must(w.nh.Environments.Default(ctx, ws.ID)).ID}
		for j := range w.rng.IntN(3) {
			env := must(w.nh.Environments.Create(ctx, ws.ID, nahook.EnvironmentInput{Name: "env", Slug: fmt.Sprint("env-", j)}))
			w.envs[ws.ID] = append(w.envs[ws.ID], env.ID)
		}
		names := slices.Clone(propertyNames)
		w.rng.Shuffle(len(names), func(a, b int) { names[a], names[b] = names[b], names[a] })
		for _, name := range names[:1+w.rng.IntN(len(names))] {
			et := must(w.nh.EventTypes.Create(ctx, ws.ID, nahook.EventTypeInput{Name: name}))
			w.types[ws.ID] = append(w.types[ws.ID], et)
			for _, env := range w.envs[ws.ID] {
				if w.rng.IntN(2) == 0 {
					check(w.nh.EventTypes.SetPublished(ctx, ws.ID, env, et.ID, true))
				}
			}
		}
		for j := range w.rng.IntN(4) {
			app := must(w.nh.Applications.Create(ctx, ws.ID, nahook.ApplicationInput{Name: "customer", ExternalID: fmt.Sprint("cust_", j)}))
			w.apps[ws.ID] = append(w.apps[ws.ID], app.ID)
		}
		for range w.rng.IntN(12) {
			w.addEndpoint(ctx, ws.ID)
		}
		for _, env := range w.envs[ws.ID] {
			for range 1 + w.rng.IntN(2) {
				w.keys = append(w.keys, must(w.nh.APIKeys.Create(ctx, ws.ID, nahook.APIKeyInput{EnvironmentID: env})))
			}
		}
	}
}

func (w *world) addEndpoint(ctx context.Context, ws nahook.WorkspaceID) {
	var owner nahook.ApplicationID // half the endpoints are a customer's
	if apps := w.apps[ws]; len(apps) > 0 && w.rng.IntN(2) == 0 {
		owner = pick(w.rng, apps)
	}
	ep := must(w.nh.Endpoints.Create(ctx, ws, nahook.EndpointInput{
		ApplicationID: owner,
		EnvironmentID: pick(w.rng, w.envs[ws]),
		URL:           "https://example.com/hook",
		EventTypes:    w.existing(ws, w.patterns()),
		Disabled:      w.rng.IntN(5) == 0,
	}))
	w.endpoints[ws] = append(w.endpoints[ws], ep.ID)
}

// existing drops the names the workspace has no event type for.
func (w *world) existing(ws nahook.WorkspaceID, patterns []string) []string {
	out := []string{}
	for _, p := range patterns {
		ok := p == "*" || p[len(p)-1] == '*'
		for _, et := range w.types[ws] {
			ok = ok || et.Name == p
		}
		if ok {
			out = append(out, p)
		}
	}
	return out
}

// mutate makes one random change through the client, ignoring refusals:
// the point is that the router follows whatever the store accepted.
func (w *world) mutate(ctx context.Context) {
	ws := pick(w.rng, w.wss)
	switch w.rng.IntN(14) {
	case 9:
		w.populate(ctx, 1) // a new workspace, with keys, types and endpoints
	case 10:
		if len(w.wss) > 1 {
			i := w.rng.IntN(len(w.wss))
			w.nh.Workspaces.Delete(ctx, w.wss[i])
			w.wss = slices.Delete(slices.Clone(w.wss), i, i+1)
		}
	case 11:
		if env, err := w.nh.Environments.Create(ctx, ws, nahook.EnvironmentInput{Name: "late", Slug: fmt.Sprint("late-", w.rng.IntN(1e6))}); err == nil {
			w.envs[ws] = append(w.envs[ws], env.ID)
			w.keys = append(w.keys, must(w.nh.APIKeys.Create(ctx, ws, nahook.APIKeyInput{EnvironmentID: env.ID})))
		}
	case 12:
		w.keys = append(w.keys, must(w.nh.APIKeys.Create(ctx, ws, nahook.APIKeyInput{EnvironmentID: pick(w.rng, w.envs[ws])})))
	case 13:
		if et, err := w.nh.EventTypes.Create(ctx, ws, nahook.EventTypeInput{Name: pick(w.rng, propertyNames)}); err == nil {
			w.types[ws] = append(w.types[ws], et)
			w.nh.EventTypes.SetPublished(ctx, ws, pick(w.rng, w.envs[ws]), et.ID, true)
		}
	case 0:
		w.addEndpoint(ctx, ws)
	case 1:
		if eps := w.endpoints[ws]; len(eps) > 0 {
			w.nh.Endpoints.Update(ctx, ws, pick(w.rng, eps), nahook.EndpointPatch{EventTypes: w.existing(ws, w.patterns())})
		}
	case 2:
		if eps := w.endpoints[ws]; len(eps) > 0 {
			w.nh.Endpoints.Update(ctx, ws, pick(w.rng, eps), nahook.EndpointPatch{Disabled: ptr(w.rng.IntN(2) == 0)})
		}
	case 3:
		if eps := w.endpoints[ws]; len(eps) > 0 {
			w.nh.Endpoints.Delete(ctx, ws, pick(w.rng, eps))
		}
	case 4:
		if ets := w.types[ws]; len(ets) > 0 {
			w.nh.EventTypes.SetPublished(ctx, ws, pick(w.rng, w.envs[ws]), pick(w.rng, ets).ID, w.rng.IntN(2) == 0)
		}
	case 5:
		k := pick(w.rng, w.keys)
		w.nh.APIKeys.Revoke(ctx, k.WorkspaceID, k.ID)
	case 6:
		if envs := w.envs[ws]; len(envs) > 1 {
			w.nh.Environments.Delete(ctx, ws, envs[len(envs)-1])
			w.envs[ws] = envs[:len(envs)-1]
		}
	case 7:
		if ets := w.types[ws]; len(ets) > 0 {
			i := w.rng.IntN(len(ets))
			w.nh.EventTypes.Delete(ctx, ws, ets[i].ID)
			w.types[ws] = slices.Delete(slices.Clone(ets), i, i+1)
		}
	case 8:
		if ets := w.types[ws]; len(ets) > 0 {
			i := w.rng.IntN(len(ets))
			if et, err := w.nh.EventTypes.Update(ctx, ws, ets[i].ID, nahook.EventTypePatch{Name: ptr(pick(w.rng, propertyNames))}); err == nil {
				w.types[ws][i] = et
			}
		}
	}
}

// agree fails t wherever the router and the store-only oracle disagree.
func (w *world) agree(t *testing.T, ctx context.Context, router *nahook.Router) {
	t.Helper()
	kinds := []error{nahook.ErrUnauthorized, nahook.ErrUnknownEventType, nahook.ErrNotPublished,
		nahook.ErrOtherEnvironment, nahook.ErrEndpointDisabled, nahook.ErrNotFound}
	kind := func(err error) error {
		for _, k := range kinds {
			if errors.Is(err, k) {
				return k
			}
		}
		return err
	}
	for _, k := range w.keys {
		for _, name := range append(propertyNames, "unknown.type") {
			want, wantErr := storeResolve(ctx, w.st, k.Plaintext, name)
			route, err := router.Resolve(ctx, k.Plaintext, name)
			if kind(err) != kind(wantErr) || !slices.Equal(targetIDs(route), want) {
				t.Fatalf("Resolve(%s, %s) = %v, %v; the store says %v, %v", k.ID, name, targetIDs(route), err, want, wantErr)
			}
			if err != nil {
				continue
			}
			x, err := router.Explain(ctx, k.Plaintext, name)
			if err != nil {
				t.Fatal(err)
			}
			var receiving []nahook.EndpointID
			for _, v := range x.Endpoints {
				if v.Receives {
					receiving = append(receiving, v.ID)
				}
			}
			if !slices.Equal(receiving, want) {
				t.Fatalf("Explain(%s, %s) receives %v; Resolve routes to %v", k.ID, name, receiving, want)
			}
		}
		w.agreeAudiences(t, ctx, router, k, kind)
		for _, ep := range w.endpoints[k.WorkspaceID] {
			wantErr := storeResolveDirect(ctx, w.st, k.Plaintext, ep)
			_, err := router.ResolveDirect(ctx, k.Plaintext, ep)
			if kind(err) != kind(wantErr) {
				t.Fatalf("ResolveDirect(%s, %s) error = %v; the store says %v", k.ID, ep, err, wantErr)
			}
		}
	}
}

// audience is whom an event is for: an application, none, or all.
type audience struct {
	app       nahook.ApplicationID
	broadcast bool
}

// agreeAudiences fails t wherever, for a key's workspace and environment
// and every audience (each application, none, a broadcast, an application
// the workspace does not have), Router.Route and ExplainFor disagree with
// the store-only oracle, or an ingested event's deliveries do; and wherever
// an application's endpoint would receive an event for another.
func (w *world) agreeAudiences(t *testing.T, ctx context.Context, router *nahook.Router, k nahook.IssuedAPIKey, kind func(error) error) {
	t.Helper()
	if w.isRevoked(ctx, k) {
		return
	}
	owner := map[nahook.EndpointID]nahook.ApplicationID{}
	for _, id := range w.endpoints[k.WorkspaceID] {
		if ep, err := w.st.GetEndpoint(ctx, k.WorkspaceID, id); err == nil {
			owner[id] = ep.ApplicationID
		}
	}
	audiences := []audience{{}, {broadcast: true}, {app: "app_01kaaaaaaaaaaaaaaaaaaaaaaa"}}
	for _, app := range w.apps[k.WorkspaceID] {
		audiences = append(audiences, audience{app: app})
	}
	defaultEnv := w.envs[k.WorkspaceID][0]
	for _, a := range audiences {
		for _, name := range append(propertyNames, "unknown.type") {
			want, wantErr := storeRoute(ctx, w.st, k.WorkspaceID, k.EnvironmentID, a.app, a.broadcast, name)
			q := nahook.RouteQuery{WorkspaceID: k.WorkspaceID, EnvironmentID: k.EnvironmentID, ApplicationID: a.app, Broadcast: a.broadcast, EventType: name}
			if k.EnvironmentID == defaultEnv && w.rng.IntN(2) == 0 {
				q.EnvironmentID = "" // the default environment, unnamed
			}
			route, err := router.Route(ctx, q)
			if kind(err) != kind(wantErr) || !slices.Equal(targetIDs(route), want) {
				t.Fatalf("Route(%+v) = %v, %v; the store says %v, %v", q, targetIDs(route), err, want, wantErr)
			}
			for _, id := range want {
				if a.app != "" && owner[id] != a.app {
					t.Fatalf("an event for %s reaches %s, of %q", a.app, id, owner[id])
				}
			}
			if err != nil {
				continue
			}
			x, err := router.ExplainFor(ctx, k.Plaintext, name, nahook.ExplainOptions{ApplicationID: a.app, Broadcast: a.broadcast})
			if err != nil {
				t.Fatal(err)
			}
			var receiving []nahook.EndpointID
			for _, v := range x.Endpoints {
				if v.Receives {
					receiving = append(receiving, v.ID)
				}
				if v.ApplicationID != "" && v.ApplicationID != a.app && !a.broadcast && !slices.Contains(v.Reasons, nahook.ReasonOtherApplication) {
					t.Fatalf("ExplainFor(%s, %+v): %s of %s has reasons %v", name, a, v.ID, v.ApplicationID, v.Reasons)
				}
			}
			if !slices.Equal(receiving, want) {
				t.Fatalf("ExplainFor(%s, %s, %+v) receives %v; the store says %v", k.ID, name, a, receiving, want)
			}
			// The keyless explanation is the keyed one, without the key.
			keyless, err := router.ExplainRoute(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			x.KeyID = ""
			if !reflect.DeepEqual(keyless, x) {
				t.Fatalf("ExplainRoute(%+v) = %+v; ExplainFor says %+v", q, keyless, x)
			}
		}
		// One event through Ingest: its deliveries are the route, and an
		// application's event reaches none of another's endpoints.
		name := pick(w.rng, propertyNames)
		want, wantErr := storeRoute(ctx, w.st, k.WorkspaceID, k.EnvironmentID, a.app, a.broadcast, name)
		in, err := w.nh.Events.Ingest(ctx, k.Plaintext, name, nahook.IngestInput{Payload: []byte(`{}`), ApplicationID: a.app, Broadcast: a.broadcast})
		if a.app != "" && !slices.Contains(w.apps[k.WorkspaceID], a.app) {
			if wantErr == nil { // the event type is refused first
				wantErr = nahook.ErrNotFound // an application the workspace does not have
			}
			want = nil
		}
		var got []nahook.EndpointID
		for _, d := range in.Deliveries {
			got = append(got, d.EndpointID)
			if a.app != "" && owner[d.EndpointID] != a.app {
				t.Fatalf("Ingest for %s delivered to %s, of %q", a.app, d.EndpointID, owner[d.EndpointID])
			}
		}
		slices.Sort(got)
		if kind(err) != kind(wantErr) || !slices.Equal(got, want) {
			t.Fatalf("Ingest(%s, %s, %+v) = %v, %v; the store says %v, %v", k.ID, name, a, got, err, want, wantErr)
		}
	}
}

// isRevoked reports whether k no longer opens its environment.
func (w *world) isRevoked(ctx context.Context, k nahook.IssuedAPIKey) bool {
	_, err := storeResolve(ctx, w.st, k.Plaintext, "unknown.type")
	return errors.Is(err, nahook.ErrUnauthorized)
}

// testAgreement runs the property on a store: the snapshot answers exactly
// as a straight store query does, after the first load and after every
// batch of random changes, both through the writing client (read-your-
// writes) and through a second client on the same store (following
// changes).
func testAgreement(t *testing.T, st store.Store, seed uint64) {
	ctx := context.Background()
	w := &world{
		st: st, rng: rand.New(rand.NewPCG(seed, seed)),
		envs: map[nahook.WorkspaceID][]nahook.EnvironmentID{}, types: map[nahook.WorkspaceID][]nahook.EventType{},
		endpoints: map[nahook.WorkspaceID][]nahook.EndpointID{}, apps: map[nahook.WorkspaceID][]nahook.ApplicationID{},
	}
	w.nh = must(nahook.New(st, nahook.Config{}))
	defer w.nh.Close()
	w.populate(ctx, 8)
	w.agree(t, ctx, w.nh.Router)

	follower := must(nahook.New(st, nahook.Config{}))
	defer follower.Close()
	check(follower.Router.Load(ctx))
	for range 6 {
		for range 1 + w.rng.IntN(8) {
			w.mutate(ctx)
		}
		w.agree(t, ctx, w.nh.Router)
		check(follower.Router.Load(ctx)) // no-op once loaded; the follower catches up below
		waitFollowed(t, ctx, follower, st)
		w.agree(t, ctx, follower.Router)
	}
}

// waitFollowed waits until a client's router has followed every change the
// store has: it asks the store for its version, then for a Resolve that
// must see it.
func waitFollowed(t *testing.T, ctx context.Context, nh *nahook.Client, st store.Store) {
	t.Helper()
	target, _, err := st.RoutingChanges(ctx, 0)
	check(err)
	for range 500 {
		if nh.Router.Version() >= target {
			return
		}
		sleep()
	}
	t.Fatalf("router did not follow the store to version %d", target)
}

func sleep() { time.Sleep(10 * time.Millisecond) }

// propertySeeds is how many random worlds each store's property test
// tries: all of them in the plain run, half under -race, where they take
// minutes.
func propertySeeds(n uint64) uint64 {
	if raceDetector {
		return max(n/2, 1)
	}
	return n
}

func TestRouterAgreesWithStoreSQLite(t *testing.T) {
	for seed := range propertySeeds(4) {
		t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) {
			t.Parallel()
			st := must(sqlite.Open(context.Background(), ":memory:"))
			defer st.Close()
			testAgreement(t, st, seed)
		})
	}
}

func TestRouterAgreesWithStorePostgres(t *testing.T) {
	pgtest.URL(t)
	for seed := range propertySeeds(2) {
		t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) {
			st := must(postgres.Open(context.Background(), pgtest.Schema(t)))
			defer st.Close()
			testAgreement(t, st, seed)
		})
	}
}
