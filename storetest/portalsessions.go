package storetest

import (
	"testing"
	"time"

	"github.com/matryer/is"

	"github.com/nahook/nahook"
	"github.com/nahook/nahook/store"
)

var portalSessionTests = join(
	[]test{
		{
			name:     "CreatePortalSession/Fields",
			contract: "A stored portal session reads back exactly as created, by ID and by the hash of its token, in the environment it was given (the default one unless another).",
			run: func(t *testing.T, h *harness) {
				is := is.New(t)
				ws := h.workspace(t)
				app := h.app(t, ws.ID, "cust_1")
				s := h.portalSession(t, ws.ID, nahook.PortalSessionInput{ApplicationID: app.ID})
				is.Equal(s.ApplicationID, app.ID)
				is.Equal(s.EnvironmentID, h.defaultEnv(t, ws.ID).ID)
				is.Equal(s.CreatedAt, start.UTC().Truncate(time.Millisecond))
				is.Equal(s.ExpiresAt, s.CreatedAt.Add(time.Hour))
				stored, err := h.st.GetPortalSession(h.ctx, ws.ID, s.ID)
				is.NoErr(err)
				is.Equal(stored, s.PortalSession) // all but the token
				byHash, err := h.st.GetPortalSessionByHash(h.ctx, s.Hash)
				is.NoErr(err)
				is.Equal(byHash, s.PortalSession)

				staging := h.env(t, ws.ID, "staging")
				day := h.portalSession(t, ws.ID, nahook.PortalSessionInput{ApplicationID: app.ID, EnvironmentID: staging.ID, ExpiresIn: 24 * time.Hour})
				is.Equal(day.EnvironmentID, staging.ID)
				is.Equal(day.ExpiresAt, day.CreatedAt.Add(24*time.Hour))
				stored, err = h.st.GetPortalSession(h.ctx, ws.ID, day.ID)
				is.NoErr(err)
				is.Equal(stored, day.PortalSession)
			},
		},
		{
			name:     "CreatePortalSession/OtherWorkspace",
			contract: "A portal session's application and environment must be in its workspace: another workspace's are ErrNotFound naming applicationId or environmentId, and nothing is stored.",
			run: func(t *testing.T, h *harness) {
				is := is.New(t)
				ws := h.workspace(t)
				app := h.app(t, ws.ID, "cust_1")
				other := h.workspace(t)
				theirs := h.app(t, other.ID, "cust_1")
				_, err := h.nh.PortalSessions.Create(h.ctx, ws.ID, nahook.PortalSessionInput{ApplicationID: theirs.ID})
				wantErr(t, err, nahook.ErrNotFound, "applicationId")
				_, err = h.nh.PortalSessions.Create(h.ctx, ws.ID, nahook.PortalSessionInput{ApplicationID: app.ID, EnvironmentID: h.defaultEnv(t, other.ID).ID})
				wantErr(t, err, nahook.ErrNotFound, "environmentId")
				for _, c := range []struct {
					ws  nahook.WorkspaceID
					app nahook.ApplicationID
				}{{ws.ID, app.ID}, {other.ID, theirs.ID}} {
					active, err := h.st.ListPortalSessions(h.ctx, c.ws, c.app, h.at(), store.PageRequest{Limit: 100})
					is.NoErr(err)
					is.Equal(len(active), 0) // nothing stored
				}
			},
		},
		{
			name:     "CreatePortalSession/PrunesExpired",
			contract: "Creating a portal session deletes the application's sessions that expired before it was created, and no session of another application.",
			run: func(t *testing.T, h *harness) {
				is := is.New(t)
				ws := h.workspace(t)
				app, other := h.app(t, ws.ID, "cust_1"), h.app(t, ws.ID, "cust_2")
				old := h.portalSession(t, ws.ID, nahook.PortalSessionInput{ApplicationID: app.ID, ExpiresIn: time.Minute})
				live := h.portalSession(t, ws.ID, nahook.PortalSessionInput{ApplicationID: app.ID, ExpiresIn: time.Hour})
				theirs := h.portalSession(t, ws.ID, nahook.PortalSessionInput{ApplicationID: other.ID, ExpiresIn: time.Minute})
				h.advance(2 * time.Minute)
				h.portalSession(t, ws.ID, nahook.PortalSessionInput{ApplicationID: app.ID})
				_, err := h.st.GetPortalSession(h.ctx, ws.ID, old.ID)
				wantErr(t, err, store.ErrNotFound, "") // expired: pruned
				_, err = h.st.GetPortalSession(h.ctx, ws.ID, live.ID)
				is.NoErr(err) // still active: kept
				_, err = h.st.GetPortalSession(h.ctx, ws.ID, theirs.ID)
				is.NoErr(err) // another application's: kept
			},
		},
		{
			name: "GetPortalSessionByHash/Expiry",
			contract: "A session is found by the hash of its token with its expiry to the millisecond, so a token opens its portal until then and not after; " +
				"a Portal held past expiry refuses every call.",
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
				other := s.Token[:len(s.Token)-1] + "x"
				if other == s.Token {
					other = s.Token[:len(s.Token)-1] + "y"
				}
				_, err = h.nh.PortalSessions.Authenticate(h.ctx, other)
				wantErr(t, err, nahook.ErrUnauthorized, "") // another token is another hash

				h.advance(10*time.Minute - time.Millisecond)
				_, err = h.nh.PortalSessions.Authenticate(h.ctx, s.Token)
				is.NoErr(err) // a millisecond before expiry
				h.advance(time.Millisecond)
				_, err = h.nh.PortalSessions.Authenticate(h.ctx, s.Token)
				wantErr(t, err, nahook.ErrUnauthorized, "")
				expired, err := h.st.GetPortalSessionByHash(h.ctx, s.Hash)
				is.NoErr(err) // found, expired ones included
				is.Equal(expired, s.PortalSession)
				_, err = p.ListEndpoints(h.ctx, nahook.ListOptions{})
				wantErr(t, err, nahook.ErrUnauthorized, "")
				_, err = p.CreateEndpoint(h.ctx, nahook.PortalEndpointInput{URL: "https://a.example/hook"})
				wantErr(t, err, nahook.ErrUnauthorized, "")
			},
		},
		{
			name: "RevokePortalSessions/OneAndAll",
			contract: "Revoking a session refuses its token from then on and keeps the first revocation time; revoking all of an application's sessions ends only its active ones and counts them; " +
				"ListPortalSessions shows only active sessions.",
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
				r, err := h.st.RevokePortalSession(h.ctx, ws.ID, s1.ID, h.at())
				is.NoErr(err)
				is.Equal(r.RevokedAt, h.at())
				_, err = h.nh.PortalSessions.Authenticate(h.ctx, s1.Token)
				wantErr(t, err, nahook.ErrUnauthorized, "")
				h.tick()
				again, err := h.st.RevokePortalSession(h.ctx, ws.ID, s1.ID, h.at())
				is.NoErr(err)
				is.Equal(again.RevokedAt, r.RevokedAt) // the first revocation stands

				h.advance(2 * time.Minute) // s3 has expired
				active, err := h.st.ListPortalSessions(h.ctx, ws.ID, app.ID, h.at(), store.PageRequest{Limit: 100})
				is.NoErr(err)
				is.Equal(len(active), 1)
				is.Equal(active[0].ID, s2.ID)

				n, err := h.st.RevokePortalSessions(h.ctx, ws.ID, app.ID, h.at())
				is.NoErr(err)
				is.Equal(n, 1) // s2 only: s1 was revoked, s3 expired
				_, err = h.nh.PortalSessions.Authenticate(h.ctx, s2.Token)
				wantErr(t, err, nahook.ErrUnauthorized, "")
				_, err = h.nh.PortalSessions.Authenticate(h.ctx, keep.Token)
				is.NoErr(err) // another application's session is untouched
				expired, err := h.st.GetPortalSession(h.ctx, ws.ID, s3.ID)
				is.NoErr(err)
				is.True(expired.RevokedAt.IsZero())
			},
		},
		{
			name: "GetPortalSessionByHash/PortalScope",
			contract: "A portal reaches exactly its session's application's endpoints in its session's environment: it lists, creates, reads, updates, deletes them and reads their secrets and deliveries; " +
				"any other endpoint is ErrNotFound on every call and is left as it was.",
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
					still, err := h.st.GetEndpoint(h.ctx, ep.WorkspaceID, ep.ID)
					is.NoErr(err)
					is.Equal(still, ep) // untouched
				}
			},
		},
	},
	scoped("GetPortalSession", func(t *testing.T, h *harness, ws store.WorkspaceID, id ids) error {
		_, err := h.st.GetPortalSession(h.ctx, ws, id.session)
		return err
	}),
	scoped("ListPortalSessions", func(t *testing.T, h *harness, ws store.WorkspaceID, id ids) error {
		_, err := h.st.ListPortalSessions(h.ctx, ws, id.app, h.at(), store.PageRequest{Limit: 100})
		return err
	}),
	scoped("RevokePortalSession", func(t *testing.T, h *harness, ws store.WorkspaceID, id ids) error {
		_, err := h.st.RevokePortalSession(h.ctx, ws, id.session, h.at())
		return err
	}),
	scoped("RevokePortalSessions", func(t *testing.T, h *harness, ws store.WorkspaceID, id ids) error {
		_, err := h.st.RevokePortalSessions(h.ctx, ws, id.app, h.at())
		return err
	}),
)
