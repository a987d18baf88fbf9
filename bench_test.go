package nahook_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/nahook/nahook"
	"github.com/nahook/nahook/store/sqlite"
)

// The benchmark world: 1,000 workspaces, each with two environments, ten
// event types (eight published in production, five in staging), ten
// applications of ten endpoints each (100,000 endpoints in all, split
// between the environments, subscribed by name, by wildcard or not at all,
// one in twenty disabled) and a key per environment.
const (
	benchWorkspaces   = 1000
	benchApps         = 10
	benchEndpointsApp = 10
	benchEndpoints    = benchWorkspaces * benchApps * benchEndpointsApp
)

var benchTypes = []string{"order.created", "order.updated", "order.refunded", "order.item.shipped",
	"invoice.created", "invoice.paid", "invoice.payment.failed", "user.signup", "user.deleted", "subscription.renewed"}

// lookup is one Resolve call of the benchmark: a key and a type published
// in the key's environment.
type lookup struct{ key, eventType string }

// routeLookup is one Route call of the benchmark: the keyless twin of a
// lookup, for one of the workspace's applications.
type routeLookup struct{ q nahook.RouteQuery }

var benchWorld struct {
	once    sync.Once
	dir     string // holds the database file, removed by TestMain
	path    string
	lookups []lookup
	routes  []routeLookup
	err     error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if benchWorld.dir != "" {
		os.RemoveAll(benchWorld.dir)
	}
	os.Exit(code)
}

// benchmarkWorld returns the path of a SQLite file holding the benchmark world,
// built once per run (in memory through the API, then copied to the file),
// and the lookups to replay.
func benchmarkWorld(b *testing.B) (string, []lookup, []routeLookup) {
	benchWorld.once.Do(func() {
		start := time.Now()
		benchWorld.dir, benchWorld.err = os.MkdirTemp("", "nahook-bench-")
		if benchWorld.err != nil {
			return
		}
		benchWorld.path = filepath.Join(benchWorld.dir, "nahook.db")
		benchWorld.lookups, benchWorld.routes, benchWorld.err = buildWorld(context.Background(), benchWorld.path)
		b.Logf("built the benchmark world (%d endpoints) in %v", benchEndpoints, time.Since(start).Round(time.Millisecond))
	})
	if benchWorld.err != nil {
		b.Fatal(benchWorld.err)
	}
	return benchWorld.path, benchWorld.lookups, benchWorld.routes
}

func buildWorld(ctx context.Context, path string) ([]lookup, []routeLookup, error) {
	st, err := sqlite.Open(ctx, ":memory:")
	if err != nil {
		return nil, nil, err
	}
	defer st.Close()
	nh, err := nahook.New(st, nahook.Config{})
	if err != nil {
		return nil, nil, err
	}
	defer nh.Close()
	rng := rand.New(rand.NewPCG(1, 2))
	var lookups []lookup
	var routes []routeLookup
	for i := range benchWorkspaces {
		ws := must(nh.Workspaces.Create(ctx, nahook.WorkspaceInput{Name: fmt.Sprint("Workspace ", i)}))
		prod := must(nh.Environments.Default(ctx, ws.ID))
		staging := must(nh.Environments.Create(ctx, ws.ID, nahook.EnvironmentInput{Name: "Staging", Slug: "staging"}))
		envs := []nahook.Environment{prod, staging}
		published := map[nahook.EnvironmentID][]string{}
		for j, name := range benchTypes {
			et := must(nh.EventTypes.Create(ctx, ws.ID, nahook.EventTypeInput{Name: name}))
			for k, env := range envs {
				if (k == 0 && j < 8) || (k == 1 && j%2 == 0) {
					check(nh.EventTypes.SetPublished(ctx, ws.ID, env.ID, et.ID, true))
					published[env.ID] = append(published[env.ID], name)
				}
			}
		}
		var apps []nahook.ApplicationID
		for a := range benchApps {
			app := must(nh.Applications.Create(ctx, ws.ID, nahook.ApplicationInput{Name: fmt.Sprint("Customer ", a), ExternalID: fmt.Sprint("cust_", a)}))
			apps = append(apps, app.ID)
			for e := range benchEndpointsApp {
				var subs []string
				switch r := rng.IntN(10); {
				case r < 4:
					subs = []string{pick(rng, benchTypes), pick(rng, benchTypes)}
				case r < 6:
					subs = []string{"order.*"}
				case r < 7:
					subs = []string{"invoice.*", "user.signup"}
				case r < 9:
					subs = []string{"*"}
				}
				must(nh.Endpoints.Create(ctx, ws.ID, nahook.EndpointInput{
					EnvironmentID: envs[e%2].ID,
					ApplicationID: app.ID,
					URL:           fmt.Sprintf("https://customer-%d-%d.example.com/webhooks/%d", i, a, e),
					EventTypes:    subs,
					Disabled:      rng.IntN(20) == 0,
				}))
			}
		}
		for _, env := range envs {
			key := must(nh.APIKeys.Create(ctx, ws.ID, nahook.APIKeyInput{EnvironmentID: env.ID}))
			for n, name := range published[env.ID] {
				lookups = append(lookups, lookup{key.Plaintext, name})
				routes = append(routes, routeLookup{nahook.RouteQuery{WorkspaceID: ws.ID, EnvironmentID: env.ID,
					ApplicationID: apps[n%len(apps)], EventType: name}})
			}
		}
	}
	rng.Shuffle(len(lookups), func(i, j int) { lookups[i], lookups[j] = lookups[j], lookups[i] })
	rng.Shuffle(len(routes), func(i, j int) { routes[i], routes[j] = routes[j], routes[i] })
	return lookups, routes, st.Backup(ctx, path)
}

var sink int

// BenchmarkResolve compares Resolve answered from the router's snapshot
// (cached) with the same lookups made straight against the SQLite store
// (store), over the benchmark world, and measures in the same run the
// SHA-256 of the key that Resolve computes first (key-sha256).
func BenchmarkResolve(b *testing.B) {
	path, lookups, _ := benchmarkWorld(b)
	ctx := context.Background()
	st := must(sqlite.Open(ctx, path))
	defer st.Close()
	nh := must(nahook.New(st, nahook.Config{}))
	defer nh.Close()
	check(nh.Router.Load(ctx))

	// key-sha256 is the SHA-256 of the same keys, run just before cached,
	// which reports its time as a multiple of it ("x-key-sha256"): the
	// lookups after the hash should cost less than the hash, so at most 2.
	var hashNs float64
	b.Run("key-sha256", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			// Through a buffer on the stack, as Resolve hashes: a
			// []byte(key) of 44 bytes would allocate.
			var buf [64]byte
			n := copy(buf[:], lookups[i%len(lookups)].key)
			h := sha256.Sum256(buf[:n])
			sink += int(h[0])
			i++
		}
		hashNs = float64(b.Elapsed().Nanoseconds()) / float64(i)
	})
	b.Run("cached", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			l := lookups[i%len(lookups)]
			r, err := nh.Router.Resolve(ctx, l.key, l.eventType)
			if err != nil {
				b.Fatal(err)
			}
			sink += r.NumEndpoints()
			i++
		}
		if hashNs > 0 {
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(i)/hashNs, "x-key-sha256")
		}
	})
	b.Run("cached-parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			i := rand.IntN(len(lookups))
			n := 0
			for pb.Next() {
				l := lookups[i%len(lookups)]
				r, err := nh.Router.Resolve(ctx, l.key, l.eventType)
				if err != nil {
					b.Error(err)
					return
				}
				n += r.NumEndpoints()
				i++
			}
			_ = n
		})
	})
	b.Run("store", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			l := lookups[i%len(lookups)]
			ids, err := storeResolve(ctx, st, l.key, l.eventType)
			if err != nil {
				b.Fatal(err)
			}
			sink += len(ids)
			i++
		}
	})
}

// BenchmarkRoute is the keyless Router.Route over the benchmark world: the
// lookups of BenchmarkResolve, by workspace and environment instead of a
// key, so that cached should beat BenchmarkResolve/cached by at least
// key-sha256, the hash of one key that Resolve computes and Route does
// not.
func BenchmarkRoute(b *testing.B) {
	path, lookups, routes := benchmarkWorld(b)
	ctx := context.Background()
	st := must(sqlite.Open(ctx, path))
	defer st.Close()
	nh := must(nahook.New(st, nahook.Config{}))
	defer nh.Close()
	check(nh.Router.Load(ctx))

	// cached asks what Resolve/cached asks, an event for no application,
	// by workspace and environment instead of a key; for-application asks
	// for one of the workspace's applications, one lookup more.
	forNone := make([]nahook.RouteQuery, len(routes))
	for i, r := range routes {
		forNone[i] = r.q
		forNone[i].ApplicationID = ""
	}
	for _, c := range []struct {
		name    string
		queries []nahook.RouteQuery
	}{{"cached", forNone}, {"cached-for-application", nil}} {
		if c.queries == nil {
			for _, r := range routes {
				c.queries = append(c.queries, r.q)
			}
		}
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				r, err := nh.Router.Route(ctx, c.queries[i%len(c.queries)])
				if err != nil {
					b.Fatal(err)
				}
				sink += r.NumEndpoints()
				i++
			}
		})
	}
	b.Run("cached-parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			i := rand.IntN(len(routes))
			n := 0
			for pb.Next() {
				r, err := nh.Router.Route(ctx, forNone[i%len(forNone)])
				if err != nil {
					b.Error(err)
					return
				}
				n += r.NumEndpoints()
				i++
			}
			_ = n
		})
	})
	// key-sha256 is the SHA-256 of a key as Resolve hashes it, through a
	// buffer on the stack: what Route saves.
	b.Run("key-sha256", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			var buf [64]byte
			n := copy(buf[:], lookups[i%len(lookups)].key)
			h := sha256.Sum256(buf[:n])
			sink += int(h[0])
			i++
		}
	})
}

// BenchmarkRouterLoad builds the router's snapshot of the benchmark world
// from its SQLite file, as a host process does at start, and reports the
// heap the snapshot holds per endpoint.
func BenchmarkRouterLoad(b *testing.B) {
	path, _, _ := benchmarkWorld(b)
	ctx := context.Background()
	st := must(sqlite.Open(ctx, path))
	defer st.Close()
	var perEndpoint float64
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		nh := must(nahook.New(st, nahook.Config{}))
		check(nh.Router.Load(ctx))
		b.StopTimer()
		runtime.GC()
		runtime.ReadMemStats(&after)
		perEndpoint = float64(after.HeapAlloc-before.HeapAlloc) / benchEndpoints
		runtime.KeepAlive(nh)
		nh.Close()
		b.StartTimer()
	}
	b.ReportMetric(perEndpoint, "B/endpoint")
}
