package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/matryer/is"
)

// chromium finds a Chromium to drive: $NAHOOK_CHROMIUM, or one on the
// PATH. Without one the browser test is skipped, except in CI, where
// .ci/run installs Debian's chromium and a skip would hide a failure.
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("NAHOOK_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("no Chromium found (chromium, chromium-browser, google-chrome or $NAHOOK_CHROMIUM); .ci/run installs Debian's chromium")
	}
	t.Skip("no Chromium found; install Debian's chromium (or set NAHOOK_CHROMIUM) to run the portal page's browser test")
	return ""
}

// artifactDir is where tests leave files for people to look at:
// $NAHOOK_ARTIFACTS, or nahook-artifacts in the temporary directory.
func artifactDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("NAHOOK_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "nahook-artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// portal is a server whose workspace publishes order.created and
// invoice.paid in its Production environment, with the application Acme
// Corp and a portal session for it.
type portal struct {
	s     *server
	mgmt  string // the management key
	ws    string // the workspace's management path
	env   string // Production's ID
	appID string
	url   string // the session's URL: the page, with its token
}

func newPortal(t *testing.T, s *server) *portal {
	t.Helper()
	is := is.New(t)
	p := &portal{s: s, mgmt: s.secrets["NAHOOK_MANAGEMENT_KEY"], ws: "/management/v1/workspaces/" + s.secrets["NAHOOK_WORKSPACE_ID"]}
	_, envs := s.call("GET", p.ws+"/environments", p.mgmt, "")
	p.env = field(field(envs, "data").([]any)[0], "id").(string)
	for _, name := range []string{"order.created", "invoice.paid"} {
		code, et := s.call("POST", p.ws+"/event-types", p.mgmt, `{"name": "`+name+`", "description": "When it happens"}`)
		is.Equal(code, 201)
		code, _ = s.call("PUT", p.ws+"/environments/"+p.env+"/event-types/"+field(et, "id").(string)+"/visibility", p.mgmt, `{"published": true}`)
		is.Equal(code, 200)
	}
	code, app := s.call("POST", p.ws+"/applications", p.mgmt, `{"name": "Acme Corp", "externalId": "cust_123"}`)
	is.Equal(code, 201)
	p.appID = field(app, "id").(string)
	code, session := s.call("POST", p.ws+"/portal-sessions", p.mgmt, `{"applicationId": "`+p.appID+`"}`)
	is.Equal(code, 201)
	p.url = field(session, "url").(string)
	is.True(strings.HasPrefix(p.url, s.url+"/portal/#token=nhp_")) // the server's own portal page
	return p
}

// browser is a tab of headless Chromium (exe), for pages of s.
type browser struct {
	t   *testing.T
	ctx context.Context
	s   *server
}

func newBrowser(t *testing.T, exe string, s *server) *browser {
	t.Helper()
	ctx, cancel := chromedp.NewExecAllocator(t.Context(), append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.NoSandbox, // CI runs as root, where Chromium's sandbox will not start
		chromedp.DisableGPU,
		chromedp.WindowSize(1100, 900),
	)...)
	t.Cleanup(cancel)
	ctx, cancel = chromedp.NewContext(ctx, chromedp.WithErrorf(t.Logf))
	t.Cleanup(cancel)
	ctx, cancel = context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(cancel)
	return &browser{t: t, ctx: ctx, s: s}
}

// do runs steps, failing the test with the server's log if one fails.
func (b *browser) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.t.Fatalf("%s: %v\nserver log:\n%s", what, err, b.s.stderr)
	}
}

// read returns the text of the first element sel matches.
func (b *browser) read(sel string) string {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("reading %s: %v", sel, err)
	}
	return v
}

// eval returns the value of a JavaScript expression in the page.
func eval[T any](b *browser, expr string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.t.Fatalf("evaluating %s: %v", expr, err)
	}
	return v
}

// until waits for a JavaScript condition to hold in the page.
func until(cond string) chromedp.Action[chromedp.Void] {
	return chromedp.Poll[chromedp.Void](cond, chromedp.WithPollingTimeout(60*time.Second))
}

// query and queryAll are JavaScript expressions for the element(s) sel
// matches.
func query(sel string) string    { return "document.querySelector(" + strconv.Quote(sel) + ")" }
func queryAll(sel string) string { return "document.querySelectorAll(" + strconv.Quote(sel) + ")" }

// screenshot saves the whole page as name in artifactDir.
func (b *browser) screenshot(name, what string) {
	b.t.Helper()
	shot, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100) /* 100: PNG */)
	if err != nil {
		b.t.Fatalf("screenshot: %v", err)
	}
	path := filepath.Join(artifactDir(b.t), name)
	if err := os.WriteFile(path, shot, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot of %s: %s", what, path)
}

// TestPortalPageInBrowser drives the portal page in headless Chromium as
// a customer would: open the session's URL, try an endpoint URL the API
// refuses and see why next to the field, add an endpoint subscribed to an
// event type, see it listed (and stored for the right application),
// disable it, reveal its secret and its (empty) deliveries, take a
// screenshot, then delete it and see it gone.
func TestPortalPageInBrowser(t *testing.T) {
	is := is.New(t)
	exe := chromium(t)
	s := start(t, filepath.Join(t.TempDir(), "nahook.db"), true, false)
	p := newPortal(t, s)
	b := newBrowser(t, exe, s)
	do, read := b.do, b.read
	mgmt, w, env, appID, portalURL := p.mgmt, p.ws, p.env, p.appID, p.url
	ctx := b.ctx

	const (
		endpointURL = "https://acme.example/webhooks"
		firstCard   = "#endpoints li:first-child"
	)

	do("opening the portal URL",
		chromedp.Navigate(portalURL),
		chromedp.WaitVisible(chromedp.CSS("#empty")))
	scope := read("#scope")
	is.True(strings.Contains(scope, "Acme Corp"))  // whose endpoints these are
	is.True(strings.Contains(scope, "Production")) // and in which environment
	location, err := chromedp.Run(ctx, chromedp.Location())
	is.NoErr(err)
	is.True(!strings.Contains(location, "nhp_")) // the token left the address bar

	do("submitting a URL the API refuses",
		chromedp.Click(chromedp.CSS("#add")),
		chromedp.WaitVisible(chromedp.CSS("#editor")),
		chromedp.SendKeys(chromedp.CSS("#url"), "ftp://acme.example/webhooks"),
		chromedp.Click(chromedp.CSS("#save")),
		chromedp.WaitVisible(chromedp.CSS("#url-error")))
	is.True(strings.Contains(read("#url-error"), "https://")) // the API's own message, beside the field
	invalid, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS("#url"), "aria-invalid"))
	is.NoErr(err)
	is.Equal(invalid.Value, "true") // and the field marked invalid for assistive technology

	// Select what was typed and type over it, as a person would.
	_, err = chromedp.Run(ctx, chromedp.Evaluate[bool](`(document.getElementById("url").select(), true)`))
	is.NoErr(err)
	do("adding an endpoint",
		chromedp.SendKeys(chromedp.CSS("#url"), endpointURL),
		chromedp.SendKeys(chromedp.CSS("#description"), "Order notifications"),
		chromedp.Click(chromedp.CSS(`#event-types input[value="order.created"]`)),
		chromedp.Click(chromedp.CSS("#save")),
		chromedp.WaitVisible(chromedp.CSS(firstCard+" .endpoint-url")),
		chromedp.WaitNotVisible(chromedp.CSS("#editor")))
	do("reading its health", until(query(firstCard+" .health-day")+`.textContent !== ""`))
	is.Equal(read(firstCard+" .health-hour"), "No attempts in the last hour") // nothing sent to it yet
	is.Equal(read(firstCard+" .health-day"), "No attempts in the last 24 hours")
	is.Equal(read(firstCard+" .endpoint-url"), endpointURL)                 // listed
	is.Equal(read(firstCard+" .endpoint-types"), "Receives: order.created") // with its subscription
	is.True(strings.Contains(read("#notice"), "added"))                     // and said so
	do("disabling it",
		chromedp.Click(chromedp.CSS(firstCard+` [data-action="toggle"]`)),
		chromedp.WaitVisible(chromedp.CSS(firstCard+" .status.off")))
	focused, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.activeElement.textContent`))
	is.NoErr(err)
	is.Equal(focused, "Enable") // focus stays on the button pressed, though the list was drawn again
	do("reading its secret and deliveries",
		chromedp.Click(chromedp.CSS(firstCard+` [data-action="secret"]`)),
		chromedp.WaitVisible(chromedp.CSS(firstCard+" .secret code")),
		chromedp.Click(chromedp.CSS(firstCard+` [data-action="deliveries"]`)),
		chromedp.WaitVisible(chromedp.CSS(firstCard+" .deliveries p")))
	is.Equal(read(firstCard+" .status"), "Disabled")
	is.True(strings.HasPrefix(read(firstCard+" .secret code"), "whsec_"))
	is.Equal(read(firstCard+" .deliveries p"), "No deliveries yet.")
	b.screenshot("portal-page.png", "the portal page with one endpoint")

	// Stored where it belongs: the session's application and environment.
	_, eps := s.call("GET", w+"/applications/"+appID+"/endpoints", mgmt, "")
	list := field(eps, "data").([]any)
	is.Equal(len(list), 1)
	is.Equal(field(list[0], "url"), endpointURL)
	is.Equal(field(list[0], "description"), "Order notifications")
	is.Equal(field(list[0], "environmentId"), env)
	is.Equal(fmt.Sprint(field(list[0], "eventTypes")), "[order.created]")

	do("deleting the endpoint",
		chromedp.Click(chromedp.CSS(firstCard+` [data-action="delete"]`)),
		chromedp.WaitVisible(chromedp.CSS(firstCard+" .confirm")),
		chromedp.Click(chromedp.CSS(firstCard+` [data-action="confirm-delete"]`)),
		chromedp.WaitVisible(chromedp.CSS("#empty")),
		chromedp.WaitNotPresent(chromedp.CSS(firstCard)))
	notice := read("#notice")
	is.True(strings.Contains(notice, "deleted"))
	_, eps = s.call("GET", w+"/applications/"+appID+"/endpoints", mgmt, "")
	is.Equal(len(field(eps, "data").([]any)), 0) // gone from the store too
}

// refusingReceiver answers every webhook 400 with an HTML body, which the
// page must show as text, and records the webhook-id of each.
type refusingReceiver struct {
	srv *httptest.Server
	mu  sync.Mutex
	ids []string
}

// refusal is what the receiver answers: markup that, run as HTML, would
// put an element with the ID injected in the page.
const refusal = `<img id="injected" src="x"> unknown order`

func newRefusingReceiver(t *testing.T) *refusingReceiver {
	rc := &refusingReceiver{}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc.mu.Lock()
		rc.ids = append(rc.ids, r.Header.Get("webhook-id"))
		rc.mu.Unlock()
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadRequest) // not retried: the delivery fails at once
		io.WriteString(w, refusal)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *refusingReceiver) received() []string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return slices.Clone(rc.ids)
}

// TestPortalPageRecovery drives the portal page's recovery in headless
// Chromium. An endpoint refuses a delivery; the customer opens the
// delivery's attempts (from the keyboard) and sees the answer as text,
// resends it, recovers the endpoint's failed deliveries (after a since
// the API refuses, shown under the field), replays the event sent before
// the endpoint existed, is told to enable the endpoint first once it is
// disabled, and rotates the signing secret. Screenshots:
// portal-delivery-attempts.png and portal-recovery.png.
func TestPortalPageRecovery(t *testing.T) {
	is := is.New(t)
	exe := chromium(t)
	rc := newRefusingReceiver(t)
	s := start(t, filepath.Join(t.TempDir(), "nahook.db"), true, true) // private URLs allowed: the receiver is on loopback
	p := newPortal(t, s)
	_, key := s.call("POST", p.ws+"/api-keys", p.mgmt, `{"name": "test"}`)
	ingest := func() map[string]any {
		t.Helper()
		code, accepted := s.call("POST", "/api/ingest/event/order.created?applicationId="+p.appID, field(key, "key").(string), `{"orderId": "ord_1"}`)
		is.Equal(code, http.StatusAccepted)
		return accepted.(map[string]any)
	}
	delivery := func(id string) map[string]any {
		t.Helper()
		code, d := s.call("GET", p.ws+"/deliveries/"+id, p.mgmt, "")
		is.Equal(code, http.StatusOK)
		return d.(map[string]any)
	}

	// An event before the endpoint exists (missed), then one it refuses.
	missed := ingest()
	is.Equal(len(missed["deliveries"].([]any)), 0)
	code, ep := s.call("POST", p.ws+"/applications/"+p.appID+"/endpoints", p.mgmt,
		fmt.Sprintf(`{"url": %q, "eventTypes": ["order.created"]}`, rc.srv.URL+"/webhooks"))
	is.Equal(code, http.StatusCreated)
	epID := field(ep, "id").(string)
	refused := ingest()
	dlvID := field(refused["deliveries"].([]any)[0], "id").(string)
	waitUntil(t, "the delivery to fail", func() bool { return delivery(dlvID)["status"] == "failed" })

	b := newBrowser(t, exe, s)
	card := `#endpoints li[data-id="` + epID + `"]`
	details := card + ` [data-action="details"][data-delivery="` + dlvID + `"]`
	attempts := card + " .delivery-detail .attempts tbody tr"
	b.do("opening the delivery's attempts from the keyboard",
		chromedp.Navigate(p.url),
		chromedp.WaitVisible(chromedp.CSS(card)),
		chromedp.Click(chromedp.CSS(card+` [data-action="deliveries"]`)),
		chromedp.WaitVisible(chromedp.CSS(details)),
		chromedp.Focus(chromedp.CSS(details)),
		chromedp.KeyEvent("\r"),
		chromedp.WaitVisible(chromedp.CSS(attempts)))
	is.Equal(eval[int](b, queryAll(attempts)+`.length`), 1)
	b.do("reading the endpoint's health", until(query(card+" .health-day")+`.textContent !== ""`))
	is.Equal(b.read(card+" .health-hour"), healthLine(t, s, p, epID, "lastHour", "Last hour")) // its one failed attempt
	is.Equal(b.read(card+" .health-day"), healthLine(t, s, p, epID, "lastDay", "Last 24 hours"))
	is.True(strings.HasPrefix(b.read(card+" .health-hour"), "Last hour: 0.0% of 1 attempt succeeded, p50 "))
	is.Equal(b.read(attempts+" td:nth-child(3)"), "HTTP 400")
	is.Equal(b.read(attempts+" pre.response"), refusal)                    // the answer, as text
	is.True(eval[bool](b, `document.getElementById("injected") === null`)) // never as HTML
	is.Equal(eval[string](b, `document.activeElement.tagName`), "H4")      // focus moved to the details
	is.Equal(eval[string](b, query(details)+`.getAttribute("aria-expanded")`), "true")
	is.True(strings.Contains(b.read(card+" .delivery-summary"), "failed"))
	b.screenshot("portal-delivery-attempts.png", "a delivery's attempts")

	b.do("resending it",
		chromedp.Click(chromedp.CSS(card+` .delivery-detail [data-action="resend"]`)),
		until(`document.getElementById("notice").textContent.includes("queued")`))
	is.Equal(eval[string](b, `document.activeElement.dataset.action`), "resend") // focus kept on the button, drawn again
	waitUntil(t, "the resent delivery to fail again", func() bool {
		d := delivery(dlvID)
		return d["status"] == "failed" && d["attemptCount"] == float64(2)
	})
	b.do("reopening its attempts",
		chromedp.Click(chromedp.CSS(details)), // closes
		chromedp.WaitNotPresent(chromedp.CSS(card+" .delivery-detail")),
		chromedp.Click(chromedp.CSS(details)),
		until(queryAll(attempts)+`.length === 2`))
	ids := rc.received()
	is.Equal(len(ids), 2)
	is.Equal(ids[0], ids[1]) // the same webhook-id: the receiver can tell a repeat

	since := card + ` .recover-form input[name="since"]`
	sinceError := card + ` .recover-form .error[data-field="since"]`
	b.do("opening recovery",
		chromedp.Click(chromedp.CSS(card+` [data-action="recovery"]`)),
		chromedp.WaitVisible(chromedp.CSS(since)))
	is.Equal(eval[string](b, `document.activeElement.name`), "since")
	// The default: 24 hours ago, to the minute, in the browser's time.
	is.True(eval[bool](b, `Math.abs(Date.now() - 864e5 - new Date(`+query(since)+`.value)) < 120e3`))
	b.do("recovering since a time before the retention",
		chromedp.SetValue(chromedp.CSS(since), "2000-01-01T00:00"),
		chromedp.Click(chromedp.CSS(card+` .recover-form button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(sinceError)))
	is.True(strings.Contains(b.read(sinceError), "retention"))        // the API's message, under the field it names
	is.Equal(eval[string](b, `document.activeElement.name`), "since") // focused
	is.Equal(eval[string](b, query(since)+`.getAttribute("aria-invalid")`), "true")
	b.do("recovering the last 24 hours",
		chromedp.Click(chromedp.CSS(card+` [data-action="recovery"]`)), // closes; opened again, the default
		chromedp.WaitNotVisible(chromedp.CSS(card+" .recovery")),
		chromedp.Click(chromedp.CSS(card+` [data-action="recovery"]`)),
		chromedp.WaitVisible(chromedp.CSS(since)),
		chromedp.Click(chromedp.CSS(card+` .recover-form button[type="submit"]`)),
		until(query(card+" .recover-form .result")+`.textContent !== ""`))
	is.Equal(b.read(card+" .recover-form .result"), "1 failed delivery queued to be sent again.")
	is.True(eval[bool](b, query(sinceError)+`.hidden`))
	b.do("replaying the event sent before the endpoint existed",
		chromedp.Click(chromedp.CSS(card+` .replay-form button[type="submit"]`)),
		until(query(card+" .replay-form .result")+`.textContent !== ""`))
	is.Equal(b.read(card+" .replay-form .result"), "1 missed event queued to be sent.")
	b.screenshot("portal-recovery.png", "recovery's results")
	waitUntil(t, "the missed event to reach the receiver", func() bool {
		return slices.Contains(rc.received(), missed["eventId"].(string))
	})
	b.do("replaying again",
		chromedp.Click(chromedp.CSS(card+` .replay-form button[type="submit"]`)),
		until(query(card+" .replay-form .result")+`.textContent === "No missed events since then."`))

	code, _ = s.call("PATCH", p.ws+"/endpoints/"+epID, p.mgmt, `{"disabled": true}`)
	is.Equal(code, http.StatusOK)
	formError := card + ` .recover-form .error[data-field=""]`
	b.do("recovering while the endpoint is disabled",
		chromedp.Click(chromedp.CSS(card+` .recover-form button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(formError)))
	is.True(strings.Contains(b.read(formError), "Enable it first")) // under the form: the API names no field
	is.Equal(eval[string](b, `document.activeElement.className`), "error")

	b.do("rotating the signing secret",
		chromedp.Click(chromedp.CSS(card+` [data-action="secret"]`)),
		chromedp.WaitVisible(chromedp.CSS(card+" .secret-key")))
	old := b.read(card + " .secret-key")
	b.do("confirming the rotation",
		chromedp.Click(chromedp.CSS(card+` [data-action="rotate"]`)),
		chromedp.WaitVisible(chromedp.CSS(card+" .rotate-confirm")))
	is.Equal(eval[string](b, `document.activeElement.dataset.action`), "confirm-rotate")
	b.do("rotating",
		chromedp.Click(chromedp.CSS(card+` [data-action="confirm-rotate"]`)),
		chromedp.WaitNotVisible(chromedp.CSS(card+" .rotate-confirm")))
	rotated := b.read(card + " .secret-key")
	is.True(rotated != old)
	_, secret := s.call("GET", p.ws+"/endpoints/"+epID+"/secret", p.mgmt, "")
	is.Equal(field(secret, "key"), rotated) // the page shows the secret now in use
	is.Equal(eval[string](b, `document.activeElement.dataset.action`), "rotate")

	// The attempts since: the first delivery's resend and recovery, and
	// the missed event's. Drawn again, the card counts them all.
	waitUntil(t, "every attempt to be recorded", func() bool {
		_, h := s.call("GET", p.ws+"/endpoints/"+epID+"/health", p.mgmt, "")
		return field(field(h, "lastHour"), "attempts") == float64(4)
	})
	b.do("reloading the page",
		chromedp.Reload(),
		chromedp.WaitVisible(chromedp.CSS(card)),
		until(query(card+" .health-day")+`.textContent !== ""`))
	is.Equal(b.read(card+" .health-hour"), healthLine(t, s, p, epID, "lastHour", "Last hour"))
	is.True(strings.HasPrefix(b.read(card+" .health-hour"), "Last hour: 0.0% of 4 attempts succeeded, p50 "))
	b.screenshot("portal-health.png", "an endpoint's health")
}

// healthLine is the line the portal page should show for one window
// ("lastHour", "lastDay") of the endpoint's health, from the management
// API's figures.
func healthLine(t *testing.T, s *server, p *portal, ep, window, label string) string {
	t.Helper()
	code, h := s.call("GET", p.ws+"/endpoints/"+ep+"/health", p.mgmt, "")
	if code != http.StatusOK {
		t.Fatalf("health: %d", code)
	}
	w := field(h, window)
	attempts := int(field(w, "attempts").(float64))
	if attempts == 0 {
		return "No attempts in the " + map[string]string{"lastHour": "last hour", "lastDay": "last 24 hours"}[window]
	}
	noun := "attempts"
	if attempts == 1 {
		noun = "attempt"
	}
	rate := int(field(w, "successRate").(float64) * 1000) // per mille, rounded down
	return fmt.Sprintf("%s: %d.%d%% of %d %s succeeded, p50 %v ms, p99 %v ms", label, rate/10, rate%10, attempts, noun,
		field(w, "p50Ms"), field(w, "p99Ms"))
}
