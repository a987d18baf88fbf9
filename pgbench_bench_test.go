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
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

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
			sh := pgShop(b, 1)
			check(sh.nh.Router.Load(context.Background()))

			b.ResetTimer()
			rate := ingestFrom(b, sh.nh, sh.key, clients)
			b.StopTimer()

			tps, _ := pgbench(b, sh.schema, pgbenchIngest, clients, max(b.N/clients, 1),
				map[string]string{"ws": string(sh.ws), "env": string(sh.env), "ep": sh.endpoints[0]})
			b.ReportMetric(rate, "events/s")
			b.ReportMetric(tps, "pgbench-tps")
			b.ReportMetric(rate/tps, "ratio")
		})
	}
}

// benchShop is a workspace in a Postgres schema of its own, for
// benchmarks that run pgbench beside nahook.
type benchShop struct {
	schema    string // the schema's URL
	nh        *nahook.Client
	ws        nahook.WorkspaceID
	key       string // an API key of the workspace's
	env       nahook.EnvironmentID
	endpoints []string // subscribed to order.created
}

// pgShop opens a store in a schema of its own, with a workspace with
// endpoints endpoints; both are closed when b ends.
func pgShop(b *testing.B, endpoints int) benchShop {
	ctx := context.Background()
	sh := benchShop{schema: pgtest.Schema(b)}
	st := must(postgres.Open(ctx, sh.schema))
	b.Cleanup(func() { st.Close() })
	sh.nh = must(nahook.New(st, nahook.Config{Logger: quiet}))
	b.Cleanup(func() { sh.nh.Close() })
	sh.ws, sh.key = shop(sh.nh, "Bench")
	sh.env = must(sh.nh.Environments.Default(ctx, sh.ws)).ID
	for range endpoints {
		ep := must(sh.nh.Endpoints.Create(ctx, sh.ws, nahook.EndpointInput{URL: "https://example.com/hook", EventTypes: []string{"order.created"}}))
		sh.endpoints = append(sh.endpoints, string(ep.ID))
	}
	return sh
}

// pgbench runs script (pgbench's script language) with clients clients,
// each making transactions transactions, in the schema schemaURL's
// search_path names, and returns its tps and the CPU time pgbench itself
// took.
func pgbench(b *testing.B, schemaURL, script string, clients, transactions int, vars map[string]string) (float64, time.Duration) {
	b.Helper()
	u := must(url.Parse(schemaURL))
	q := u.Query()
	schema := q.Get("search_path")
	q.Del("search_path")
	u.RawQuery = q.Encode()
	file := filepath.Join(b.TempDir(), "script.sql")
	check(os.WriteFile(file, []byte(script), 0o600))
	args := []string{"-n", "-M", "prepared", "-c", strconv.Itoa(clients), "-j", strconv.Itoa(min(clients, 4)),
		"-t", strconv.Itoa(transactions), "-f", file}
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
	return must(strconv.ParseFloat(string(m[1]), 64)), cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
}

// deliveryLease is the write of a claim as a pgbench script: claimSQL's
// update, of a batch of 15 deliveries (:a picks which), one batch per
// transaction.
const deliveryLease = `\set a random(0, :batches - 1)
UPDATE deliveries d SET next_attempt_at = now() + interval '65 s', leased_until = now() + interval '65 s'
FROM (SELECT 'dlv_' || lpad((:a * 15 + g)::text, 10, '0') AS id FROM generate_series(0, 14) g) r
WHERE d.id = r.id;
`

// deliveryRecord is the write of a recording as a pgbench script:
// recordRoundSQL's update and insert, for a batch of 15 deliveries, one
// batch per transaction.
const deliveryRecord = `\set a random(0, :batches - 1)
WITH r AS (
	SELECT 'dlv_' || lpad((:a * 15 + g)::text, 10, '0') AS id FROM generate_series(0, 14) g
), d AS (
	UPDATE deliveries SET attempts = deliveries.attempts + 1, status = 'succeeded', last_attempt_at = now(),
		last_status_code = 204, updated_at = now(), leased_until = NULL
	FROM r WHERE deliveries.id = r.id
	RETURNING deliveries.id, deliveries.attempts
)
INSERT INTO delivery_attempts (delivery_id, number, attempted_at, duration_ms, status_code, response)
SELECT d.id, d.attempts, now(), 1, 204, '' FROM d;
`

// BenchmarkDeliveryWrites measures, with pgbench, what the two writes
// every delivery needs cost Postgres in CPU on their own: its lease (a
// claim's update) and its record (the attempt's row, the delivery's new
// state), each batched 15 deliveries to a commit as a busy dispatcher
// batches them, from 4 clients. It is a floor under the store's share of
// BenchmarkDelivery: no query to find what is due, read the payloads or
// count leases, no health, no driver. The CPU is the machine's busy time
// (/proc/stat) during each run, less pgbench's own: run it on an
// otherwise idle machine. b.N is the deliveries in the table, and the
// rows each run writes.
//
//	go test -run '^$' -bench DeliveryWrites -benchtime 300000x .
func BenchmarkDeliveryWrites(b *testing.B) {
	if _, err := exec.LookPath("pgbench"); err != nil {
		b.Skip("pgbench is not on the PATH")
	}
	if _, err := busyTime(); err != nil {
		b.Skipf("no machine busy time: %v", err)
	}
	const batch, clients = 15, 4
	ctx := context.Background()
	sh := pgShop(b, 10)
	batches := max(b.N/batch, 1)
	n := batches * batch
	conn := must(pgx.Connect(ctx, sh.schema))
	defer conn.Close(ctx)
	// Ten deliveries an event, one to each endpoint, all pending.
	must(conn.Exec(ctx, `INSERT INTO events (id, workspace_id, environment_id, event_type, payload, created_at)
		SELECT 'msg_' || lpad(g::text, 10, '0'), $1, $2, 'order.created', '{"orderId":"ord_1"}', now()
		FROM generate_series(0, ($3 - 1) / 10) g`, sh.ws, sh.env, n))
	must(conn.Exec(ctx, `INSERT INTO deliveries (id, workspace_id, event_id, endpoint_id, status, next_attempt_at, created_at, updated_at)
		SELECT 'dlv_' || lpad(g::text, 10, '0'), $1, 'msg_' || lpad((g / 10)::text, 10, '0'), ($2::text[])[g % 10 + 1], 'pending', now(), now(), now()
		FROM generate_series(0, $3 - 1) g`, sh.ws, sh.endpoints, n))
	must(conn.Exec(ctx, `VACUUM ANALYZE deliveries`))

	b.ResetTimer()
	var total float64
	for _, w := range []struct{ name, script string }{{"lease", deliveryLease}, {"record", deliveryRecord}} {
		before := must(busyTime())
		tps, own := pgbench(b, sh.schema, w.script, clients, max(batches/clients, 1), map[string]string{"batches": strconv.Itoa(batches)})
		busy := must(busyTime()) - before - own
		rows := float64(max(batches/clients, 1) * clients * batch)
		perRow := float64(busy.Microseconds()) / rows
		total += perRow
		b.ReportMetric(tps*batch, w.name+"-deliveries/s")
		b.ReportMetric(perRow, w.name+"-pg-us/delivery")
	}
	b.ReportMetric(total, "pg-us/delivery")
}

// busyTime is the CPU time the machine has spent busy, every core, since
// it started: /proc/stat's user, nice, system, irq and softirq.
func busyTime() (time.Duration, error) {
	stat, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, err
	}
	line, _, _ := strings.Cut(string(stat), "\n")
	f := strings.Fields(line)
	if len(f) < 8 || f[0] != "cpu" {
		return 0, fmt.Errorf("/proc/stat begins %q", line)
	}
	var ticks int64
	for _, i := range []int{1, 2, 3, 6, 7} {
		n, err := strconv.ParseInt(f[i], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/stat: %w", err)
		}
		ticks += n
	}
	// USER_HZ, which Linux fixes at 100 for /proc/stat.
	return time.Duration(ticks) * 10 * time.Millisecond, nil
}
