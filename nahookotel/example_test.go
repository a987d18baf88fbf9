package nahookotel_test

import (
	"context"
	"fmt"
	"log"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/nahook/nahook"
	"github.com/nahook/nahook/nahookotel"
	"github.com/nahook/nahook/nahooktest"
)

// Wiring nahook to an OpenTelemetry MeterProvider: here the SDK's, read
// by hand; in a host, the one it exports with (see examples/server for
// Prometheus).
func Example() {
	ctx := context.Background()
	reader := sdkmetric.NewManualReader()
	tel, err := nahookotel.New(nahookotel.Options{MeterProvider: sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))})
	if err != nil {
		log.Fatal(err)
	}
	kit, err := nahooktest.Open(ctx, nahooktest.WithConfig(nahook.Config{Observer: tel.Observer()}))
	if err != nil {
		log.Fatal(err)
	}
	defer kit.Close()
	nh := kit.Client
	if _, err := tel.ObserveStats(nh); err != nil {
		log.Fatal(err)
	}

	ws, _ := nh.Workspaces.Create(ctx, nahook.WorkspaceInput{Name: "Shop"})
	env, _ := nh.Environments.Default(ctx, ws.ID)
	et, _ := nh.EventTypes.Create(ctx, ws.ID, nahook.EventTypeInput{Name: "order.created"})
	nh.EventTypes.SetPublished(ctx, ws.ID, env.ID, et.ID, true)
	nh.Endpoints.Create(ctx, ws.ID, nahook.EndpointInput{URL: "https://acme.example/hook", EventTypes: []string{"order.*"}})
	for range 3 {
		nh.Events.Send(ctx, nahook.Message{WorkspaceID: ws.ID, EventType: "order.created", Payload: []byte(`{}`)})
	}
	kit.Flush(ctx)

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(ctx, &rm); err != nil {
		log.Fatal(err)
	}
	for _, m := range rm.ScopeMetrics[0].Metrics {
		switch d := m.Data.(type) {
		case metricdata.Sum[int64]:
			fmt.Println(m.Name, d.DataPoints[0].Value)
		case metricdata.Gauge[int64]:
			if m.Name == "nahook.queue.pending" {
				fmt.Println(m.Name, d.DataPoints[0].Value)
			}
		}
	}
	// Output:
	// nahook.ingest.events 3
	// nahook.ingest.deliveries 3
	// nahook.attempts 3
	// nahook.queue.pending 0
}
