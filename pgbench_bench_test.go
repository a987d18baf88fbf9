package nahook_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/nahook/nahook"
	"github.com/nahook/nahook/internal/pgtest"
	"github.com/nahook/nahook/store/postgres"
)

// pgbenchIngest is nahook's ingest statement (an event and its delivery
// in one statement, which notifies dispatchers) as a pgbench script: one
// statement per transaction, the yardstick an ingest is measured against.
const pgbenchIngest = `WITH e AS (
	INSERT INTO events (id, workspace_id, environment_id, event_type, payload, idempotency_key, created_at, endpoint_id, application_id, broadcast)
	VALUES ('msg_' || gen_random_uuid(), :ws, :env, 'order.created', '{"orderId":"ord_1","total":4200}', gen_random_uuid()::text, now(), NULL, NULL, false)
	ON CONFLICT (environment_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
	RETURNING id
), d AS (
	INSERT INTO deliveries (id, workspace_id, event_id, endpoint_id, status, next_attempt_at, created_at, updated_at)
	SELECT 'dlv_' || gen_random_uuid(), ep.workspace_id, e.id, ep.id, 'pending', now(), now(), now()
	FROM e JOIN endpoints ep ON ep.workspace_id = :ws AND ep.id = :ep
	RETURNING id, endpoint_id
)
SELECT e.id, d.id, d.endpoint_id, CASE WHEN d.id IS NOT NULL THEN pg_notify('nahook_deliveries', current_schema())::text END
FROM e LEFT JOIN d ON true;
`

// BenchmarkIngestVsPgbench measures, on Postgres, in one run and one
// schema, nahook's Events.Ingest (no dispatcher) from 1, 8 and 32
// goroutines, and pgbench running nahook's ingest statement, one per
// transaction, with as many clients: events/s, tps, and their ratio. It
// needs pgbench on the PATH.
//
//	go test -run '^$' -bench IngestVsPgbench -benchtime 6000x .
func BenchmarkIngestVsPgbench(b *testing.B) {
	if _, err := exec.LookPath("pgbench"); err != nil {
		b.Skip("pgbench is not on the PATH")
	}
	for _, clients := range []int{1, 8, 32} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			ctx := context.Background()
			schema := pgtest.Schema(b)
			st := must(postgres.Open(ctx, schema))
			defer st.Close()
			nh := must(nahook.New(st, nahook.Config{Logger: quiet}))
			defer nh.Close()
			ws, key := shop(nh, "Bench")
			ep := must(nh.Endpoints.Create(ctx, ws, nahook.EndpointInput{URL: "https://example.com/hook", EventTypes: []string{"order.created"}}))
			env := must(nh.Environments.Default(ctx, ws))
			check(nh.Router.Load(ctx))

			b.ResetTimer()
			rate := ingestFrom(b, nh, key, clients)
			b.StopTimer()

			tps := pgbench(b, schema, clients, max(b.N/clients, 1), map[string]string{"ws": string(ws), "env": string(env.ID), "ep": string(ep.ID)})
			b.ReportMetric(rate, "events/s")
			b.ReportMetric(tps, "pgbench-tps")
			b.ReportMetric(rate/tps, "ratio")
		})
	}
}

// pgbench runs pgbenchIngest with clients clients, each making
// transactions transactions, in the schema schemaURL's search_path names,
// and returns its tps.
func pgbench(b *testing.B, schemaURL string, clients, transactions int, vars map[string]string) float64 {
	b.Helper()
	u := must(url.Parse(schemaURL))
	q := u.Query()
	schema := q.Get("search_path")
	q.Del("search_path")
	u.RawQuery = q.Encode()
	script := filepath.Join(b.TempDir(), "ingest.sql")
	check(os.WriteFile(script, []byte(pgbenchIngest), 0o600))
	args := []string{"-n", "-M", "prepared", "-c", strconv.Itoa(clients), "-j", strconv.Itoa(min(clients, 4)),
		"-t", strconv.Itoa(transactions), "-f", script}
	for k, v := range vars {
		args = append(args, "-D", k+"="+v)
	}
	cmd := exec.Command("pgbench", append(args, u.String())...)
	cmd.Env = append(os.Environ(), "PGOPTIONS=-c search_path="+schema)
	out, err := cmd.CombinedOutput()
	if err != nil {
		b.Fatalf("pgbench: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`tps = ([0-9.]+) \(without initial connection time\)`).FindSubmatch(out)
	if m == nil {
		b.Fatalf("pgbench printed no tps:\n%s", out)
	}
	return must(strconv.ParseFloat(string(m[1]), 64))
}
