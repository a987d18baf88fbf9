package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/matryer/is"
)

// script runs a JavaScript expression in the page as a step.
func script(expr string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.Evaluate[bool]("("+expr+", true)")(ctx, t)
		return err
	})
}

// choose picks value in the select sel, as a person would: the select
// tells the page it changed.
func choose(sel, value string) chromedp.Action[chromedp.Void] {
	return script(`(() => { const s = ` + query(sel) + `; s.value = ` + strconv.Quote(value) +
		`; s.dispatchEvent(new Event("change", {bubbles: true})) })()`)
}

// typeOver selects what the input sel holds and types text over it.
func typeOver(sel, text string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(script(query(sel)+`.select()`), chromedp.SendKeys(chromedp.CSS(sel), text))
}

// viewShot saves the window as it is (not the whole page) as name in
// artifactDir.
func (b *browser) viewShot(name, what string) {
	b.t.Helper()
	shot, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		b.t.Fatalf("screenshot: %v", err)
	}
	path := filepath.Join(artifactDir(b.t), name)
	if err := os.WriteFile(path, shot, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot of %s: %s", what, path)
}

// TestDashboardInBrowser drives the dashboard page in headless Chromium,
// at 1280×800, as an operator would, through the example server: the
// sign-in form refuses a wrong token under its field; the sign-in link
// signs in and leaves the address bar; the Developer Portal creates an
// application (and refuses a second with its external ID) and opens its
// portal; Settings > Environments shows the slug error under the field,
// then creates Staging; the environment switcher selects it and a reload
// keeps it; Event Types creates order.created and publishes it in Staging
// alone; API Keys creates a key whose plaintext is shown once; Endpoints
// creates an endpoint for the application, shows a delivery's attempts,
// disables it, and explains why it no longer gets order.created. The
// store then holds exactly that. Deleting Production is refused, with the
// reason; deleting Staging says what goes with it, and takes it. A
// screenshot of each view (dashboard-*.png), and of a 400px-wide window.
func TestDashboardInBrowser(t *testing.T) {
	is := is.New(t)
	exe := chromium(t)
	rc := newRefusingReceiver(t)
	s := start(t, filepath.Join(t.TempDir(), "nahook.db"), true, true) // private URLs allowed: the receiver is on loopback
	ws, mgmt, token := s.secrets["NAHOOK_WORKSPACE_ID"], s.secrets["NAHOOK_MANAGEMENT_KEY"], s.secrets["NAHOOK_DASHBOARD_TOKEN"]
	m := "/management/v1/workspaces/" + ws
	signInURL := s.secrets["NAHOOK_DASHBOARD_URL"]
	is.Equal(signInURL, s.url+"/dashboard/#workspace="+ws+"&token="+token) // printed at first start
	list := func(path string) []any {
		t.Helper()
		code, page := s.call("GET", m+path, mgmt, "")
		is.Equal(code, http.StatusOK)
		if arr, ok := page.([]any); ok {
			return arr
		}
		return field(page, "data").([]any)
	}
	prodID := field(list("/environments")[0], "id").(string)

	b := newBrowser(t, exe, s)
	do, read := b.do, b.read
	focused := func() string { return eval[string](b, `document.activeElement.id`) }
	view := func(name string) {
		t.Helper()
		do("opening "+name, chromedp.Click(chromedp.CSS(`#sidebar a[href="#`+name+`"]`)),
			chromedp.WaitVisible(chromedp.CSS("#view-"+name)))
		is.Equal(eval[string](b, query(`#sidebar a[aria-current="page"]`)+`.dataset.view`), name)
	}

	// Signing in: the form, a wrong token, the right one, the link.
	do("opening the dashboard without its link",
		chromedp.EmulateViewport(1280, 800),
		chromedp.Navigate(s.url+"/dashboard/"),
		chromedp.WaitVisible(chromedp.CSS("#sign-in-form")))
	is.Equal(focused(), "sign-in-workspace")
	do("signing in with a wrong token",
		chromedp.SendKeys(chromedp.CSS("#sign-in-workspace"), ws),
		chromedp.SendKeys(chromedp.CSS("#sign-in-token"), "nhm_not-the-token"),
		chromedp.Click(chromedp.CSS("#sign-in-submit")),
		chromedp.WaitVisible(chromedp.CSS("#sign-in-token-error")))
	is.True(strings.Contains(read("#sign-in-token-error"), "The token was refused")) // an error under the field, not a blank page
	is.Equal(focused(), "sign-in-token")
	is.Equal(eval[string](b, query("#sign-in-token")+`.getAttribute("aria-invalid")`), "true")
	b.viewShot("dashboard-sign-in.png", "the sign-in form refusing a wrong token")
	do("signing in with the dashboard token",
		chromedp.SendKeys(chromedp.CSS("#sign-in-token"), token),
		chromedp.Click(chromedp.CSS("#sign-in-submit")),
		chromedp.WaitVisible(chromedp.CSS("#view-portal")),
		chromedp.WaitNotVisible(chromedp.CSS("#sign-in")))
	is.Equal(focused(), "portal-heading") // the form is gone: focus goes to the view
	do("signing out",
		chromedp.Click(chromedp.CSS("#sign-out")),
		chromedp.WaitVisible(chromedp.CSS("#sign-in-form")))
	is.Equal(eval[int](b, `sessionStorage.length`), 0) // forgotten
	do("following the sign-in link",
		chromedp.Navigate("about:blank"),
		chromedp.Navigate(signInURL),
		chromedp.WaitVisible(chromedp.CSS("#view-portal")))
	location, err := chromedp.Run(b.ctx, chromedp.Location())
	is.NoErr(err)
	is.Equal(location, s.url+"/dashboard/") // the token left the address bar
	is.Equal(read("#scope"), "Workspace "+ws)

	// Developer Portal: an application, and its portal.
	do("creating an application",
		chromedp.Click(chromedp.CSS("#app-create")),
		chromedp.WaitVisible(chromedp.CSS("#app-editor")))
	is.Equal(focused(), "app-name")
	do("filling it in",
		chromedp.SendKeys(chromedp.CSS("#app-name"), "Acme Corp"),
		chromedp.SendKeys(chromedp.CSS("#app-external-id"), "cust_123"),
		chromedp.Click(chromedp.CSS("#metadata-add")),
		chromedp.SendKeys(chromedp.CSS("#metadata-rows .metadata-key"), "plan"),
		chromedp.SendKeys(chromedp.CSS("#metadata-rows .metadata-value"), "enterprise"),
		chromedp.Click(chromedp.CSS("#app-save")),
		chromedp.WaitVisible(chromedp.CSS("#apps li h3")),
		chromedp.WaitNotVisible(chromedp.CSS("#app-editor")))
	is.Equal(read("#apps li h3"), "Acme Corp")
	is.Equal(read("#apps li .app-metadata"), "Metadata: plan = enterprise")
	is.Equal(eval[string](b, `document.activeElement.dataset.action`), "edit") // focus on the new card
	do("creating another with the same external ID",
		chromedp.Click(chromedp.CSS("#app-create")),
		chromedp.SendKeys(chromedp.CSS("#app-name"), "Acme again"),
		chromedp.SendKeys(chromedp.CSS("#app-external-id"), "cust_123"),
		chromedp.Click(chromedp.CSS("#app-save")),
		chromedp.WaitVisible(chromedp.CSS("#app-external-id-error")))
	is.True(strings.Contains(read("#app-external-id-error"), "externalId is already used")) // the API's message, under its field
	is.Equal(focused(), "app-external-id")
	do("cancelling with Escape",
		chromedp.KeyEvent("\x1b"),
		chromedp.WaitNotVisible(chromedp.CSS("#app-editor")))
	is.Equal(focused(), "app-create") // focus back where it was
	apps := list("/applications")
	is.Equal(len(apps), 1)
	appID := field(apps[0], "id").(string)
	card := `#apps li[data-id="` + appID + `"]`
	do("opening its portal",
		chromedp.Click(chromedp.CSS(card+` [data-action="portal"]`)),
		chromedp.WaitVisible(chromedp.CSS(card+" .portal-link a")))
	// The portal opened in a tab of its own, in front: come back to the
	// dashboard's, where the page polls by animation frames.
	do("coming back to the dashboard's tab", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, page.BringToFront, cdp.Empty{})
		return err
	}))
	href := eval[string](b, query(card+" .portal-link a")+`.href`)
	is.True(strings.HasPrefix(href, s.url+"/portal/#token=nhp_")) // the server's portal page, with a fresh session
	b.viewShot("dashboard-portal.png", "the Developer Portal with one application")

	// Settings > Environments: the slug error, then Staging.
	view("environments")
	is.Equal(focused(), "environments-heading")
	do("creating an environment with a bad slug",
		chromedp.Click(chromedp.CSS("#env-create")),
		chromedp.SendKeys(chromedp.CSS("#env-name"), "Staging"),
		chromedp.SendKeys(chromedp.CSS("#env-slug"), "Staging!"),
		chromedp.Click(chromedp.CSS("#env-save")),
		chromedp.WaitVisible(chromedp.CSS("#env-slug-error")))
	is.True(strings.Contains(read("#env-slug-error"), "lowercase letters or digits")) // the API's message, under the field
	is.Equal(focused(), "env-slug")
	is.Equal(eval[string](b, query("#env-slug")+`.getAttribute("aria-invalid")`), "true")
	b.viewShot("dashboard-environment-slug-error.png", "the slug error under its field")
	do("fixing the slug",
		typeOver("#env-slug", "staging"),
		chromedp.Click(chromedp.CSS("#env-save")),
		chromedp.WaitVisible(chromedp.CSS(`#envs li[data-slug="staging"]`)),
		chromedp.WaitNotVisible(chromedp.CSS("#env-editor")))
	envs := list("/environments")
	is.Equal(len(envs), 2)
	stagingID := field(envs[1], "id").(string)
	is.Equal(eval[int](b, queryAll("#environment option")+`.length`), 2) // in the switcher at once

	// The switcher: Staging, kept across a reload.
	do("switching to Staging, and reloading",
		choose("#environment", stagingID),
		chromedp.Reload(),
		chromedp.WaitVisible(chromedp.CSS("#view-environments")))
	is.Equal(eval[string](b, query("#environment")+`.value`), stagingID)

	// Event Types: order.created, published in Staging only.
	view("event-types")
	row := `#types li[data-name="order.created"]`
	toggle := row + ` input[role="switch"]`
	do("creating an event type",
		chromedp.Click(chromedp.CSS("#type-create")),
		chromedp.SendKeys(chromedp.CSS("#type-name"), "order.created"),
		chromedp.SendKeys(chromedp.CSS("#type-description"), "An order was placed"),
		chromedp.Click(chromedp.CSS("#type-save")),
		chromedp.WaitVisible(chromedp.CSS(toggle)))
	is.Equal(focused(), "published-"+eval[string](b, query(row)+`.dataset.id`)) // its toggle, next
	is.True(!eval[bool](b, query(toggle)+`.checked`))                           // not published anywhere yet
	is.True(strings.Contains(read(row+" label.switch"), "Published in Staging"))
	do("publishing it in Staging",
		chromedp.Click(chromedp.CSS(toggle)),
		until(query(row+" .publish-status")+`.textContent === "Published"`))
	b.viewShot("dashboard-event-types.png", "Event Types in Staging")
	do("switching to Production",
		choose("#environment", prodID),
		until(query(row+" label.switch")+`.textContent.includes("Production")`))
	is.True(!eval[bool](b, query(toggle)+`.checked`)) // unpublished there
	is.Equal(read(row+" .publish-status"), "Not published")
	do("switching back to Staging",
		choose("#environment", stagingID),
		until(query(row+" label.switch")+`.textContent.includes("Staging")`))
	is.True(eval[bool](b, query(toggle)+`.checked`))

	// API keys: the plaintext once.
	view("api-keys")
	do("creating a key",
		chromedp.SendKeys(chromedp.CSS("#key-name"), "ci"),
		chromedp.Click(chromedp.CSS("#key-create")),
		chromedp.WaitVisible(chromedp.CSS("#key-issued")),
		chromedp.WaitVisible(chromedp.CSS("#keys li")))
	plaintext := read("#key-plaintext")
	is.True(strings.HasPrefix(plaintext, "nhk_"))
	is.Equal(focused(), "key-issued")
	keys := list("/api-keys?environmentId=" + stagingID)
	is.Equal(len(keys), 1)
	prefix := field(keys[0], "prefix").(string)
	is.Equal(read("#keys li .key-prefix"), prefix+"…")                 // listed by prefix
	is.True(!strings.Contains(read("#keys"), plaintext[len(prefix):])) // and nothing more
	do("copying it",
		chromedp.Click(chromedp.CSS("#key-copy")),
		until(query("#key-copied")+`.textContent !== ""`))
	b.viewShot("dashboard-api-keys.png", "API Keys, with a new key's plaintext")
	view("endpoints")
	view("api-keys")
	is.True(!eval[bool](b, `document.body.innerText.includes(`+strconv.Quote(plaintext)+`)`)) // shown once
	is.True(eval[bool](b, query("#key-issued")+`.hidden`))

	// Endpoints: one for Acme Corp, its delivery's attempts, disabled,
	// explained.
	view("endpoints")
	epURL := rc.srv.URL + "/webhooks"
	do("adding an endpoint",
		chromedp.Click(chromedp.CSS("#endpoint-create")),
		chromedp.SendKeys(chromedp.CSS("#endpoint-url"), epURL),
		chromedp.SendKeys(chromedp.CSS("#endpoint-description"), "Order notifications"),
		choose("#endpoint-app", appID),
		chromedp.Click(chromedp.CSS(`#endpoint-types input[value="order.created"]`)),
		chromedp.Click(chromedp.CSS("#endpoint-save")),
		chromedp.WaitVisible(chromedp.CSS("#endpoints li .endpoint-url")))
	eps := list("/endpoints")
	is.Equal(len(eps), 1)
	epID := field(eps[0], "id").(string)
	ep := `#endpoints li[data-id="` + epID + `"]`
	is.Equal(read(ep+" .endpoint-owner"), "Application: Acme Corp")
	code, sent := s.call("POST", "/api/ingest/event/order.created?applicationId="+appID, plaintext, `{"orderId": "ord_1"}`)
	is.Equal(code, http.StatusAccepted) // the key works, in Staging, where order.created is published
	dlvID := field(field(sent, "deliveries").([]any)[0], "id").(string)
	waitUntil(t, "the delivery to fail", func() bool {
		_, d := s.call("GET", m+"/deliveries/"+dlvID, mgmt, "")
		return field(d, "status") == "failed"
	})
	attempts := ep + " .delivery-detail .attempts tbody tr"
	do("reading the delivery's attempts",
		chromedp.Click(chromedp.CSS(ep+` [data-action="deliveries"]`)),
		chromedp.Click(chromedp.CSS(ep+` [data-action="details"][data-delivery="`+dlvID+`"]`)),
		chromedp.WaitVisible(chromedp.CSS(attempts)))
	is.Equal(read(attempts+" pre.response"), refusal)                      // the answer, as text
	is.True(eval[bool](b, `document.getElementById("injected") === null`)) // never as HTML
	is.Equal(eval[string](b, `document.activeElement.tagName`), "H4")
	do("disabling it",
		chromedp.Click(chromedp.CSS(ep+` [data-action="toggle"]`)),
		chromedp.WaitVisible(chromedp.CSS(ep+" .status.off")))
	is.Equal(eval[string](b, `document.activeElement.textContent`), "Enable") // focus kept, though drawn again
	do("asking why it does not get order.created",
		chromedp.SendKeys(chromedp.CSS("#explain-type"), "order.created"),
		choose("#explain-app", appID),
		chromedp.Click(chromedp.CSS("#explain-submit")),
		chromedp.WaitVisible(chromedp.CSS(`#explain-result tr[data-endpoint="`+epID+`"]`)))
	is.Equal(read(`#explain-result tr[data-endpoint="`+epID+`"] li[data-reason="disabled"]`), "it is disabled")
	is.Equal(focused(), "explain-result")
	do("reading its signing secret and health",
		chromedp.Click(chromedp.CSS(ep+` [data-action="secret"]`)),
		chromedp.WaitVisible(chromedp.CSS(ep+" .secret-key")),
		until(query(ep+" .health-day")+`.textContent !== ""`))
	is.True(strings.HasPrefix(read(ep+" .secret-key"), "whsec_"))
	is.True(strings.HasPrefix(read(ep+" .health-hour"), "Last hour: 0.0% of 1 attempt succeeded"))
	b.screenshot("dashboard-endpoints.png", "Endpoints in Staging, with a delivery's attempts and an explanation")
	do("scrolling to the top", script(`scrollTo(0, 0)`))
	b.viewShot("dashboard.png", "the dashboard at 1280×800, for the README")

	// The store holds exactly what the page did.
	app := list("/applications")[0]
	is.Equal(field(app, "name"), "Acme Corp")
	is.Equal(field(app, "externalId"), "cust_123")
	is.Equal(field(app, "metadata"), map[string]any{"plan": "enterprise"})
	sessions := list("/applications/" + appID + "/portal-sessions")
	is.Equal(len(sessions), 1)
	is.Equal(field(sessions[0], "environmentId"), prodID) // opened while Production was selected
	is.Equal(field(envs[1], "name"), "Staging")
	is.Equal(field(envs[1], "slug"), "staging")
	types := list("/event-types")
	is.Equal(len(types), 1)
	is.Equal(field(types[0], "name"), "order.created")
	is.Equal(field(types[0], "description"), "An order was placed")
	published := func(env string) bool {
		return field(list("/environments/" + env + "/event-types")[0], "published").(bool)
	}
	is.True(published(stagingID))
	is.True(!published(prodID))
	is.Equal(field(keys[0], "name"), "ci")
	is.Equal(len(list("/api-keys?environmentId="+prodID)), 0)
	stored := list("/endpoints")[0]
	is.Equal(field(stored, "url"), epURL)
	is.Equal(field(stored, "description"), "Order notifications")
	is.Equal(field(stored, "environmentId"), stagingID)
	is.Equal(field(stored, "applicationId"), appID)
	is.Equal(field(stored, "disabled"), true)
	is.Equal(fmt.Sprint(field(stored, "eventTypes")), "[order.created]")

	// Deleting environments: not the default; Staging, with what it has.
	view("environments")
	prod, staging := `#envs li[data-id="`+prodID+`"]`, `#envs li[data-id="`+stagingID+`"]`
	do("deleting Production",
		chromedp.Click(chromedp.CSS(prod+` [data-action="delete"]`)),
		chromedp.WaitVisible(chromedp.CSS(prod+" .default-refusal")))
	is.True(strings.Contains(read(prod+" .default-refusal"), "Production is the default environment and cannot be deleted"))
	do("deleting Staging",
		chromedp.Click(chromedp.CSS(staging+` [data-action="delete"]`)),
		chromedp.WaitVisible(chromedp.CSS(staging+" .confirm")))
	question := read(staging + " .confirm")
	is.True(strings.Contains(question, "1 API key (ci "+prefix+"…)")) // says what goes with it
	is.True(strings.Contains(question, "1 endpoint ("+epURL+")"))
	is.Equal(eval[string](b, `document.activeElement.textContent`), "Delete environment") // and asks, inline
	b.viewShot("dashboard-environments.png", "Settings > Environments, asking before deleting Staging")
	do("confirming",
		chromedp.Click(chromedp.CSS(staging+" .confirm button.danger")),
		chromedp.WaitNotPresent(chromedp.CSS(staging)))
	is.Equal(eval[string](b, query("#environment")+`.value`), prodID) // the switcher falls back to the default
	is.Equal(len(list("/environments")), 1)
	is.Equal(len(list("/endpoints")), 0) // its endpoint went with it
	code, _ = s.call("POST", "/api/ingest/event/order.created", plaintext, `{}`)
	is.Equal(code, http.StatusUnauthorized) // and its key

	// A narrow window: everything reachable, nothing wider than it.
	do("narrowing the window to 400px",
		chromedp.EmulateViewport(400, 800),
		until(`innerWidth === 400`))
	is.True(eval[bool](b, `document.documentElement.scrollWidth <= 400`))
	b.screenshot("dashboard-narrow.png", "Settings > Environments in a 400px-wide window")
}

// TestDashboardEditsInBrowser drives the dashboard's other flows on a
// workspace the management API set up (Acme Corp with an endpoint for
// order.created in Production, and a key): edit an application up to its
// five metadata pairs and list its endpoints; rename an event type and an
// environment; revoke a key; edit an endpoint, rotate its secret and
// replay what it missed; delete the application, told that its endpoint
// goes with it. The store holds each change.
func TestDashboardEditsInBrowser(t *testing.T) {
	is := is.New(t)
	exe := chromium(t)
	s := start(t, filepath.Join(t.TempDir(), "nahook.db"), true, false)
	p := newPortal(t, s) // Acme Corp; order.created and invoice.paid published in Production
	call := func(method, path, body string, want int) any {
		t.Helper()
		code, v := s.call(method, p.ws+path, p.mgmt, body)
		if code != want {
			t.Fatalf("%s %s: %d %v, want %d", method, path, code, v, want)
		}
		return v
	}
	epURL := "https://acme.example/webhooks"
	epID := field(call("POST", "/applications/"+p.appID+"/endpoints", `{"url": "`+epURL+`", "eventTypes": ["order.created"]}`, 201), "id").(string)
	keyID := field(call("POST", "/api-keys", `{"name": "old"}`, 201), "id").(string)
	types := field(call("GET", "/event-types", "", 200), "data").([]any)
	typeID := field(types[0], "id").(string)

	b := newBrowser(t, exe, s)
	do, read := b.do, b.read
	view := func(name string) {
		t.Helper()
		do("opening "+name, chromedp.Click(chromedp.CSS(`#sidebar a[href="#`+name+`"]`)),
			chromedp.WaitVisible(chromedp.CSS("#view-"+name)))
	}
	app := `#apps li[data-id="` + p.appID + `"]`
	do("signing in",
		chromedp.Navigate(s.secrets["NAHOOK_DASHBOARD_URL"]),
		chromedp.WaitVisible(chromedp.CSS(app)))

	// The application: renamed, five pairs, its endpoints.
	do("editing the application",
		chromedp.Click(chromedp.CSS(app+` [data-action="edit"]`)),
		chromedp.WaitVisible(chromedp.CSS("#app-editor")),
		typeOver("#app-name", "Acme Corporation"))
	for i := 1; i <= 5; i++ {
		row := fmt.Sprintf("#metadata-rows .metadata-row:nth-child(%d)", i)
		do("adding a pair",
			chromedp.Click(chromedp.CSS("#metadata-add")),
			chromedp.SendKeys(chromedp.CSS(row+" .metadata-key"), fmt.Sprintf("k%d", i)),
			chromedp.SendKeys(chromedp.CSS(row+" .metadata-value"), fmt.Sprintf("v%d", i)))
	}
	is.True(eval[bool](b, query("#metadata-add")+`.disabled`)) // five at most
	is.Equal(read("#metadata-add"), "At most 5 pairs")
	do("saving",
		chromedp.Click(chromedp.CSS("#app-save")),
		chromedp.WaitNotVisible(chromedp.CSS("#app-editor")),
		until(query(app+" h3")+`.textContent === "Acme Corporation"`))
	stored := call("GET", "/applications/"+p.appID, "", 200)
	is.Equal(field(stored, "name"), "Acme Corporation")
	is.Equal(len(field(stored, "metadata").(map[string]any)), 5)
	is.Equal(field(stored, "externalId"), "cust_123") // kept
	do("listing its endpoints",
		chromedp.Click(chromedp.CSS(app+` [data-action="endpoints"]`)),
		chromedp.WaitVisible(chromedp.CSS(app+" .app-endpoints li")))
	is.True(strings.HasPrefix(read(app+" .app-endpoints li"), epURL))

	// An event type renamed.
	view("event-types")
	row := `#types li[data-id="` + typeID + `"]`
	do("renaming order.created",
		chromedp.Click(chromedp.CSS(row+` [data-action="edit"]`)),
		chromedp.WaitVisible(chromedp.CSS("#type-editor")),
		typeOver("#type-name", "order.placed"),
		chromedp.Click(chromedp.CSS("#type-save")),
		until(query(row+" h3")+`.textContent === "order.placed"`))
	is.Equal(field(call("GET", "/event-types/"+typeID, "", 200), "name"), "order.placed")
	is.True(eval[bool](b, query(row+` input[role="switch"]`)+`.checked`)) // still published

	// A key revoked.
	view("api-keys")
	key := `#keys li[data-id="` + keyID + `"]`
	do("revoking the key",
		chromedp.Click(chromedp.CSS(key+` [data-action="revoke"]`)),
		chromedp.Click(chromedp.CSS(key+" .confirm button.danger")),
		until(query(key+" .status.off")+` !== null`))
	keys := field(call("GET", "/api-keys", "", 200), "data").([]any)
	is.True(field(keys[0], "revokedAt") != nil)

	// Production renamed.
	view("environments")
	env := `#envs li[data-id="` + p.env + `"]`
	do("renaming Production",
		chromedp.Click(chromedp.CSS(env+` [data-action="rename"]`)),
		chromedp.WaitVisible(chromedp.CSS(env+` input[name="slug"]`)),
		typeOver(env+` input[name="name"]`, "Live"),
		typeOver(env+` input[name="slug"]`, "live"),
		chromedp.Click(chromedp.CSS(env+` button[type="submit"]`)),
		until(query(env+" h3")+`.textContent.startsWith("Live")`))
	is.Equal(eval[string](b, query(`#environment option[value="`+p.env+`"]`)+`.textContent`), "Live (default)") // the switcher too
	stored = call("GET", "/environments/"+p.env, "", 200)
	is.Equal(field(stored, "slug"), "live")

	// The endpoint: edited, its secret rotated, what it missed replayed.
	view("endpoints")
	ep := `#endpoints li[data-id="` + epID + `"]`
	do("editing the endpoint",
		chromedp.Click(chromedp.CSS(ep+` [data-action="edit"]`)),
		chromedp.WaitVisible(chromedp.CSS("#endpoint-editor")),
		chromedp.SendKeys(chromedp.CSS("#endpoint-description"), "Orders"),
		chromedp.Click(chromedp.CSS(`#endpoint-types input[value="invoice.paid"]`)),
		chromedp.Click(chromedp.CSS("#endpoint-save")),
		chromedp.WaitNotVisible(chromedp.CSS("#endpoint-editor")),
		until(query(ep+" .endpoint-types")+`.textContent.includes("invoice.paid")`))
	stored = call("GET", "/endpoints/"+epID, "", 200)
	is.Equal(field(stored, "description"), "Orders")
	is.Equal(fmt.Sprint(field(stored, "eventTypes")), "[order.placed invoice.paid]") // the renamed type, and the new one
	do("rotating its secret",
		chromedp.Click(chromedp.CSS(ep+` [data-action="secret"]`)),
		chromedp.WaitVisible(chromedp.CSS(ep+" .secret-key")))
	old := read(ep + " .secret-key")
	do("confirming the rotation",
		chromedp.Click(chromedp.CSS(ep+` [data-action="rotate"]`)),
		chromedp.Click(chromedp.CSS(ep+" .secret .confirm button.danger")),
		until(query(ep+" .secret-key")+`.textContent !== `+strconv.Quote(old)))
	is.Equal(field(call("GET", "/endpoints/"+epID+"/secret", "", 200), "key"), read(ep+" .secret-key"))
	do("replaying what it missed",
		chromedp.Click(chromedp.CSS(ep+` [data-action="recovery"]`)),
		chromedp.WaitVisible(chromedp.CSS(ep+" .replay-form")),
		chromedp.Click(chromedp.CSS(ep+` .replay-form button[type="submit"]`)),
		until(query(ep+" .replay-form .result")+`.textContent !== ""`))
	is.Equal(read(ep+" .replay-form .result"), "No missed events since then.")

	// The application deleted, with its endpoint.
	view("portal")
	do("deleting the application",
		chromedp.Click(chromedp.CSS(app+` [data-action="delete"]`)),
		chromedp.WaitVisible(chromedp.CSS(app+" .confirm")))
	is.True(strings.Contains(read(app+" .confirm"), "Its 1 endpoint goes with it: "+epURL+" (Live)."))
	do("confirming",
		chromedp.Click(chromedp.CSS(app+" .confirm button.danger")),
		chromedp.WaitVisible(chromedp.CSS("#apps-empty")))
	is.Equal(eval[string](b, `document.activeElement.id`), "app-create")
	call("GET", "/applications/"+p.appID, "", 404)
	call("GET", "/endpoints/"+epID, "", 404)
}
