package nahookotel_test

import (
	"context"
	"strconv"
	"testing"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/nahook/nahook"
	"github.com/nahook/nahook/nahookotel"
)

// observers are the set-ups compared: no observer at all; nahookotel with
// the global providers, which do nothing until the host sets them; and
// nahookotel with the SDK's meter provider, recording.
func observers(b *testing.B) map[string]nahook.Observer {
	noop, err := nahookotel.New(nahookotel.Options{})
	if err != nil {
		b.Fatal(err)
	}
	sdk, err := nahookotel.New(nahookotel.Options{MeterProvider: sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))})
	if err != nil {
		b.Fatal(err)
	}
	return map[string]nahook.Observer{"none": {}, "otel-noop": noop.Observer(), "otel-sdk": sdk.Observer()}
}

// BenchmarkIngest measures what observing costs an ingest (an in-memory
// SQLite store: the cheapest commit, so the largest share): compare
// none with otel-noop.
func BenchmarkIngest(b *testing.B) {
	obs := observers(b)
	for _, name := range []string{"none", "otel-noop", "otel-sdk"} {
		b.Run(name, func(b *testing.B) {
			w := newWorld(b, obs[name])
			ctx := context.Background()
			payload := []byte(`{"orderId":"ord_1","total":4200}`)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				if _, err := w.nh.Events.Ingest(ctx, w.key, "order.created",
					nahook.IngestInput{Payload: payload, IdempotencyKey: strconv.Itoa(i)}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkResolve shows that routing, which no observer hook is on,
// allocates nothing with one set.
func BenchmarkResolve(b *testing.B) {
	obs := observers(b)
	for _, name := range []string{"none", "otel-sdk"} {
		b.Run(name, func(b *testing.B) {
			w := newWorld(b, obs[name])
			ctx := context.Background()
			if _, err := w.nh.Router.Resolve(ctx, w.key, "order.created"); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, err := w.nh.Router.Resolve(ctx, w.key, "order.created"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
