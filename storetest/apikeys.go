package storetest

import (
	"testing"

	"github.com/matryer/is"

	"github.com/nahook/nahook"
	"github.com/nahook/nahook/store"
)

var apiKeyTests = join(
	[]test{
		{
			name:     "CreateAPIKey/Fields",
			contract: "A stored environment key reads back exactly as created, by ID and by hash, all but its plaintext; without an environment it belongs to the default one.",
			run: func(t *testing.T, h *harness) {
				is := is.New(t)
				ws := h.workspace(t)
				staging := h.env(t, ws.ID, "staging")
				k := h.key(t, ws.ID, staging.ID)
				is.Equal(k.Kind, nahook.KeyKindEnvironment)
				is.Equal(k.EnvironmentID, staging.ID)
				is.Equal(k.Name, "backend")
				is.True(k.RevokedAt.IsZero())
				stored, err := h.st.GetAPIKey(h.ctx, ws.ID, k.ID)
				is.NoErr(err)
				is.Equal(stored, k.APIKey) // what is stored is all but the plaintext
				byHash, err := h.st.GetAPIKeyByHash(h.ctx, k.Hash)
				is.NoErr(err)
				is.Equal(byHash, k.APIKey)

				def, err := h.nh.APIKeys.Create(h.ctx, ws.ID, nahook.APIKeyInput{})
				is.NoErr(err)
				is.Equal(def.EnvironmentID, h.defaultEnv(t, ws.ID).ID)
			},
		},
		{
			name:     "CreateAPIKey/Management",
			contract: "A management key belongs to the workspace, not to an environment, and reads back as created; one for a workspace that does not exist is ErrNotFound naming workspaceId.",
			run: func(t *testing.T, h *harness) {
				is := is.New(t)
				ws := h.workspace(t)
				k, err := h.nh.APIKeys.CreateManagement(h.ctx, ws.ID, "ops")
				is.NoErr(err)
				is.Equal(k.Kind, nahook.KeyKindManagement)
				is.Equal(k.EnvironmentID, nahook.EnvironmentID(""))
				got, err := h.st.GetAPIKeyByHash(h.ctx, k.Hash)
				is.NoErr(err)
				is.Equal(got, k.APIKey)
				_, err = h.nh.APIKeys.CreateManagement(h.ctx, "ws_01kaaaaaaaaaaaaaaaaaaaaaaa", "ops")
				wantErr(t, err, nahook.ErrNotFound, "workspaceId")
			},
		},
		{
			name:     "CreateAPIKey/OtherWorkspace",
			contract: "An environment key can only be made for an environment of the same workspace: another's is ErrNotFound naming environmentId, and nothing is stored.",
			run: func(t *testing.T, h *harness) {
				is := is.New(t)
				a, b := h.workspace(t), h.workspace(t)
				_, err := h.nh.APIKeys.Create(h.ctx, a.ID, nahook.APIKeyInput{EnvironmentID: h.defaultEnv(t, b.ID).ID})
				wantErr(t, err, nahook.ErrNotFound, "environmentId")
				for _, ws := range []nahook.WorkspaceID{a.ID, b.ID} {
					keys, err := h.st.ListAPIKeys(h.ctx, ws, store.APIKeyFilter{}, store.PageRequest{Limit: 100})
					is.NoErr(err)
					is.Equal(len(keys), 0)
				}
			},
		},
		{
			name:     "GetAPIKeyByHash/Revoked",
			contract: "A key is found by the hash of its plaintext, revoked or not; a hash no key has is ErrNotFound; revoking keeps the first revocation time.",
			run: func(t *testing.T, h *harness) {
				is := is.New(t)
				ws := h.workspace(t)
				k := h.key(t, ws.ID, "")
				other := h.key(t, ws.ID, "")
				got, err := h.nh.APIKeys.Authenticate(h.ctx, k.Plaintext)
				is.NoErr(err)
				is.Equal(got, k.APIKey)

				flipped := k.Hash
				flipped[31] ^= 1
				_, err = h.st.GetAPIKeyByHash(h.ctx, flipped)
				wantErr(t, err, store.ErrNotFound, "")
				last := k.Plaintext[:len(k.Plaintext)-1] + "x"
				if last == k.Plaintext {
					last = k.Plaintext[:len(k.Plaintext)-1] + "y"
				}
				_, err = h.nh.APIKeys.Authenticate(h.ctx, last)
				wantErr(t, err, nahook.ErrUnauthorized, "")

				h.tick()
				revoked, err := h.st.RevokeAPIKey(h.ctx, ws.ID, k.ID, h.at())
				is.NoErr(err)
				is.Equal(revoked.RevokedAt, h.at())
				byHash, err := h.st.GetAPIKeyByHash(h.ctx, k.Hash)
				is.NoErr(err)
				is.Equal(byHash, revoked) // found, revoked
				_, err = h.nh.APIKeys.Authenticate(h.ctx, k.Plaintext)
				wantErr(t, err, nahook.ErrUnauthorized, "")
				h.tick()
				again, err := h.st.RevokeAPIKey(h.ctx, ws.ID, k.ID, h.at())
				is.NoErr(err)                                // revoking twice is fine
				is.Equal(again.RevokedAt, revoked.RevokedAt) // and keeps the first time
				still, err := h.st.GetAPIKey(h.ctx, ws.ID, other.ID)
				is.NoErr(err)
				is.True(!still.Revoked()) // no other key was revoked
			},
		},
		{
			name:     "GetAPIKeyByHash/ManyKeys",
			contract: "Every key issued is distinct, and each is found by its own hash as itself.",
			run: func(t *testing.T, h *harness) {
				is := is.New(t)
				ws := h.workspace(t)
				seen := map[string]bool{}
				var keys []nahook.IssuedAPIKey
				for range 50 {
					k := h.key(t, ws.ID, "")
					is.True(!seen[k.Plaintext])
					seen[k.Plaintext] = true
					keys = append(keys, k)
				}
				for _, k := range keys {
					got, err := h.st.GetAPIKeyByHash(h.ctx, k.Hash)
					is.NoErr(err)
					is.Equal(got.ID, k.ID)
				}
			},
		},
		{
			name:     "ListAPIKeys/Filters",
			contract: "Listing keys shows each key with its state, revoked ones included; it filters by kind and environment, and a filter naming another workspace's environment lists nothing.",
			run: func(t *testing.T, h *harness) {
				is := is.New(t)
				ws := h.workspace(t)
				staging := h.env(t, ws.ID, "staging")
				k1 := h.key(t, ws.ID, "")
				k2 := h.key(t, ws.ID, staging.ID)
				m, err := h.nh.APIKeys.CreateManagement(h.ctx, ws.ID, "ops")
				is.NoErr(err)
				revoked, err := h.nh.APIKeys.Revoke(h.ctx, ws.ID, k1.ID)
				is.NoErr(err)
				other := h.workspace(t)
				h.key(t, other.ID, "")
				list := func(ws nahook.WorkspaceID, f store.APIKeyFilter) []nahook.APIKeyID {
					keys, err := h.st.ListAPIKeys(h.ctx, ws, f, store.PageRequest{Limit: 100})
					is.NoErr(err)
					var out []nahook.APIKeyID
					for _, k := range keys {
						out = append(out, k.ID)
						if k.ID == k1.ID {
							is.Equal(k, revoked) // listed with its state
						}
					}
					return out
				}
				is.Equal(list(ws.ID, store.APIKeyFilter{}), []nahook.APIKeyID{k1.ID, k2.ID, m.ID})
				is.Equal(list(ws.ID, store.APIKeyFilter{Kind: nahook.KeyKindEnvironment}), []nahook.APIKeyID{k1.ID, k2.ID})
				is.Equal(list(ws.ID, store.APIKeyFilter{Kind: nahook.KeyKindManagement}), []nahook.APIKeyID{m.ID})
				is.Equal(list(ws.ID, store.APIKeyFilter{EnvironmentID: staging.ID}), []nahook.APIKeyID{k2.ID})
				is.Equal(len(list(other.ID, store.APIKeyFilter{EnvironmentID: staging.ID})), 0) // not through another workspace
			},
		},
	},
	scoped("GetAPIKey", func(t *testing.T, h *harness, ws store.WorkspaceID, id ids) error {
		_, err := h.st.GetAPIKey(h.ctx, ws, id.key)
		return err
	}),
	scoped("RevokeAPIKey", func(t *testing.T, h *harness, ws store.WorkspaceID, id ids) error {
		_, err := h.st.RevokeAPIKey(h.ctx, ws, id.key, h.at())
		return err
	}),
	listCases(lister{
		method: "ListAPIKeys",
		scoped: true,
		make: func(t *testing.T, h *harness, ws nahook.WorkspaceID, _ int) string {
			return string(h.key(t, ws, "").ID)
		},
		list: func(h *harness, ws nahook.WorkspaceID, o nahook.ListOptions) ([]string, string, error) {
			p, err := h.nh.APIKeys.List(h.ctx, ws, nahook.APIKeyFilter{}, o)
			return page(p, err, func(k nahook.APIKey) string { return string(k.ID) })
		},
	}),
)
