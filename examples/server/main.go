// Command server runs nahook's HTTP API on an embedded SQLite database, or
// on Postgres: the management API, a dashboard API and ingestion, with the
// paths and JSON shapes of the hosted service's documentation; and it
// delivers the events it ingests, signed, with retries. It serves the
// developer portal's page at /portal/, the dashboard's at /dashboard/, and
// its metrics, for Prometheus, at /metrics.
//
//	go run ./examples/server                           # :8080, ./nahook.db
//	go run ./examples/server -db 'postgres://user@localhost/app?search_path=nahook'
//
// On its first start on an empty database it creates a workspace, a
// management key and a dashboard token, and prints them once as lines a
// shell can source, with a link that signs in to the dashboard. Later
// starts print nothing secret.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/nahook/nahook"
	"github.com/nahook/nahook/examples/internal/opendb"
	"github.com/nahook/nahook/httpapi"
	"github.com/nahook/nahook/nahookotel"
)

// dashboardKeyName names the management key the example's dashboard
// routes accept as a session. A real host program checks its own sessions
// instead.
const dashboardKeyName = "dashboard"

func main() {
	var cfg config
	flag.StringVar(&cfg.addr, "addr", env("NAHOOK_ADDR", ":8080"), "listen address (env NAHOOK_ADDR)")
	flag.StringVar(&cfg.db, "db", env("NAHOOK_DB", "nahook.db"), "SQLite file or postgres:// URL (env NAHOOK_DB)")
	allowPrivate, err := envBool("NAHOOK_ALLOW_PRIVATE_URLS")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	flag.BoolVar(&cfg.allowPrivate, "allow-private-urls", allowPrivate,
		"accept endpoint URLs on loopback and private addresses, for local testing (env NAHOOK_ALLOW_PRIVATE_URLS)")
	timeout, err := envDuration("NAHOOK_DELIVERY_TIMEOUT", 15*time.Second)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	flag.DurationVar(&cfg.deliveryTimeout, "delivery-timeout", timeout, "how long one delivery attempt may take (env NAHOOK_DELIVERY_TIMEOUT)")
	flag.StringVar(&cfg.portalURL, "portal-url", env("NAHOOK_PORTAL_URL", ""),
		"the developer portal's address as customers' browsers reach it; its path is where it is served (env NAHOOK_PORTAL_URL; default http://localhost:PORT/portal/)")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := run(ctx, stop, cfg, os.Stdout, log); err != nil {
		log.Error("server stopped", "err", err)
		os.Exit(1)
	}
}

type config struct {
	addr            string
	db              string
	allowPrivate    bool
	deliveryTimeout time.Duration
	portalURL       string // empty: on this server, at /portal/
}

// run serves until ctx ends, then shuts down gracefully; stop restores the
// signals' default, so that a second Ctrl-C ends a slow shutdown at once.
// Secrets made on first start go to out; everything else is logged.
func run(ctx context.Context, stop func(), cfg config, out io.Writer, log *slog.Logger) error {
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	portalURL, portalPath, err := portalAddress(cfg.portalURL, ln.Addr())
	if err != nil {
		return err
	}
	dashboardURL := origin(ln.Addr()) + dashboardPath
	st, err := opendb.Open(ctx, cfg.db)
	if err != nil {
		return fmt.Errorf("open %s: %w", redact(cfg.db), err)
	}
	defer st.Close()
	// Metrics: nahook reports to OpenTelemetry, and OpenTelemetry's
	// Prometheus exporter serves them at /metrics.
	registry := prometheus.NewRegistry()
	exporter, err := otelprom.New(otelprom.WithRegisterer(registry))
	if err != nil {
		return err
	}
	tel, err := nahookotel.New(nahookotel.Options{MeterProvider: sdkmetric.NewMeterProvider(sdkmetric.WithReader(exporter))})
	if err != nil {
		return err
	}
	nh, err := nahook.New(st, nahook.Config{
		Observer:         tel.Observer(),
		AllowPrivateURLs: cfg.allowPrivate,
		Logger:           log,
		Delivery:         nahook.DeliveryConfig{Timeout: cfg.deliveryTimeout},
		PortalURL:        portalURL,
		// An endpoint disabled, failing or recovered, a delivery given up:
		// the log is this server's way of telling its operator. A host
		// would tell the customer (see the README).
		OnOperationalEvent: func(ctx context.Context, ev nahook.OperationalEvent) error {
			log.LogAttrs(ctx, slog.LevelWarn, "nahook: operational event", operationalAttrs(ev)...)
			return nil
		},
	})
	if err != nil {
		return err
	}
	defer nh.Close()
	if err := bootstrap(ctx, nh, out, dashboardURL); err != nil {
		return err
	}
	if err := nh.Router.Load(ctx); err != nil {
		return err
	}
	gauges, err := tel.ObserveStats(nh)
	if err != nil {
		return err
	}
	defer gauges.Unregister()

	api, err := httpapi.New(httpapi.Config{Client: nh, Dashboard: dashboardCheck(nh), Logger: log})
	if err != nil {
		return err
	}
	// The portal page's files; everything else, the portal API under
	// /portal/v1 included, is the API's.
	mux := http.NewServeMux()
	page := httpapi.PortalPage("")
	for _, name := range []string{"{$}", "common.js", "portal.js", "portal.css"} {
		mux.Handle("GET "+portalPath+name, page)
	}
	if root := strings.TrimSuffix(portalPath, "/"); root != "" {
		mux.Handle("GET "+root, http.RedirectHandler(portalPath, http.StatusMovedPermanently))
	}
	// The dashboard's page; its API is the dashboard routes, which
	// dashboardCheck guards.
	dashboard := httpapi.DashboardPage("")
	for _, name := range []string{"{$}", "common.js", "dashboard.js", "dashboard.css", "base.css"} {
		mux.Handle("GET "+dashboardPath+name, dashboard)
	}
	mux.Handle("GET "+strings.TrimSuffix(dashboardPath, "/"), http.RedirectHandler(dashboardPath, http.StatusMovedPermanently))
	// Aggregate figures only, no customer's name or ID; still, a host
	// would serve them where only its scraper reaches.
	mux.Handle("GET /metrics", promhttp.HandlerFor(registry, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}))
	mux.Handle("/", api)
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	// Deliveries are sent from this process, for as long as it serves.
	deliverCtx, stopDelivering := context.WithCancel(context.Background())
	defer stopDelivering()
	delivered := make(chan error, 1)
	go func() { delivered <- nh.Deliver(deliverCtx) }()

	log.Info("listening", "url", "http://"+ln.Addr().String(), "portal", portalURL, "dashboard", dashboardURL, "db", redact(cfg.db), "allowPrivateURLs", cfg.allowPrivate)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	stop()
	log.Info("shutting down: finishing requests and deliveries in flight (Ctrl-C again to quit at once)")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return err
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	// Requests are done, so nothing more is ingested: let the attempts in
	// flight finish and be recorded. What is still pending is sent by the
	// next start.
	stopDelivering()
	return <-delivered
}

// portalAddress returns the portal page's URL and the path the server
// serves it at: raw when given, else this server's /portal/. A path that
// does not end in "/" gets one, so that the page's assets resolve beside
// it.
func portalAddress(raw string, addr net.Addr) (string, string, error) {
	if raw == "" {
		raw = origin(addr) + "/portal/"
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Fragment != "" || u.RawQuery != "" {
		return "", "", fmt.Errorf("-portal-url %q: want an absolute http(s) URL without query or fragment, such as https://example.com/portal/", raw)
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	if strings.HasPrefix(u.Path, "/portal/v1/") || strings.HasPrefix(u.Path, "/api/") || strings.HasPrefix(u.Path, "/management/") {
		return "", "", fmt.Errorf("-portal-url %q: its path is taken by the API", raw)
	}
	return u.String(), u.EscapedPath(), nil
}

// dashboardPath is where the server serves the dashboard page.
const dashboardPath = "/dashboard/"

// origin is this server's address as a browser on the same machine
// reaches it: http://localhost:PORT when it listens on every interface.
func origin(addr net.Addr) string {
	host := "localhost"
	if tcp, ok := addr.(*net.TCPAddr); ok && !tcp.IP.IsUnspecified() {
		host = tcp.IP.String()
	}
	_, port, _ := net.SplitHostPort(addr.String())
	return "http://" + net.JoinHostPort(host, port)
}

// bootstrap gives an empty database a workspace, a management key and a
// dashboard token, and prints them once, with the link that signs in to
// the dashboard at dashboardURL. A first start that stopped
// between making the workspace and printing its keys (a crash, a full
// disk) is finished by the next: keys are issued while the first workspace
// has none. Start the first process alone; two starting at once on an
// empty database would each make a workspace.
func bootstrap(ctx context.Context, nh *nahook.Client, out io.Writer, dashboardURL string) error {
	page, err := nh.Workspaces.List(ctx, nahook.ListOptions{Limit: 1})
	if err != nil {
		return err
	}
	var ws nahook.Workspace
	if len(page.Items) > 0 {
		ws = page.Items[0]
		keys, err := nh.APIKeys.List(ctx, ws.ID, nahook.APIKeyFilter{Kind: nahook.KeyKindManagement}, nahook.ListOptions{Limit: 1})
		if err != nil || len(keys.Items) > 0 {
			return err // set up already: nothing to print
		}
	} else if ws, err = nh.Workspaces.Create(ctx, nahook.WorkspaceInput{Name: "Default workspace"}); err != nil {
		return err
	}
	mgmt, err := nh.APIKeys.CreateManagement(ctx, ws.ID, "management")
	if err != nil {
		return err
	}
	dash, err := nh.APIKeys.CreateManagement(ctx, ws.ID, dashboardKeyName)
	if err != nil {
		return err
	}
	// The sign-in link carries both in its fragment, which the browser
	// sends to no server. It is quoted, for its "&", so that a shell can
	// still source the lines.
	signIn := dashboardURL + "#workspace=" + url.QueryEscape(string(ws.ID)) + "&token=" + url.QueryEscape(dash.Plaintext)
	_, err = fmt.Fprintf(out, "# nahook: first start. These are shown once; keep them.\nNAHOOK_WORKSPACE_ID=%s\nNAHOOK_MANAGEMENT_KEY=%s\nNAHOOK_DASHBOARD_TOKEN=%s\nNAHOOK_DASHBOARD_URL='%s'\n",
		ws.ID, mgmt.Plaintext, dash.Plaintext, signIn)
	return err
}

// dashboardCheck is the example's stand-in for a host program's session
// check: the bearer token must be the workspace's dashboard key. Being a
// management key, it works on the management API too; here that grants
// nothing more, since the dashboard routes are the management routes. A
// real host program checks its own sessions instead.
func dashboardCheck(nh *nahook.Client) func(*http.Request, nahook.WorkspaceID) error {
	return func(r *http.Request, ws nahook.WorkspaceID) error {
		scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		if !strings.EqualFold(scheme, "Bearer") {
			return nahook.ErrUnauthorized
		}
		k, err := nh.APIKeys.Authenticate(r.Context(), strings.TrimSpace(token))
		switch {
		case err != nil:
			return err
		case k.Kind != nahook.KeyKindManagement || k.Name != dashboardKeyName:
			return nahook.ErrUnauthorized
		case k.WorkspaceID != ws:
			return nahook.ErrNotFound
		}
		return nil
	}
}

// redact hides the password of a database URL in logs.
func redact(db string) string {
	if !opendb.IsPostgres(db) {
		return db
	}
	if u, err := url.Parse(db); err == nil {
		return u.Redacted()
	}
	return "postgres://…"
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func envDuration(name string, def time.Duration) (time.Duration, error) {
	v := os.Getenv(name)
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%s=%q: want a duration such as 15s", name, v)
	}
	return d, nil
}

func envBool(name string) (bool, error) {
	v := os.Getenv(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("%s=%q: want true or false", name, v)
	}
	return b, nil
}

// operationalAttrs are an operational event's fields worth a log line:
// those it has.
func operationalAttrs(ev nahook.OperationalEvent) []slog.Attr {
	attrs := []slog.Attr{slog.String("type", string(ev.Type)), slog.String("id", string(ev.ID)),
		slog.String("workspace", string(ev.WorkspaceID)), slog.String("endpoint", string(ev.EndpointID)),
		slog.Time("at", ev.At), slog.Int("failures", ev.Failures)}
	if ev.ApplicationID != "" {
		attrs = append(attrs, slog.String("application", string(ev.ApplicationID)))
	}
	if ev.DeliveryID != "" {
		attrs = append(attrs, slog.String("delivery", string(ev.DeliveryID)), slog.String("event", string(ev.EventID)))
	}
	if !ev.FailingSince.IsZero() {
		attrs = append(attrs, slog.Time("failingSince", ev.FailingSince))
	}
	return attrs
}
