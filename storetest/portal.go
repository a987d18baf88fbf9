package storetest

import (
	"crypto/sha256"
	"strings"
	"testing"
	"time"

	"github.com/matryer/is"

	"github.com/nahook/nahook"
	"github.com/nahook/nahook/store"
)

func (h *harness) portalSession(t *testing.T, ws nahook.WorkspaceID, in nahook.PortalSessionInput) nahook.IssuedPortalSession {
	t.Helper()
	s, err := h.nh.PortalSessions.Create(h.ctx, ws, in)
	if err != nil {
		t.Fatalf("create portal session: %v", err)
	}
	return s
}

func (h *harness) portal(t *testing.T, token string) *nahook.Portal {
	t.Helper()
	p, err := h.nh.PortalSessions.Authenticate(h.ctx, token)
	if err != nil {
		t.Fatalf("authenticate portal session: %v", err)
	}
	return p
}

var portalTests = []test{
	{
		name:     "PortalSessions.Create/Token",
		contract: "A portal session's token is nhp_ and at least 32 base62 characters, returned once with a URL built from Config.PortalURL; the store keeps its SHA-256; it lasts 1h by default, at most 24h, in the default environment unless one is given.",
		run: func(t *testing.T, h *harness) {
			is := is.New(t)
			nh := h.client(t, nahook.Config{PortalURL: "https://portal.example.com/portal/"})
			ws := h.workspace(t)
			app := h.app(t, ws.ID, "cust_1")
			s, err := nh.PortalSessions.Create(h.ctx, ws.ID, nahook.PortalSessionInput{ApplicationID: app.ID})
			is.NoErr(err)
			is.True(base62Key(s.Token, "nhp_"))
			is.True(strings.HasPrefix(string(s.ID), "ps_"))
			is.Equal(s.URL, "https://portal.example.com/portal/#token="+s.Token) // the token rides in the fragment
			is.Equal(s.Hash, store.KeyHash(sha256.Sum256([]byte(s.Token))))
			is.Equal(s.ApplicationID, app.ID)
			is.Equal(s.EnvironmentID, h.defaultEnv(t, ws.ID).ID)
			is.Equal(s.CreatedAt, start.UTC().Truncate(time.Millisecond))
			is.Equal(s.ExpiresAt, s.CreatedAt.Add(time.Hour))
			stored, err := nh.PortalSessions.Get(h.ctx, ws.ID, s.ID)
			is.NoErr(err)
			is.Equal(stored, s.PortalSession) // all but the token

			staging := h.env(t, ws.ID, "staging")
			day := h.portalSession(t, ws.ID, nahook.PortalSessionInput{ApplicationID: app.ID, EnvironmentID: staging.ID, ExpiresIn: 24 * time.Hour})
			is.Equal(day.EnvironmentID, staging.ID)
			is.Equal(day.ExpiresAt, day.CreatedAt.Add(24*time.Hour))
			is.Equal(day.URL, "") // no PortalURL configured

			_, err = h.nh.PortalSessions.Create(h.ctx, ws.ID, nahook.PortalSessionInput{ApplicationID: app.ID, ExpiresIn: 24*time.Hour + time.Second})
			wantErr(t, err, nahook.ErrInvalid, "expiresIn")
			_, err = h.nh.PortalSessions.Create(h.ctx, ws.ID, nahook.PortalSessionInput{ApplicationID: app.ID, ExpiresIn: -time.Minute})
			wantErr(t, err, nahook.ErrInvalid, "expiresIn")
			_, err = h.nh.PortalSessions.Create(h.ctx, ws.ID, nahook.PortalSessionInput{})
			wantErr(t, err, nahook.ErrInvalid, "applicationId")
			_, err = h.nh.PortalSessions.Create(h.ctx, ws.ID, nahook.PortalSessionInput{ApplicationID: "cust_1"})
			wantErr(t, err, nahook.ErrInvalid, "applicationId")

			other := h.workspace(t)
			theirs := h.app(t, other.ID, "cust_1")
			_, err = h.nh.PortalSessions.Create(h.ctx, ws.ID, nahook.PortalSessionInput{ApplicationID: theirs.ID})
			wantErr(t, err, nahook.ErrNotFound, "applicationId")
			_, err = h.nh.PortalSessions.Create(h.ctx, ws.ID, nahook.PortalSessionInput{ApplicationID: app.ID, EnvironmentID: h.defaultEnv(t, other.ID).ID})
			wantErr(t, err, nahook.ErrNotFound, "environmentId")
			_, err = h.nh.PortalSessions.Get(h.ctx, other.ID, s.ID)
			wantErr(t, err, nahook.ErrNotFound, "")

			_, err = nahook.New(h.st, nahook.Config{PortalURL: "portal.example.com"})
			is.True(err != nil) // a PortalURL that is not absolute is refused at New
		},
	},
	{
		name:     "PortalSessions.Authenticate/Expiry",
		contract: "A token opens its session's portal until the session expires; an expired, unknown or malformed token is ErrUnauthorized, all alike, and a Portal held past expiry refuses every call.",
		run: func(t *testing.T, h *harness) {
			is := is.New(t)
			ws := h.workspace(t)
			app := h.app(t, ws.ID, "cust_1")
			s := h.portalSession(t, ws.ID, nahook.PortalSessionInput{ApplicationID: app.ID, ExpiresIn: 10 * time.Minute})
			p := h.portal(t, s.Token)
			is.Equal(p.Session(), s.PortalSession)
			got, err := p.Application(h.ctx)
			is.NoErr(err)
			is.Equal(got.ID, app.ID)

			for _, bad := range []string{"", "nhp_", s.Token[:len(s.Token)-1], s.Token + "x", "nhp_" + strings.Repeat("A", 40), strings.Replace(s.Token, "nhp_", "nhk_", 1)} {
				_, err := h.nh.PortalSessions.Authenticate(h.ctx, bad)
				wantErr(t, err, nahook.ErrUnauthorized, "")
			}

			h.advance(10*time.Minute - time.Millisecond)
			_, err = h.nh.PortalSessions.Authenticate(h.ctx, s.Token)
			is.NoErr(err) // a millisecond before expiry
			h.advance(time.Millisecond)
			_, err = h.nh.PortalSessions.Authenticate(h.ctx, s.Token)
			wantErr(t, err, nahook.ErrUnauthorized, "")
			_, err = p.ListEndpoints(h.ctx, nahook.ListOptions{})
			wantErr(t, err, nahook.ErrUnauthorized, "")
			_, err = p.CreateEndpoint(h.ctx, nahook.PortalEndpointInput{URL: "https://a.example/hook"})
			wantErr(t, err, nahook.ErrUnauthorized, "")
		},
	},
	{
		name:     "PortalSessions.Revoke/OneAndAll",
		contract: "Revoking a session refuses its token from then on and keeps the first revocation time; revoking all of an application's sessions ends only its active ones and counts them; List shows only active sessions.",
		run: func(t *testing.T, h *harness) {
			is := is.New(t)
			ws := h.workspace(t)
			app := h.app(t, ws.ID, "cust_1")
			otherApp := h.app(t, ws.ID, "cust_2")
			s1 := h.portalSession(t, ws.ID, nahook.PortalSessionInput{ApplicationID: app.ID})
			s2 := h.portalSession(t, ws.ID, nahook.PortalSessionInput{ApplicationID: app.ID})
			s3 := h.portalSession(t, ws.ID, nahook.PortalSessionInput{ApplicationID: app.ID, ExpiresIn: time.Minute})
			keep := h.portalSession(t, ws.ID, nahook.PortalSessionInput{ApplicationID: otherApp.ID})

			h.tick()
			r, err := h.nh.PortalSessions.Revoke(h.ctx, ws.ID, s1.ID)
			is.NoErr(err)
			is.Equal(r.RevokedAt, h.clock().UTC().Truncate(time.Millisecond))
			_, err = h.nh.PortalSessions.Authenticate(h.ctx, s1.Token)
			wantErr(t, err, nahook.ErrUnauthorized, "")
			h.tick()
			again, err := h.nh.PortalSessions.Revoke(h.ctx, ws.ID, s1.ID)
			is.NoErr(err)
			is.Equal(again.RevokedAt, r.RevokedAt) // the first revocation stands

			h.advance(2 * time.Minute) // s3 has expired
			active := all(t, func(o nahook.ListOptions) (nahook.Page[nahook.PortalSession], error) {
				return h.nh.PortalSessions.List(h.ctx, ws.ID, app.ID, o)
			})
			is.Equal(len(active), 1)
			is.Equal(active[0].ID, s2.ID)

			n, err := h.nh.PortalSessions.RevokeAll(h.ctx, ws.ID, app.ID)
			is.NoErr(err)
			is.Equal(n, 1) // s2 only: s1 was revoked, s3 expired
			_, err = h.nh.PortalSessions.Authenticate(h.ctx, s2.Token)
			wantErr(t, err, nahook.ErrUnauthorized, "")
			_, err = h.nh.PortalSessions.Authenticate(h.ctx, keep.Token)
			is.NoErr(err) // another application's session is untouched
			expired, err := h.nh.PortalSessions.Get(h.ctx, ws.ID, s3.ID)
			is.NoErr(err)
			is.True(expired.RevokedAt.IsZero())

			other := h.workspace(t)
			_, err = h.nh.PortalSessions.Revoke(h.ctx, other.ID, keep.ID)
			wantErr(t, err, nahook.ErrNotFound, "")
			_, err = h.nh.PortalSessions.RevokeAll(h.ctx, other.ID, otherApp.ID)
			wantErr(t, err, nahook.ErrNotFound, "applicationId")
			_, err = h.nh.PortalSessions.Authenticate(h.ctx, keep.Token)
			is.NoErr(err) // a refused revocation revoked nothing
		},
	},
	{
		name:     "PortalSessions/Cascade",
		contract: "Deleting a session's application or environment deletes the session: its token is refused and the session is not found.",
		run: func(t *testing.T, h *harness) {
			is := is.New(t)
			ws := h.workspace(t)
			app := h.app(t, ws.ID, "cust_1")
			staging := h.env(t, ws.ID, "staging")
			byApp := h.portalSession(t, ws.ID, nahook.PortalSessionInput{ApplicationID: app.ID})
			byEnv := h.portalSession(t, ws.ID, nahook.PortalSessionInput{ApplicationID: h.app(t, ws.ID, "cust_2").ID, EnvironmentID: staging.ID})

			is.NoErr(h.nh.Applications.Delete(h.ctx, ws.ID, app.ID))
			_, err := h.nh.PortalSessions.Authenticate(h.ctx, byApp.Token)
			wantErr(t, err, nahook.ErrUnauthorized, "")
			_, err = h.nh.PortalSessions.Get(h.ctx, ws.ID, byApp.ID)
			wantErr(t, err, nahook.ErrNotFound, "")

			_, err = h.nh.PortalSessions.Authenticate(h.ctx, byEnv.Token)
			is.NoErr(err)
			is.NoErr(h.nh.Environments.Delete(h.ctx, ws.ID, staging.ID))
			_, err = h.nh.PortalSessions.Authenticate(h.ctx, byEnv.Token)
			wantErr(t, err, nahook.ErrUnauthorized, "")
			_, err = h.nh.PortalSessions.Get(h.ctx, ws.ID, byEnv.ID)
			wantErr(t, err, nahook.ErrNotFound, "")
		},
	},
	{
		name:     "Portal/Scope",
		contract: "A portal reaches exactly its application's endpoints in its environment: it lists, creates, reads, updates, deletes them and reads their secrets and deliveries; any other endpoint is ErrNotFound on every call and is left as it was.",
		run: func(t *testing.T, h *harness) {
			is := is.New(t)
			o := h.outbox(t) // endpoints a and b belong to no application
			staging := h.env(t, o.ws.ID, "staging")
			app := h.app(t, o.ws.ID, "cust_1")
			rival := h.app(t, o.ws.ID, "cust_2")
			mine := h.endpoint(t, o.ws.ID, nahook.EndpointInput{ApplicationID: app.ID, URL: "https://mine.example/hook", EventTypes: []string{"order.created"}})
			theirs := h.endpoint(t, o.ws.ID, nahook.EndpointInput{ApplicationID: rival.ID, URL: "https://theirs.example/hook"})
			mineStaging := h.endpoint(t, o.ws.ID, nahook.EndpointInput{ApplicationID: app.ID, EnvironmentID: staging.ID})
			otherWS := h.workspace(t)
			elsewhere := h.endpoint(t, otherWS.ID, nahook.EndpointInput{ApplicationID: h.app(t, otherWS.ID, "cust_1").ID})
			p := h.portal(t, h.portalSession(t, o.ws.ID, nahook.PortalSessionInput{ApplicationID: app.ID}).Token)

			eps := all(t, func(o nahook.ListOptions) (nahook.Page[nahook.Endpoint], error) { return p.ListEndpoints(h.ctx, o) })
			is.Equal(len(eps), 1)
			is.Equal(eps[0].ID, mine.ID)

			created, err := p.CreateEndpoint(h.ctx, nahook.PortalEndpointInput{URL: "https://new.example/hook", Description: "mine too", EventTypes: []string{"order.*"}})
			is.NoErr(err)
			is.Equal(created.ApplicationID, app.ID)
			is.Equal(created.EnvironmentID, o.env.ID)
			eps = all(t, func(o nahook.ListOptions) (nahook.Page[nahook.Endpoint], error) { return p.ListEndpoints(h.ctx, o) })
			is.Equal(len(eps), 2)

			got, err := p.GetEndpoint(h.ctx, mine.ID)
			is.NoErr(err)
			is.Equal(got, mine)
			updated, err := p.UpdateEndpoint(h.ctx, mine.ID, nahook.EndpointPatch{Disabled: ptr(true)})
			is.NoErr(err)
			is.True(updated.Disabled)
			secret, err := p.Secret(h.ctx, mine.ID)
			is.NoErr(err)
			want, err := h.nh.Endpoints.Secret(h.ctx, o.ws.ID, mine.ID)
			is.NoErr(err)
			is.Equal(secret, want)
			rotated, err := p.RotateSecret(h.ctx, mine.ID)
			is.NoErr(err)
			is.True(rotated != secret)
			_, err = p.ListDeliveries(h.ctx, mine.ID, "", nahook.ListOptions{})
			is.NoErr(err)
			is.NoErr(p.DeleteEndpoint(h.ctx, created.ID))

			for _, ep := range []nahook.Endpoint{theirs, mineStaging, o.a, elsewhere} {
				_, err := p.GetEndpoint(h.ctx, ep.ID)
				wantErr(t, err, nahook.ErrNotFound, "")
				_, err = p.UpdateEndpoint(h.ctx, ep.ID, nahook.EndpointPatch{URL: ptr("https://stolen.example/hook")})
				wantErr(t, err, nahook.ErrNotFound, "")
				err = p.DeleteEndpoint(h.ctx, ep.ID)
				wantErr(t, err, nahook.ErrNotFound, "")
				_, err = p.Secret(h.ctx, ep.ID)
				wantErr(t, err, nahook.ErrNotFound, "")
				_, err = p.RotateSecret(h.ctx, ep.ID)
				wantErr(t, err, nahook.ErrNotFound, "")
				_, err = p.ListDeliveries(h.ctx, ep.ID, "", nahook.ListOptions{})
				wantErr(t, err, nahook.ErrNotFound, "")
				still, err := h.nh.Endpoints.Get(h.ctx, ep.WorkspaceID, ep.ID)
				is.NoErr(err)
				is.Equal(still, ep) // untouched
			}
		},
	},
	{
		name:     "Portal/EventTypes",
		contract: "A portal sees only the event types published in its environment, by name, and may subscribe only to those (or wildcards); a name an endpoint already has survives an edit.",
		run: func(t *testing.T, h *harness) {
			is := is.New(t)
			ws := h.workspace(t)
			env := h.defaultEnv(t, ws.ID)
			staging := h.env(t, ws.ID, "staging")
			for _, n := range []string{"order.created", "invoice.paid", "user.deleted"} {
				h.eventType(t, ws.ID, n)
			}
			vis, err := h.nh.EventTypes.Visibility(h.ctx, ws.ID, env.ID)
			is.NoErr(err)
			for _, v := range vis {
				if v.EventTypeName != "user.deleted" {
					h.publish(t, ws.ID, env.ID, v.EventTypeID)
				} else {
					h.publish(t, ws.ID, staging.ID, v.EventTypeID) // published, but elsewhere
				}
			}
			app := h.app(t, ws.ID, "cust_1")
			p := h.portal(t, h.portalSession(t, ws.ID, nahook.PortalSessionInput{ApplicationID: app.ID}).Token)
			types, err := p.EventTypes(h.ctx)
			is.NoErr(err)
			var names []string
			for _, et := range types {
				names = append(names, et.Name)
			}
			is.Equal(names, []string{"invoice.paid", "order.created"})

			_, err = p.CreateEndpoint(h.ctx, nahook.PortalEndpointInput{URL: "https://a.example/hook", EventTypes: []string{"order.created", "user.deleted"}})
			wantErr(t, err, nahook.ErrInvalid, "eventTypes[1]")
			_, err = p.CreateEndpoint(h.ctx, nahook.PortalEndpointInput{URL: "ftp://a.example/hook", EventTypes: []string{"user.deleted"}})
			wantErr(t, err, nahook.ErrInvalid, "url") // the URL is checked first, as everywhere
			ep, err := p.CreateEndpoint(h.ctx, nahook.PortalEndpointInput{URL: "https://a.example/hook", EventTypes: []string{"*", "user.*", "order.created"}})
			is.NoErr(err)
			is.Equal(ep.EventTypes, []string{"*", "user.*", "order.created"})

			// The operator subscribes it to user.deleted; the customer's edit keeps it.
			_, err = h.nh.Endpoints.Update(h.ctx, ws.ID, ep.ID, nahook.EndpointPatch{EventTypes: []string{"order.created", "user.deleted"}})
			is.NoErr(err)
			kept, err := p.UpdateEndpoint(h.ctx, ep.ID, nahook.EndpointPatch{EventTypes: []string{"user.deleted", "invoice.paid"}})
			is.NoErr(err)
			is.Equal(kept.EventTypes, []string{"user.deleted", "invoice.paid"})
			_, err = p.UpdateEndpoint(h.ctx, ep.ID, nahook.EndpointPatch{EventTypes: []string{"invoice.paid", "nope.never"}})
			wantErr(t, err, nahook.ErrInvalid, "eventTypes[1]")
		},
	},
	{
		name:     "Portal/EndpointLimit",
		contract: "A portal adds endpoints only while its application has fewer than Config.PortalMaxEndpoints in the environment (ErrLimitExceeded after, writing nothing); other environments and applications count apart, and EndpointService is not limited.",
		run: func(t *testing.T, h *harness) {
			is := is.New(t)
			nh := h.client(t, nahook.Config{PortalMaxEndpoints: 2})
			ws := h.workspace(t)
			app := h.app(t, ws.ID, "cust_1")
			staging := h.env(t, ws.ID, "staging")
			s, err := nh.PortalSessions.Create(h.ctx, ws.ID, nahook.PortalSessionInput{ApplicationID: app.ID})
			is.NoErr(err)
			p, err := nh.PortalSessions.Authenticate(h.ctx, s.Token)
			is.NoErr(err)
			h.endpoint(t, ws.ID, nahook.EndpointInput{ApplicationID: app.ID, EnvironmentID: staging.ID}) // elsewhere: not counted
			h.endpoint(t, ws.ID, nahook.EndpointInput{ApplicationID: h.app(t, ws.ID, "cust_2").ID})      // another's: not counted
			for range 2 {
				_, err := p.CreateEndpoint(h.ctx, nahook.PortalEndpointInput{URL: "https://a.example/hook"})
				is.NoErr(err)
			}
			_, err = p.CreateEndpoint(h.ctx, nahook.PortalEndpointInput{URL: "https://a.example/hook"})
			wantErr(t, err, nahook.ErrLimitExceeded, "")
			eps := all(t, func(o nahook.ListOptions) (nahook.Page[nahook.Endpoint], error) { return p.ListEndpoints(h.ctx, o) })
			is.Equal(len(eps), 2) // the refused create wrote nothing
			_, err = nh.Endpoints.Create(h.ctx, ws.ID, nahook.EndpointInput{ApplicationID: app.ID, URL: "https://ops.example/hook"})
			is.NoErr(err) // the operator is not limited
			is.NoErr(p.DeleteEndpoint(h.ctx, eps[0].ID))
			_, err = p.CreateEndpoint(h.ctx, nahook.PortalEndpointInput{URL: "https://a.example/hook"})
			wantErr(t, err, nahook.ErrLimitExceeded, "") // still 2 with the operator's
		},
	},
	{
		name:     "Events.Ingest/ForApplication",
		contract: "An event ingested for an application goes to that application's routed endpoints only, whatever others subscribe to; an application not in the workspace is ErrNotFound naming applicationId and stores nothing; a direct ingest for an application refuses another's endpoint.",
		run: func(t *testing.T, h *harness) {
			is := is.New(t)
			o := h.outbox(t) // a and b belong to no application
			acme := h.app(t, o.ws.ID, "acme")
			globex := h.app(t, o.ws.ID, "globex")
			acmeEP := h.endpoint(t, o.ws.ID, nahook.EndpointInput{ApplicationID: acme.ID, URL: "https://acme.example/hook", EventTypes: []string{"order.created"}})
			p := h.portal(t, h.portalSession(t, o.ws.ID, nahook.PortalSessionInput{ApplicationID: globex.ID}).Token)
			greedy, err := p.CreateEndpoint(h.ctx, nahook.PortalEndpointInput{URL: "https://globex.example/all", EventTypes: []string{"*"}})
			is.NoErr(err)

			in, err := h.nh.Events.Ingest(h.ctx, o.key.Plaintext, "order.created", nahook.IngestInput{Payload: []byte(`{"for":"acme"}`), ApplicationID: acme.ID})
			is.NoErr(err)
			is.Equal(endpointsOf(in.Deliveries), []nahook.EndpointID{acmeEP.ID}) // not globex's "*", not the unowned ones
			list, err := p.ListDeliveries(h.ctx, greedy.ID, "", nahook.ListOptions{})
			is.NoErr(err)
			is.Equal(len(list.Items), 0) // globex never sees acme's event

			all, err := h.nh.Events.Ingest(h.ctx, o.key.Plaintext, "order.created", nahook.IngestInput{Payload: []byte(`{}`)})
			is.NoErr(err)
			is.Equal(len(all.Deliveries), 4) // untargeted: every subscribed endpoint, as the route says

			other := h.workspace(t)
			before, err := h.nh.Deliveries.List(h.ctx, o.ws.ID, nahook.DeliveryFilter{}, nahook.ListOptions{Limit: nahook.MaxLimit})
			is.NoErr(err)
			_, err = h.nh.Events.Ingest(h.ctx, o.key.Plaintext, "order.created", nahook.IngestInput{Payload: []byte(`{}`), ApplicationID: h.app(t, other.ID, "acme").ID})
			wantErr(t, err, nahook.ErrNotFound, "applicationId")
			_, err = h.nh.Events.Ingest(h.ctx, o.key.Plaintext, "order.created", nahook.IngestInput{Payload: []byte(`{}`), ApplicationID: "acme"})
			wantErr(t, err, nahook.ErrInvalid, "applicationId")
			after, err := h.nh.Deliveries.List(h.ctx, o.ws.ID, nahook.DeliveryFilter{}, nahook.ListOptions{Limit: nahook.MaxLimit})
			is.NoErr(err)
			is.Equal(len(after.Items), len(before.Items)) // refused ingests stored nothing

			direct, err := h.nh.Events.IngestDirect(h.ctx, o.key.Plaintext, acmeEP.ID, nahook.IngestInput{Payload: []byte(`{}`), ApplicationID: acme.ID})
			is.NoErr(err)
			is.Equal(len(direct.Deliveries), 1)
			_, err = h.nh.Events.IngestDirect(h.ctx, o.key.Plaintext, greedy.ID, nahook.IngestInput{Payload: []byte(`{}`), ApplicationID: acme.ID})
			wantErr(t, err, nahook.ErrNotFound, "applicationId")
		},
	},
	{
		name:     "Deliveries.List/NewestFirst",
		contract: "Deliveries list newest first when asked, every one exactly once across pages.",
		run: func(t *testing.T, h *harness) {
			is := is.New(t)
			o := h.outbox(t)
			var want []nahook.DeliveryID
			for range 5 {
				in := o.ingest(t, `{}`, "")
				for _, d := range in.Deliveries {
					if d.EndpointID == o.a.ID {
						want = append([]nahook.DeliveryID{d.ID}, want...)
					}
				}
			}
			got := all(t, func(opts nahook.ListOptions) (nahook.Page[nahook.Delivery], error) {
				opts.Limit = 2
				return h.nh.Deliveries.List(h.ctx, o.ws.ID, nahook.DeliveryFilter{EndpointID: o.a.ID, NewestFirst: true}, opts)
			})
			var ids []nahook.DeliveryID
			for _, d := range got {
				ids = append(ids, d.ID)
			}
			is.Equal(ids, want)
		},
	},
}

var portalConcurrencyTests = []test{
	{
		name:     "Concurrency/PortalEndpointLimit",
		contract: "The portal's endpoint limit holds under concurrent creates: 60 parallel portal creates for one application leave exactly DefaultPortalMaxEndpoints endpoints, every refused create failing with ErrLimitExceeded.",
		run: func(t *testing.T, h *harness) {
			is := is.New(t)
			ws := h.workspace(t)
			app := h.app(t, ws.ID, "cust_1")
			token := h.portalSession(t, ws.ID, nahook.PortalSessionInput{ApplicationID: app.ID}).Token
			errs := race(60, func(i int) error {
				p, err := h.racer(i).PortalSessions.Authenticate(h.ctx, token)
				if err != nil {
					return err
				}
				_, err = p.CreateEndpoint(h.ctx, nahook.PortalEndpointInput{URL: "https://a.example/hook"})
				return err
			})
			counts := tally(t, errs, nahook.ErrLimitExceeded)
			is.Equal(counts[nil], nahook.DefaultPortalMaxEndpoints)
			is.Equal(counts[nahook.ErrLimitExceeded], 60-nahook.DefaultPortalMaxEndpoints)
			eps, err := h.st.ListEndpoints(h.ctx, ws.ID, store.EndpointFilter{ApplicationID: app.ID}, store.Page{Limit: 100})
			is.NoErr(err)
			is.Equal(len(eps), nahook.DefaultPortalMaxEndpoints)
		},
	},
}
