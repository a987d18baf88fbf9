package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/matryer/is"

	"github.com/nahook/nahook/internal/pgtest"
)

// binary is the server, built once for the tests.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "nahook-server-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "server")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building the server:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// server is a running server binary.
type server struct {
	t       *testing.T
	cmd     *exec.Cmd
	url     string
	secrets map[string]string // what its first start printed
	stdout  chan string       // lines of standard output
	stderr  *bytes.Buffer     // written by one goroutine; read after it logged "listening"
	exited  chan error
}

// start runs the server on a free loopback port against db and waits until
// it listens and, on a first start, until it has printed its secrets.
// With viaEnv it is configured by NAHOOK_* variables rather than flags, and
// allows private endpoint URLs.
func start(t *testing.T, db string, first, viaEnv bool, env ...string) *server {
	t.Helper()
	s := &server{t: t, secrets: map[string]string{}, stdout: make(chan string, 100), stderr: &bytes.Buffer{}, exited: make(chan error, 1)}
	if viaEnv {
		s.cmd = exec.Command(binary)
		s.cmd.Env = append(os.Environ(), "NAHOOK_ADDR=127.0.0.1:0", "NAHOOK_DB="+db, "NAHOOK_ALLOW_PRIVATE_URLS=true")
	} else {
		s.cmd = exec.Command(binary, "-addr", "127.0.0.1:0", "-db", db)
		s.cmd.Env = append(os.Environ(), "NAHOOK_ADDR=", "NAHOOK_DB=", "NAHOOK_ALLOW_PRIVATE_URLS=")
	}
	s.cmd.Env = append(s.cmd.Env, env...)
	stdout, err := s.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := s.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.cmd.Process.Kill()
		<-s.exited
	})
	listening := make(chan string, 1)
	// Both pipes are read to their end before Wait, which closes them.
	var readers sync.WaitGroup
	readers.Add(1)
	go func() {
		defer readers.Done()
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			s.stderr.WriteString(line + "\n")
			if m := regexp.MustCompile(`msg=listening url=(\S+)`).FindStringSubmatch(line); m != nil {
				listening <- m[1]
			}
		}
	}()
	readers.Add(1)
	go func() {
		defer readers.Done()
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			s.stdout <- sc.Text()
		}
		close(s.stdout)
	}()
	go func() {
		readers.Wait()
		s.exited <- s.cmd.Wait()
	}()
	select {
	case s.url = <-listening:
	case err := <-s.exited:
		s.exited <- err
		t.Fatalf("the server exited before listening: %v\n%s", err, s.stderr)
	case <-time.After(30 * time.Second):
		t.Fatalf("the server did not listen within 30s\n%s", s.stderr)
	}
	for first && len(s.secrets) < 4 {
		select {
		case line := <-s.stdout:
			if name, value, ok := strings.Cut(line, "="); ok && strings.HasPrefix(name, "NAHOOK_") {
				s.secrets[name] = strings.Trim(value, "'") // as a shell reads it
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("the first start printed %v, not the four NAHOOK_ lines", s.secrets)
		}
	}
	return s
}

// printedAfter returns what the server printed on standard output that
// start did not read; call it once the server has stopped.
func (s *server) printedAfter() []string {
	var out []string
	for line := range s.stdout {
		out = append(out, line)
	}
	return out
}

// stop sends SIGTERM and expects a clean, graceful exit.
func (s *server) stop() {
	s.t.Helper()
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.exited:
		s.exited <- err
		if err != nil {
			s.t.Fatalf("the server exited with %v after SIGTERM\n%s", err, s.stderr)
		}
	case <-time.After(20 * time.Second):
		s.t.Fatalf("the server did not stop within 20s of SIGTERM")
	}
	if !strings.Contains(s.stderr.String(), "shutting down") {
		s.t.Fatalf("no graceful shutdown logged:\n%s", s.stderr)
	}
}

// call sends a request and decodes the JSON answer.
func (s *server) call(method, path, token string, body string) (int, any) {
	s.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, s.url+path, rd)
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var v any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &v); err != nil {
			s.t.Fatalf("%s %s: %d, not JSON: %s", method, path, res.StatusCode, raw)
		}
	}
	return res.StatusCode, v
}

// keys returns the sorted keys of a JSON object.
func keys(v any) []string {
	m, _ := v.(map[string]any)
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func field(v any, name string) any {
	m, _ := v.(map[string]any)
	return m[name]
}

var millisUTC = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)

// replaySeeds replays every curl command of the two seed documents, in
// order, with the IDs of this server, then the seed's routing example
// through the ingest route.
func replaySeeds(t *testing.T, s *server) {
	is := is.New(t)
	ws := s.secrets["NAHOOK_WORKSPACE_ID"]
	mgmt, dash := s.secrets["NAHOOK_MANAGEMENT_KEY"], s.secrets["NAHOOK_DASHBOARD_TOKEN"]
	is.True(strings.HasPrefix(ws, "ws_") && strings.HasPrefix(mgmt, "nhm_") && dash != "") // the first start printed them
	m := "/management/v1/workspaces/" + ws
	d := "/api/workspaces/" + ws

	// Applications (seed 000): create via the management API.
	status, app := s.call("POST", m+"/applications", mgmt, `{
"externalId": "cust_123",
"name": "Acme Corp",
"metadata": {
"plan": "enterprise"
}
}`)
	is.Equal(status, http.StatusCreated)
	is.Equal(keys(app), []string{"createdAt", "externalId", "id", "metadata", "name", "updatedAt"})
	is.Equal(field(app, "externalId"), "cust_123")
	is.Equal(field(app, "name"), "Acme Corp")
	is.Equal(field(app, "metadata"), map[string]any{"plan": "enterprise"})
	is.True(millisUTC.MatchString(field(app, "createdAt").(string)))
	is.Equal(field(app, "createdAt"), field(app, "updatedAt"))
	appID := field(app, "id").(string)
	is.True(strings.HasPrefix(appID, "app_"))

	// The dashboard API's create, replayed in order on the same workspace,
	// meets the seed's own rule: externalId is unique per workspace.
	status, conflict := s.call("POST", d+"/applications", dash, `{
"externalId": "cust_123",
"name": "Acme Corp"
}`)
	is.Equal(status, http.StatusConflict)
	is.Equal(field(field(conflict, "error"), "code"), "conflict")
	is.Equal(field(field(conflict, "error"), "field"), "externalId")
	// The same command for another customer creates it through the
	// dashboard API.
	status, viaDashboard := s.call("POST", d+"/applications", dash, `{
"externalId": "cust_456",
"name": "Acme Corp"
}`)
	is.Equal(status, http.StatusCreated)
	is.Equal(keys(viaDashboard), []string{"createdAt", "externalId", "id", "metadata", "name", "updatedAt"})
	is.Equal(field(viaDashboard, "metadata"), map[string]any{})

	// Creating endpoints for an application.
	status, ep := s.call("POST", m+"/applications/"+appID+"/endpoints", mgmt, `{
"url": "https://acme.com/webhooks",
"description": "Production webhook"
}`)
	is.Equal(status, http.StatusCreated)
	is.Equal(keys(ep), []string{"applicationId", "createdAt", "description", "disabled", "environmentId", "eventTypes", "id", "updatedAt", "url"})
	is.Equal(field(ep, "applicationId"), appID)
	is.Equal(field(ep, "url"), "https://acme.com/webhooks")
	is.Equal(field(ep, "description"), "Production webhook")
	is.Equal(field(ep, "eventTypes"), []any{})

	// Listing application endpoints, via the dashboard API.
	status, list := s.call("GET", d+"/applications/"+appID+"/endpoints", dash, "")
	is.Equal(status, http.StatusOK)
	is.Equal(keys(list), []string{"data", "nextCursor"})
	is.Equal(field(list, "data"), []any{ep})
	is.Equal(field(list, "nextCursor"), nil)

	// Environments (seed 004): create Staging.
	status, env := s.call("POST", m+"/environments", mgmt, `{
"name": "Staging",
"slug": "staging"
}`)
	is.Equal(status, http.StatusCreated)
	is.Equal(keys(env), []string{"createdAt", "id", "isDefault", "name", "slug", "updatedAt"})
	is.Equal(field(env, "name"), "Staging")
	is.Equal(field(env, "slug"), "staging")
	is.Equal(field(env, "isDefault"), false)
	envID := field(env, "id").(string)
	is.True(strings.HasPrefix(envID, "env_"))

	// The seed's visibility listing shows order.created published and
	// order.refunded not: make them so first.
	_, created := s.call("POST", m+"/event-types", mgmt, `{"name": "order.created"}`)
	_, refunded := s.call("POST", m+"/event-types", mgmt, `{"name": "order.refunded"}`)
	createdID, refundedID := field(created, "id").(string), field(refunded, "id").(string)

	// List event types with their visibility: the seed's bare array. A new
	// environment has nothing published.
	status, listing := s.call("GET", m+"/environments/"+envID+"/event-types", mgmt, "")
	is.Equal(status, http.StatusOK)
	is.Equal(listing, []any{
		map[string]any{"eventTypeId": createdID, "eventTypeName": "order.created", "published": false},
		map[string]any{"eventTypeId": refundedID, "eventTypeName": "order.refunded", "published": false},
	})

	// Toggle visibility, then list again: exactly the seed's example.
	status, vis := s.call("PUT", m+"/environments/"+envID+"/event-types/"+createdID+"/visibility", mgmt, `{ "published": true }`)
	is.Equal(status, http.StatusOK)
	is.Equal(vis, map[string]any{"eventTypeId": createdID, "eventTypeName": "order.created", "published": true})
	_, listing = s.call("GET", m+"/environments/"+envID+"/event-types", mgmt, "")
	is.Equal(listing, []any{
		map[string]any{"eventTypeId": createdID, "eventTypeName": "order.created", "published": true},
		map[string]any{"eventTypeId": refundedID, "eventTypeName": "order.refunded", "published": false},
	})

	// Give the environment an endpoint and a key, which its deletion must
	// take with it.
	status, doomedEP := s.call("POST", m+"/endpoints", mgmt, fmt.Sprintf(`{"url": "https://doomed.example/hook", "environmentId": %q, "eventTypes": ["order.created"]}`, envID))
	is.Equal(status, http.StatusCreated)
	_, doomedKey := s.call("POST", m+"/api-keys", mgmt, fmt.Sprintf(`{"environmentId": %q}`, envID))
	status, _ = s.call("POST", "/api/ingest/event/order.created", field(doomedKey, "key").(string), `{}`)
	is.Equal(status, http.StatusAccepted) // the key works before

	// Delete the environment.
	status, _ = s.call("DELETE", m+"/environments/"+envID, mgmt, "")
	is.Equal(status, http.StatusNoContent)
	status, _ = s.call("GET", m+"/environments/"+envID, mgmt, "")
	is.Equal(status, http.StatusNotFound)
	status, _ = s.call("GET", m+"/endpoints/"+field(doomedEP, "id").(string), mgmt, "")
	is.Equal(status, http.StatusNotFound) // its endpoints went with it
	status, _ = s.call("POST", "/api/ingest/event/order.created", field(doomedKey, "key").(string), `{}`)
	is.Equal(status, http.StatusUnauthorized) // and its keys
	_, envs := s.call("GET", m+"/environments", mgmt, "")
	prod := field(envs, "data").([]any)[0]
	is.Equal(field(prod, "isDefault"), true) // the default environment cannot be deleted
	status, refused := s.call("DELETE", m+"/environments/"+field(prod, "id").(string), mgmt, "")
	is.Equal(status, http.StatusConflict)
	is.Equal(field(field(refused, "error"), "code"), "default_environment")

	// How delivery routing works: a staging key sends order.created.
	_, staging := s.call("POST", m+"/environments", mgmt, `{"name": "Staging", "slug": "staging"}`)
	stagingID, prodID := field(staging, "id").(string), field(prod, "id").(string)
	s.call("PUT", m+"/environments/"+stagingID+"/event-types/"+createdID+"/visibility", mgmt, `{"published": true}`)
	endpoint := func(env, sub string) string {
		status, ep := s.call("POST", m+"/endpoints", mgmt, fmt.Sprintf(`{"url": "https://%s.example/hook", "environmentId": %q, "eventTypes": [%q]}`, env[len(env)-4:], env, sub))
		is.Equal(status, http.StatusCreated)
		return field(ep, "id").(string)
	}
	a := endpoint(stagingID, "order.created")
	b := endpoint(prodID, "order.created") // B: production, subscribed
	endpoint(stagingID, "order.refunded")  // C: staging, not subscribed
	_, key := s.call("POST", m+"/api-keys", mgmt, fmt.Sprintf(`{"environmentId": %q}`, stagingID))
	stagingKey := field(key, "key").(string)
	status, accepted := s.call("POST", "/api/ingest/event/order.created", stagingKey, `{"orderId": "ord_1"}`)
	is.Equal(status, http.StatusAccepted)
	is.True(strings.HasPrefix(field(accepted, "eventId").(string), "msg_"))
	deliveries := field(accepted, "deliveries").([]any)
	is.Equal(len(deliveries), 1)
	is.Equal(field(deliveries[0], "endpointId"), a) // A receives; B and C do not
	is.True(strings.HasPrefix(field(deliveries[0], "id").(string), "dlv_"))

	// For direct delivery, the endpoint must belong to the key's
	// environment: production's B is not found with a staging key.
	status, _ = s.call("POST", "/api/ingest/"+a, stagingKey, `{"orderId": "ord_2"}`)
	is.Equal(status, http.StatusAccepted)
	status, notFound := s.call("POST", "/api/ingest/"+b, stagingKey, `{"orderId": "ord_3"}`)
	is.Equal(status, http.StatusNotFound)
	is.Equal(field(field(notFound, "error"), "code"), "not_found")
}

func TestSeedsSQLite(t *testing.T) {
	db := filepath.Join(t.TempDir(), "nahook.db")
	s := start(t, db, true, false)
	replaySeeds(t, s)
	status, loopback := s.call("POST", "/management/v1/workspaces/"+s.secrets["NAHOOK_WORKSPACE_ID"]+"/endpoints", s.secrets["NAHOOK_MANAGEMENT_KEY"], `{"url": "http://127.0.0.1:9/hook"}`)
	if status != http.StatusBadRequest || field(field(loopback, "error"), "field") != "url" {
		t.Fatalf("a loopback endpoint without opting in: %d %v", status, loopback)
	}
	s.stop()

	// A later start, configured by environment variables, prints nothing,
	// serves the same data, and has opted in to private URLs.
	again := start(t, db, false, true)
	status, _ = again.call("GET", "/management/v1/workspaces/"+s.secrets["NAHOOK_WORKSPACE_ID"]+"/applications", s.secrets["NAHOOK_MANAGEMENT_KEY"], "")
	if status != http.StatusOK {
		t.Fatalf("after a restart the management key answers %d", status)
	}
	status, _ = again.call("POST", "/management/v1/workspaces/"+s.secrets["NAHOOK_WORKSPACE_ID"]+"/endpoints", s.secrets["NAHOOK_MANAGEMENT_KEY"], `{"url": "http://127.0.0.1:9/hook"}`)
	if status != http.StatusCreated {
		t.Fatalf("NAHOOK_ALLOW_PRIVATE_URLS=true: a loopback endpoint answers %d", status)
	}
	again.stop()
	if out := again.printedAfter(); len(out) != 0 {
		t.Fatalf("a second start printed %q", out)
	}
}

func TestSeedsPostgres(t *testing.T) {
	s := start(t, pgtest.Schema(t), true, false)
	replaySeeds(t, s)
	s.stop()
}
