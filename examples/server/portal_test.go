package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
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
	mgmt := s.secrets["NAHOOK_MANAGEMENT_KEY"]
	w := "/management/v1/workspaces/" + s.secrets["NAHOOK_WORKSPACE_ID"]

	_, envs := s.call("GET", w+"/environments", mgmt, "")
	env := field(field(envs, "data").([]any)[0], "id").(string)
	for _, name := range []string{"order.created", "invoice.paid"} {
		code, et := s.call("POST", w+"/event-types", mgmt, `{"name": "`+name+`", "description": "When it happens"}`)
		is.Equal(code, 201)
		code, _ = s.call("PUT", w+"/environments/"+env+"/event-types/"+field(et, "id").(string)+"/visibility", mgmt, `{"published": true}`)
		is.Equal(code, 200)
	}
	code, app := s.call("POST", w+"/applications", mgmt, `{"name": "Acme Corp", "externalId": "cust_123"}`)
	is.Equal(code, 201)
	appID := field(app, "id").(string)
	code, session := s.call("POST", w+"/portal-sessions", mgmt, `{"applicationId": "`+appID+`"}`)
	is.Equal(code, 201)
	portalURL := field(session, "url").(string)
	is.True(strings.HasPrefix(portalURL, s.url+"/portal/#token=nhp_")) // the server's own portal page

	ctx, cancel := chromedp.NewExecAllocator(t.Context(), append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.NoSandbox, // CI runs as root, where Chromium's sandbox will not start
		chromedp.DisableGPU,
		chromedp.WindowSize(1100, 900),
	)...)
	defer cancel()
	ctx, cancel = chromedp.NewContext(ctx, chromedp.WithErrorf(t.Logf))
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 90*time.Second)
	defer cancel()

	const (
		endpointURL = "https://acme.example/webhooks"
		firstCard   = "#endpoints li:first-child"
	)
	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("%s: %v\nserver log:\n%s", what, err, s.stderr)
		}
	}
	read := func(sel string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("reading %s: %v", sel, err)
		}
		return v
	}

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
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100) /* 100: PNG */)
	is.NoErr(err)
	path := filepath.Join(artifactDir(t), "portal-page.png")
	is.NoErr(os.WriteFile(path, shot, 0o644))
	t.Logf("screenshot of the portal page with one endpoint: %s", path)

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
