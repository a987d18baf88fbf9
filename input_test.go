package nahook_test

// Input validation through the services. These rules are nahook's, checked
// before any store is called, so no adapter can break them: they are tested
// here once rather than in storetest against every adapter.

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/matryer/is"

	"github.com/nahook/nahook"
	"github.com/nahook/nahook/internal/typeid"
	"github.com/nahook/nahook/store"
)

// wantField fails the test unless err is a *nahook.Error of the given kind
// naming the given field, with a message.
func wantField(t *testing.T, what string, err error, kind error, field string) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Fatalf("%s: error = %v, want %v", what, err, kind)
	}
	e, ok := errors.AsType[*nahook.Error](err)
	if !ok {
		t.Fatalf("%s: error %v (%T) is not a *nahook.Error", what, err, err)
	}
	if e.Field != field {
		t.Fatalf("%s: error field = %q, want %q (error: %v)", what, e.Field, field, err)
	}
	if e.Message == "" {
		t.Fatalf("%s: error %v has no message", what, err)
	}
}

// base62Key reports whether s is prefix followed by at least 32 base62
// characters.
func base62Key(s, prefix string) bool {
	rest, ok := strings.CutPrefix(s, prefix)
	if !ok || len(rest) < 32 {
		return false
	}
	return strings.Trim(rest, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") == ""
}

// long256 is a name of exactly 256 characters, each two bytes long, so a
// validator counting bytes instead of characters fails.
var long256 = strings.Repeat("é", 256)

// A workspace needs a name of 1 to 256 characters, stored trimmed; a
// refused create stores nothing; an empty patch changes nothing.
func TestInputWorkspaceName(t *testing.T) {
	is := is.New(t)
	ctx := context.Background()
	nh, _ := newClientStore(t, nahook.Config{})
	for _, n := range []string{"", "   ", long256 + "x"} {
		_, err := nh.Workspaces.Create(ctx, nahook.WorkspaceInput{Name: n})
		wantField(t, fmt.Sprintf("name %q", n), err, nahook.ErrInvalid, "name")
	}
	list, err := nh.Workspaces.List(ctx, nahook.ListOptions{})
	is.NoErr(err)
	is.Equal(len(list.Items), 0) // nothing stored
	ws, err := nh.Workspaces.Create(ctx, nahook.WorkspaceInput{Name: long256})
	is.NoErr(err) // 256 characters is allowed

	got, err := nh.Workspaces.Update(ctx, ws.ID, nahook.WorkspacePatch{Name: ptr("  Renamed  ")})
	is.NoErr(err)
	is.Equal(got.Name, "Renamed") // trimmed
	same, err := nh.Workspaces.Update(ctx, ws.ID, nahook.WorkspacePatch{})
	is.NoErr(err)
	is.Equal(same, got) // an empty patch changes nothing
	_, err = nh.Workspaces.Update(ctx, ws.ID, nahook.WorkspacePatch{Name: ptr("")})
	wantField(t, "empty name", err, nahook.ErrInvalid, "name")
	_, err = nh.Workspaces.Get(ctx, "nonsense")
	wantField(t, "malformed ID", err, nahook.ErrNotFound, "")
}

// A slug is 1 to 63 lowercase letters and digits with single hyphens
// between runs; an environment name is 1 to 100 characters after trimming.
// Anything else is ErrInvalid naming the field, and nothing is stored or
// changed.
func TestInputEnvironment(t *testing.T) {
	is := is.New(t)
	ctx := context.Background()
	nh, st := newClientStore(t, nahook.Config{})
	ws, err := nh.Workspaces.Create(ctx, nahook.WorkspaceInput{Name: "Acme"})
	is.NoErr(err)
	for _, slug := range []string{"staging", "eu-prod", "a", "0", "a1-b2-c3", strings.Repeat("a", 63)} {
		env, err := nh.Environments.Create(ctx, ws.ID, nahook.EnvironmentInput{Name: "Valid", Slug: slug})
		if err != nil {
			t.Fatalf("slug %q: %v", slug, err)
		}
		is.NoErr(nh.Environments.Delete(ctx, ws.ID, env.ID))
	}
	for _, slug := range []string{"", "-a", "a-", "a--b", "Staging", "eu_prod", "eu prod", "é", "a.b", strings.Repeat("a", 64)} {
		_, err := nh.Environments.Create(ctx, ws.ID, nahook.EnvironmentInput{Name: "Invalid", Slug: slug})
		wantField(t, fmt.Sprintf("slug %q", slug), err, nahook.ErrInvalid, "slug")
	}
	envs, err := st.ListEnvironments(ctx, ws.ID, store.PageRequest{Limit: 100})
	is.NoErr(err)
	is.Equal(len(envs), 1) // no refused environment was stored

	env, err := nh.Environments.Create(ctx, ws.ID, nahook.EnvironmentInput{Name: "  Staging \t", Slug: "staging"})
	is.NoErr(err)
	is.Equal(env.Name, "Staging") // trimmed
	_, err = nh.Environments.Create(ctx, ws.ID, nahook.EnvironmentInput{Name: strings.Repeat("é", 100), Slug: "long"})
	is.NoErr(err) // 100 characters is allowed
	for _, n := range []string{"", "  ", strings.Repeat("é", 101), "bad\x00name"} {
		_, err := nh.Environments.Create(ctx, ws.ID, nahook.EnvironmentInput{Name: n, Slug: "other"})
		wantField(t, fmt.Sprintf("name %q", n), err, nahook.ErrInvalid, "name")
	}

	_, err = nh.Environments.Update(ctx, ws.ID, env.ID, nahook.EnvironmentPatch{Name: ptr("Fine"), Slug: ptr("Not-OK")})
	wantField(t, "update slug", err, nahook.ErrInvalid, "slug")
	after, err := nh.Environments.Get(ctx, ws.ID, env.ID)
	is.NoErr(err)
	is.Equal(after, env) // the refused update changed nothing, the name included
}

// An application needs a name of 1 to 256 characters after trimming; an
// externalId is 1 to 256 characters of letters, digits and . _ : -;
// metadata holds at most 5 pairs, keys of 1 to 64 characters and values of
// at most 512, all text without NUL or invalid UTF-8. Anything else is
// ErrInvalid naming the field, and nothing is stored.
func TestInputApplication(t *testing.T) {
	is := is.New(t)
	ctx := context.Background()
	nh, _ := newClientStore(t, nahook.Config{})
	ws, err := nh.Workspaces.Create(ctx, nahook.WorkspaceInput{Name: "Acme"})
	is.NoErr(err)
	for _, n := range []string{"", " \n ", long256 + "x"} {
		_, err := nh.Applications.Create(ctx, ws.ID, nahook.ApplicationInput{Name: n, ExternalID: "cust_1"})
		wantField(t, fmt.Sprintf("name %q", n), err, nahook.ErrInvalid, "name")
	}
	_, err = nh.Applications.GetByExternalID(ctx, ws.ID, "cust_1")
	wantField(t, "refused create", err, nahook.ErrNotFound, "externalId") // nothing was stored
	app, err := nh.Applications.Create(ctx, ws.ID, nahook.ApplicationInput{Name: " " + long256 + " "})
	is.NoErr(err)
	is.Equal(app.Name, long256) // trimmed

	for _, id := range []string{"cust_123", "org:abc.def-1", "A", strings.Repeat("x", 256)} {
		if _, err := nh.Applications.Create(ctx, ws.ID, nahook.ApplicationInput{Name: "Valid", ExternalID: id}); err != nil {
			t.Fatalf("externalId %q: %v", id, err)
		}
	}
	for _, id := range []string{"has space", "ü", "a/b", "a?b", "semi;colon", strings.Repeat("x", 257)} {
		_, err := nh.Applications.Create(ctx, ws.ID, nahook.ApplicationInput{Name: "Invalid", ExternalID: id})
		wantField(t, fmt.Sprintf("externalId %q", id), err, nahook.ErrInvalid, "externalId")
	}
	_, err = nh.Applications.GetByExternalID(ctx, ws.ID, "not valid")
	wantField(t, "malformed externalId", err, nahook.ErrNotFound, "externalId")

	six := map[string]string{}
	for i := range 6 {
		six[fmt.Sprint("k", i)] = "v"
	}
	for _, md := range []map[string]string{
		six,
		{"": "v"},
		{strings.Repeat("k", 65): "v"},
		{"k": strings.Repeat("v", 513)},
		{"k": "\xff"},
		{"k": "a\x00b"},
		{"a\x00b": "v"},
		{"k\n": "v"},
	} {
		_, err := nh.Applications.Create(ctx, ws.ID, nahook.ApplicationInput{Name: "Bad", Metadata: md})
		wantField(t, fmt.Sprintf("metadata %q", md), err, nahook.ErrInvalid, "metadata")
	}
	list, err := nh.Applications.List(ctx, ws.ID, nahook.ListOptions{})
	is.NoErr(err)
	is.Equal(len(list.Items), 5) // only the valid ones were stored

	_, err = nh.Applications.Update(ctx, ws.ID, app.ID, nahook.ApplicationPatch{Metadata: map[string]string{"": "x"}})
	wantField(t, "update metadata", err, nahook.ErrInvalid, "metadata")
	_, err = nh.Applications.Update(ctx, ws.ID, app.ID, nahook.ApplicationPatch{ExternalID: ptr("no spaces")})
	wantField(t, "update externalId", err, nahook.ErrInvalid, "externalId")
	after, err := nh.Applications.Get(ctx, ws.ID, app.ID)
	is.NoErr(err)
	is.Equal(after, app) // the refused updates changed nothing
}

// An event type name is dot-separated segments of letters, digits, _ and
// -, at most 256 characters; a description is at most 1024 characters
// without NUL, stored trimmed. Anything else is ErrInvalid naming the
// field, and nothing is stored.
func TestInputEventType(t *testing.T) {
	is := is.New(t)
	ctx := context.Background()
	nh, _ := newClientStore(t, nahook.Config{})
	ws, err := nh.Workspaces.Create(ctx, nahook.WorkspaceInput{Name: "Acme"})
	is.NoErr(err)
	long := strings.Repeat("a", 127) + "." + strings.Repeat("b", 128)
	for _, n := range []string{"order.created", "a", "invoice.payment_failed", "A-b.C_d.9", long} {
		et, err := nh.EventTypes.Create(ctx, ws.ID, nahook.EventTypeInput{Name: n, Description: "  An event.  "})
		if err != nil {
			t.Fatalf("name %q: %v", n, err)
		}
		is.True(strings.HasPrefix(string(et.ID), "evt_"))
		is.Equal(et.Description, "An event.") // trimmed
	}
	for _, n := range []string{"", ".a", "a.", "a..b", "order created", "order.*", "*", "ordér.created", long + "c"} {
		_, err := nh.EventTypes.Create(ctx, ws.ID, nahook.EventTypeInput{Name: n})
		wantField(t, fmt.Sprintf("name %q", n), err, nahook.ErrInvalid, "name")
	}
	_, err = nh.EventTypes.Create(ctx, ws.ID, nahook.EventTypeInput{Name: "ok.name", Description: strings.Repeat("d", 1025)})
	wantField(t, "long description", err, nahook.ErrInvalid, "description")
	_, err = nh.EventTypes.Create(ctx, ws.ID, nahook.EventTypeInput{Name: "ok.name", Description: "a\x00b"})
	wantField(t, "NUL description", err, nahook.ErrInvalid, "description") // NUL, which Postgres cannot store
	list, err := nh.EventTypes.List(ctx, ws.ID, nahook.ListOptions{})
	is.NoErr(err)
	is.Equal(len(list.Items), 5) // only the valid ones were stored
	_, err = nh.EventTypes.Update(ctx, ws.ID, list.Items[0].ID, nahook.EventTypePatch{Name: ptr("order..x")})
	wantField(t, "update name", err, nahook.ErrInvalid, "name")
}

// An endpoint URL is an absolute http:// or https:// URL with a valid
// host, at most 2048 characters; hosts that are loopback, private,
// link-local or unspecified, in any spelling, need Config.AllowPrivateURLs,
// and legacy numeric spellings are refused even then. Subscriptions are
// names, "*" or a trailing wildcard, kept in order without duplicates;
// environment and application IDs must be well-formed. Anything else is
// ErrInvalid naming the field, and nothing is stored or changed.
func TestInputEndpoint(t *testing.T) {
	is := is.New(t)
	ctx := context.Background()
	nh, st := newClientStore(t, nahook.Config{})
	ws, err := nh.Workspaces.Create(ctx, nahook.WorkspaceInput{Name: "Acme"})
	is.NoErr(err)
	long := "https://example.com/" + strings.Repeat("a", 2048-len("https://example.com/"))
	for _, u := range []string{
		"https://acme.com/webhooks",
		"http://example.com:8080/hook?source=nahook",
		"https://bücher.example/hook",
		"https://[2606:4700:4700::1111]/hook",
		"https://भारत.भारत/hook",
		"https://my_host.example.com/hook",
		"https://93.184.216.34/hook",
		long,
	} {
		if _, err := nh.Endpoints.Create(ctx, ws.ID, nahook.EndpointInput{URL: u}); err != nil {
			t.Fatalf("url %q: %v", u, err)
		}
	}
	for _, u := range []string{
		"",
		"ftp://example.com/hook",
		"example.com/hook",
		"//example.com/hook",
		"https://",
		"http:///path",
		"https:example.com",
		"https://exa mple.com/",
		"https://example.com:99999/",
		"https://example.com:0/",
		"https://bad_host!.com/",
		"https://1.2.3.4.5/",
		"https://example..com/",
		long + "a",
	} {
		_, err := nh.Endpoints.Create(ctx, ws.ID, nahook.EndpointInput{URL: u})
		wantField(t, fmt.Sprintf("url %q", u), err, nahook.ErrInvalid, "url")
	}
	list, err := nh.Endpoints.List(ctx, ws.ID, nahook.EndpointFilter{}, nahook.ListOptions{})
	is.NoErr(err)
	is.Equal(len(list.Items), 8) // only the valid ones were stored

	private := []string{
		"http://localhost:8080/hook",
		"http://LOCALHOST./hook",
		"http://app.localhost/hook",
		"http://127.0.0.1/hook",
		"http://127.1.2.3/hook",
		"http://10.0.0.1/hook",
		"http://172.16.5.4/hook",
		"http://192.168.1.1/hook",
		"http://169.254.169.254/latest/meta-data",
		"http://0.0.0.0/hook",
		"http://100.64.0.1/hook",
		"http://[::1]/hook",
		"http://[::]/hook",
		"http://[fe80::1%25eth0]/hook",
		"http://[fd00::1]/hook",
		"http://[::ffff:127.0.0.1]/hook",
		"http://[::ffff:10.1.2.3]/hook",
		"http://[::127.0.0.1]/hook",        // IPv4-compatible
		"http://[64:ff9b::a9fe:a9fe]/hook", // NAT64 to 169.254.169.254
		"http://[2002:a9fe:a9fe::]/hook",   // 6to4 from 169.254.169.254
		"http://[::ffff:0:7f00:1]/hook",    // SIIT
		"http://１２７.０.０.１/hook",            // full-width digits, which IDNA maps to 127.0.0.1
		"http://ｌｏｃａｌｈｏｓｔ/hook",            // full-width letters
		"http://192.0.2.10/hook",           // documentation
		"http://[2001:db8::1]/hook",        // documentation
	}
	// Legacy numeric spellings that some resolvers read as 127.0.0.1 are
	// not host names at all: refused even with the opt-in.
	legacy := []string{
		"http://2130706433/hook",
		"http://0x7f000001/hook",
		"http://0177.0.0.1/hook",
		"http://127.1/hook",
	}
	for _, u := range append(private, legacy...) {
		_, err := nh.Endpoints.Create(ctx, ws.ID, nahook.EndpointInput{URL: u})
		wantField(t, fmt.Sprintf("url %q without opting in", u), err, nahook.ErrInvalid, "url")
	}
	local, err := nahook.New(st, nahook.Config{AllowPrivateURLs: true})
	is.NoErr(err)
	defer local.Close()
	for _, u := range private {
		if _, err := local.Endpoints.Create(ctx, ws.ID, nahook.EndpointInput{URL: u}); err != nil {
			t.Fatalf("url %q with AllowPrivateURLs: %v", u, err)
		}
	}
	for _, u := range legacy {
		_, err := local.Endpoints.Create(ctx, ws.ID, nahook.EndpointInput{URL: u})
		wantField(t, fmt.Sprintf("legacy url %q with AllowPrivateURLs", u), err, nahook.ErrInvalid, "url")
	}

	_, err = nh.EventTypes.Create(ctx, ws.ID, nahook.EventTypeInput{Name: "order.created"})
	is.NoErr(err)
	ep, err := nh.Endpoints.Create(ctx, ws.ID, nahook.EndpointInput{URL: "https://acme.com/hook", Description: " Production webhook ",
		EventTypes: []string{"order.created", "invoice.*", "order.created", "*"}})
	is.NoErr(err)
	is.Equal(ep.Description, "Production webhook")                       // trimmed
	is.Equal(ep.EventTypes, []string{"order.created", "invoice.*", "*"}) // ordered, deduplicated
	for _, p := range []string{"order.**", "*.created", "order*", ".*", "order.*.x", "", " order.created"} {
		_, err := nh.Endpoints.Create(ctx, ws.ID, nahook.EndpointInput{URL: "https://acme.com/hook", EventTypes: []string{"order.created", p}})
		wantField(t, fmt.Sprintf("pattern %q", p), err, nahook.ErrInvalid, "eventTypes[1]")
	}
	_, err = nh.Endpoints.Create(ctx, ws.ID, nahook.EndpointInput{URL: "https://acme.com/hook", EnvironmentID: "staging"})
	wantField(t, "malformed environmentId", err, nahook.ErrInvalid, "environmentId")
	_, err = nh.Endpoints.Create(ctx, ws.ID, nahook.EndpointInput{URL: "https://acme.com/hook", ApplicationID: "cust_1"})
	wantField(t, "malformed applicationId", err, nahook.ErrInvalid, "applicationId")

	_, err = nh.Endpoints.Update(ctx, ws.ID, ep.ID, nahook.EndpointPatch{URL: ptr("http://127.0.0.1/"), EventTypes: []string{}})
	wantField(t, "update url", err, nahook.ErrInvalid, "url")
	after, err := nh.Endpoints.Get(ctx, ws.ID, ep.ID)
	is.NoErr(err)
	is.Equal(after, ep) // the refused update changed nothing
}

// API keys are nhk_ (environment) or nhm_ (management) and at least 32
// base62 characters, returned once with their SHA-256 and a short prefix;
// a key of any other shape is refused before it is looked up; a list never
// shows a plaintext, and filters only by known kinds.
func TestInputAPIKey(t *testing.T) {
	is := is.New(t)
	ctx := context.Background()
	nh, _ := newClientStore(t, nahook.Config{})
	ws, err := nh.Workspaces.Create(ctx, nahook.WorkspaceInput{Name: "Acme"})
	is.NoErr(err)
	k, err := nh.APIKeys.Create(ctx, ws.ID, nahook.APIKeyInput{Name: "backend"})
	is.NoErr(err)
	is.True(base62Key(k.Plaintext, "nhk_")) // the plaintext format
	is.True(strings.HasPrefix(string(k.ID), "key_"))
	is.Equal(k.Hash, store.KeyHash(sha256.Sum256([]byte(k.Plaintext)))) // SHA-256 of the plaintext
	is.True(strings.HasPrefix(k.Plaintext, k.Prefix))
	is.True(len(k.Prefix) >= len("nhk_")+4 && len(k.Prefix) <= len("nhk_")+12) // recognisable, not revealing
	m, err := nh.APIKeys.CreateManagement(ctx, ws.ID, "ops")
	is.NoErr(err)
	is.True(base62Key(m.Plaintext, "nhm_"))
	is.Equal(m.Hash, store.KeyHash(sha256.Sum256([]byte(m.Plaintext))))

	_, err = nh.APIKeys.Create(ctx, ws.ID, nahook.APIKeyInput{Name: strings.Repeat("n", 257)})
	wantField(t, "long name", err, nahook.ErrInvalid, "name")

	for _, bad := range []string{"", "nhk_", "Bearer " + k.Plaintext, k.Plaintext + " ", "nhm_" + k.Plaintext[4:], strings.ToUpper(k.Plaintext)} {
		_, err := nh.APIKeys.Authenticate(ctx, bad)
		wantField(t, fmt.Sprintf("key %q", bad), err, nahook.ErrUnauthorized, "")
	}

	secrets := []string{k.Plaintext, m.Plaintext}
	list, err := nh.APIKeys.List(ctx, ws.ID, nahook.APIKeyFilter{}, nahook.ListOptions{})
	is.NoErr(err)
	is.Equal(len(list.Items), 2)
	for _, item := range list.Items {
		listed := fmt.Sprintf("%+v", item)
		for _, secret := range secrets {
			is.True(!strings.Contains(listed, secret[len(item.Prefix):])) // no field holds the rest of a plaintext
		}
	}
	_, err = nh.APIKeys.List(ctx, ws.ID, nahook.APIKeyFilter{Kind: "admin"}, nahook.ListOptions{})
	wantField(t, "kind", err, nahook.ErrInvalid, "kind")
}

// A list returns DefaultLimit items when no limit is given and at most
// MaxLimit; a limit above MaxLimit or below 0 is ErrInvalid naming limit;
// an empty page is empty, not nil. A cursor is opaque and belongs to its
// list: a forged one, or one of another kind of list, is ErrInvalid naming
// cursor.
func TestInputList(t *testing.T) {
	is := is.New(t)
	ctx := context.Background()
	nh, _ := newClientStore(t, nahook.Config{})
	ws, err := nh.Workspaces.Create(ctx, nahook.WorkspaceInput{Name: "Acme"})
	is.NoErr(err)
	for i := range nahook.DefaultLimit + 1 {
		_, err := nh.EventTypes.Create(ctx, ws.ID, nahook.EventTypeInput{Name: fmt.Sprint("type.n", i)})
		is.NoErr(err)
	}
	p, err := nh.EventTypes.List(ctx, ws.ID, nahook.ListOptions{})
	is.NoErr(err)
	is.Equal(len(p.Items), nahook.DefaultLimit) // the default page size
	is.True(p.NextCursor != "")
	p, err = nh.EventTypes.List(ctx, ws.ID, nahook.ListOptions{Cursor: p.NextCursor})
	is.NoErr(err)
	is.Equal(len(p.Items), 1)
	is.Equal(p.NextCursor, "")
	p, err = nh.EventTypes.List(ctx, ws.ID, nahook.ListOptions{Limit: nahook.MaxLimit})
	is.NoErr(err)
	is.Equal(len(p.Items), nahook.DefaultLimit+1)
	is.Equal(p.NextCursor, "") // an exactly-full last page is not followed by an empty one
	for _, limit := range []int{nahook.MaxLimit + 1, -1} {
		_, err = nh.EventTypes.List(ctx, ws.ID, nahook.ListOptions{Limit: limit})
		wantField(t, fmt.Sprint("limit ", limit), err, nahook.ErrInvalid, "limit")
	}
	empty, err := nh.Applications.List(ctx, ws.ID, nahook.ListOptions{})
	is.NoErr(err)
	is.True(empty.Items != nil) // an empty page has an empty, non-nil slice
	is.Equal(len(empty.Items), 0)

	for i := range 3 {
		_, err := nh.Applications.Create(ctx, ws.ID, nahook.ApplicationInput{Name: "Customer", ExternalID: fmt.Sprint("cust_", i)})
		is.NoErr(err)
	}
	apps, err := nh.Applications.List(ctx, ws.ID, nahook.ListOptions{Limit: 1})
	is.NoErr(err)
	is.True(apps.NextCursor != "")
	for _, c := range []string{"garbage", "!!!", string(apps.Items[0].ID)} {
		_, err := nh.Applications.List(ctx, ws.ID, nahook.ListOptions{Cursor: c})
		wantField(t, fmt.Sprintf("cursor %q", c), err, nahook.ErrInvalid, "cursor")
	}
	_, err = nh.EventTypes.List(ctx, ws.ID, nahook.ListOptions{Cursor: apps.NextCursor})
	wantField(t, "another list's cursor", err, nahook.ErrInvalid, "cursor")
}

// A portal session's token is nhp_ and at least 32 base62 characters,
// returned once with its SHA-256 and a URL built from Config.PortalURL; it
// lasts 1h by default and at most 24h; its application ID is required and
// well-formed; a token of any other shape is refused; a PortalURL that is
// not absolute is refused at New.
func TestInputPortalSession(t *testing.T) {
	is := is.New(t)
	ctx := context.Background()
	nh, st := newClientStore(t, nahook.Config{PortalURL: "https://portal.example.com/portal/"})
	ws, err := nh.Workspaces.Create(ctx, nahook.WorkspaceInput{Name: "Acme"})
	is.NoErr(err)
	app, err := nh.Applications.Create(ctx, ws.ID, nahook.ApplicationInput{Name: "Customer"})
	is.NoErr(err)
	s, err := nh.PortalSessions.Create(ctx, ws.ID, nahook.PortalSessionInput{ApplicationID: app.ID})
	is.NoErr(err)
	is.True(base62Key(s.Token, "nhp_"))
	is.True(strings.HasPrefix(string(s.ID), "ps_"))
	is.Equal(s.URL, "https://portal.example.com/portal/#token="+s.Token) // the token rides in the fragment
	is.Equal(s.Hash, store.KeyHash(sha256.Sum256([]byte(s.Token))))
	is.Equal(s.ExpiresAt, s.CreatedAt.Add(time.Hour))

	for _, c := range []struct {
		in    nahook.PortalSessionInput
		field string
	}{
		{nahook.PortalSessionInput{ApplicationID: app.ID, ExpiresIn: 24*time.Hour + time.Second}, "expiresIn"},
		{nahook.PortalSessionInput{ApplicationID: app.ID, ExpiresIn: -time.Minute}, "expiresIn"},
		{nahook.PortalSessionInput{}, "applicationId"},
		{nahook.PortalSessionInput{ApplicationID: "cust_1"}, "applicationId"},
	} {
		_, err := nh.PortalSessions.Create(ctx, ws.ID, c.in)
		wantField(t, fmt.Sprintf("%+v", c.in), err, nahook.ErrInvalid, c.field)
	}
	for _, bad := range []string{"", "nhp_", s.Token[:len(s.Token)-1], s.Token + "x", "nhp_" + strings.Repeat("A", 40), strings.Replace(s.Token, "nhp_", "nhk_", 1)} {
		_, err := nh.PortalSessions.Authenticate(ctx, bad)
		wantField(t, fmt.Sprintf("token %q", bad), err, nahook.ErrUnauthorized, "")
	}
	_, err = nahook.New(st, nahook.Config{PortalURL: "portal.example.com"})
	is.True(err != nil) // a PortalURL that is not absolute is refused at New

	// The URL is checked before the subscriptions, as everywhere.
	p, err := nh.PortalSessions.Authenticate(ctx, s.Token)
	is.NoErr(err)
	_, err = p.CreateEndpoint(ctx, nahook.PortalEndpointInput{URL: "ftp://a.example/hook", EventTypes: []string{"user.deleted"}})
	wantField(t, "portal url", err, nahook.ErrInvalid, "url")
}

// An ingested payload is valid JSON in UTF-8; an idempotency key and an
// application ID are well-formed; a delivery status filter is a known
// status. Anything else is ErrInvalid naming the field, and nothing is
// stored.
func TestInputEvent(t *testing.T) {
	is := is.New(t)
	ctx := context.Background()
	nh, st := newClientStore(t, nahook.Config{})
	ws, err := nh.Workspaces.Create(ctx, nahook.WorkspaceInput{Name: "Acme"})
	is.NoErr(err)
	env, err := nh.Environments.Default(ctx, ws.ID)
	is.NoErr(err)
	et, err := nh.EventTypes.Create(ctx, ws.ID, nahook.EventTypeInput{Name: "order.created"})
	is.NoErr(err)
	is.NoErr(nh.EventTypes.SetPublished(ctx, ws.ID, env.ID, et.ID, true))
	_, err = nh.Endpoints.Create(ctx, ws.ID, nahook.EndpointInput{URL: "https://a.example/hook", EventTypes: []string{"*"}})
	is.NoErr(err)
	key, err := nh.APIKeys.Create(ctx, ws.ID, nahook.APIKeyInput{})
	is.NoErr(err)
	for _, c := range []struct {
		in    nahook.IngestInput
		field string
	}{
		{nahook.IngestInput{Payload: []byte(`{"broken":`)}, "payload"},
		{nahook.IngestInput{Payload: []byte("{\"name\": \"caf\xe9\"}")}, "payload"}, // JSON is UTF-8
		{nahook.IngestInput{Payload: []byte(`{}`), IdempotencyKey: "has space"}, "idempotencyKey"},
		{nahook.IngestInput{Payload: []byte(`{}`), ApplicationID: "acme"}, "applicationId"},
		{nahook.IngestInput{Payload: []byte(`{}`), ApplicationID: "app_01kaaaaaaaaaaaaaaaaaaaaaaa", ApplicationExternalID: "cust_1"}, "applicationExternalId"},
		{nahook.IngestInput{Payload: []byte(`{}`), ApplicationID: "app_01kaaaaaaaaaaaaaaaaaaaaaaa", Broadcast: true}, "broadcast"},
		{nahook.IngestInput{Payload: []byte(`{}`), ApplicationExternalID: "cust_1", Broadcast: true}, "broadcast"},
	} {
		_, err := nh.Events.Ingest(ctx, key.Plaintext, "order.created", c.in)
		wantField(t, fmt.Sprintf("%q", c.in.Payload), err, nahook.ErrInvalid, c.field)
	}
	ds, err := st.ListDeliveries(ctx, ws.ID, store.DeliveryFilter{}, store.PageRequest{Limit: 100})
	is.NoErr(err)
	is.Equal(len(ds), 0) // the refused ingests stored nothing
	_, err = nh.Deliveries.List(ctx, ws.ID, nahook.DeliveryFilter{Status: "lost"}, nahook.ListOptions{})
	wantField(t, "status", err, nahook.ErrInvalid, "status")
}

// An ID that is malformed or of another kind is ErrNotFound for get,
// change and delete alike, as an ID that exists nowhere is: the services
// refuse it before asking a store.
func TestInputMalformedIDs(t *testing.T) {
	is := is.New(t)
	ctx := context.Background()
	nh, _ := newClientStore(t, nahook.Config{})
	ws, err := nh.Workspaces.Create(ctx, nahook.WorkspaceInput{Name: "Acme"})
	is.NoErr(err)
	env, err := nh.Environments.Create(ctx, ws.ID, nahook.EnvironmentInput{Name: "Staging", Slug: "staging"})
	is.NoErr(err)
	app, err := nh.Applications.Create(ctx, ws.ID, nahook.ApplicationInput{Name: "Customer"})
	is.NoErr(err)
	et, err := nh.EventTypes.Create(ctx, ws.ID, nahook.EventTypeInput{Name: "order.created"})
	is.NoErr(err)
	ep, err := nh.Endpoints.Create(ctx, ws.ID, nahook.EndpointInput{URL: "https://a.example/hook"})
	is.NoErr(err)
	key, err := nh.APIKeys.Create(ctx, ws.ID, nahook.APIKeyInput{})
	is.NoErr(err)
	for _, k := range []struct {
		kind   string
		id     string
		calls  func(id string) []error
		prefix string
	}{
		{"environment", string(env.ID), func(id string) []error {
			_, g := nh.Environments.Get(ctx, ws.ID, nahook.EnvironmentID(id))
			_, u := nh.Environments.Update(ctx, ws.ID, nahook.EnvironmentID(id), nahook.EnvironmentPatch{Name: ptr("x")})
			return []error{g, u, nh.Environments.Delete(ctx, ws.ID, nahook.EnvironmentID(id))}
		}, "env"},
		{"application", string(app.ID), func(id string) []error {
			_, g := nh.Applications.Get(ctx, ws.ID, nahook.ApplicationID(id))
			_, u := nh.Applications.Update(ctx, ws.ID, nahook.ApplicationID(id), nahook.ApplicationPatch{Name: ptr("x")})
			return []error{g, u, nh.Applications.Delete(ctx, ws.ID, nahook.ApplicationID(id))}
		}, "app"},
		{"event type", string(et.ID), func(id string) []error {
			_, g := nh.EventTypes.Get(ctx, ws.ID, nahook.EventTypeID(id))
			_, u := nh.EventTypes.Update(ctx, ws.ID, nahook.EventTypeID(id), nahook.EventTypePatch{Name: ptr("x")})
			return []error{g, u, nh.EventTypes.Delete(ctx, ws.ID, nahook.EventTypeID(id))}
		}, "evt"},
		{"endpoint", string(ep.ID), func(id string) []error {
			_, g := nh.Endpoints.Get(ctx, ws.ID, nahook.EndpointID(id))
			_, u := nh.Endpoints.Update(ctx, ws.ID, nahook.EndpointID(id), nahook.EndpointPatch{URL: ptr("https://b.example/")})
			_, s := nh.Endpoints.Secret(ctx, ws.ID, nahook.EndpointID(id))
			return []error{g, u, s, nh.Endpoints.Delete(ctx, ws.ID, nahook.EndpointID(id))}
		}, "ep"},
		{"API key", string(key.ID), func(id string) []error {
			_, g := nh.APIKeys.Get(ctx, ws.ID, nahook.APIKeyID(id))
			_, r := nh.APIKeys.Revoke(ctx, ws.ID, nahook.APIKeyID(id))
			return []error{g, r}
		}, "key"},
	} {
		bad := []string{"", "nonsense", k.id[:len(k.id)-1], "ws_01kaaaaaaaaaaaaaaaaaaaaaaa", "x" + k.id, "\n" + k.id, typeid.New(k.prefix)}
		for _, id := range bad {
			for i, err := range k.calls(id) {
				wantField(t, fmt.Sprintf("%s %q, call %d", k.kind, id, i), err, nahook.ErrNotFound, "")
			}
		}
	}
}
