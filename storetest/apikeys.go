package storetest

import (
	"crypto/sha256"
	"fmt"
	"strings"
	"testing"

	"github.com/matryer/is"

	"github.com/nahook/nahook"
	"github.com/nahook/nahook/store"
)

// base62Key reports whether s is prefix followed by at least 32 base62
// characters.
func base62Key(s, prefix string) bool {
	rest, ok := strings.CutPrefix(s, prefix)
	if !ok || len(rest) < 32 {
		return false
	}
	return strings.Trim(rest, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") == ""
}

var apiKeyTests = []test{
	{
		name:     "APIKeys.Create/EnvironmentKey",
		contract: "An environment key is nhk_ and at least 32 base62 characters, returned once; the store keeps only its SHA-256 and a short prefix; without an environment it belongs to the default one.",
		run: func(t *testing.T, h *harness) {
			is := is.New(t)
			ws := h.workspace(t)
			staging := h.env(t, ws.ID, "staging")
			k := h.key(t, ws.ID, staging.ID)
			is.True(base62Key(k.Plaintext, "nhk_")) // the plaintext format
			is.True(strings.HasPrefix(string(k.ID), "key_"))
			is.Equal(k.Kind, nahook.KeyKindEnvironment)
			is.Equal(k.EnvironmentID, staging.ID)
			is.Equal(k.Name, "backend")
			is.Equal(k.Hash, store.KeyHash(sha256.Sum256([]byte(k.Plaintext)))) // SHA-256 of the plaintext
			is.True(strings.HasPrefix(k.Plaintext, k.Prefix))
			is.True(len(k.Prefix) >= len("nhk_")+4 && len(k.Prefix) <= len("nhk_")+12) // recognisable, not revealing
			is.True(k.RevokedAt.IsZero())
			stored, err := h.nh.APIKeys.Get(h.ctx, ws.ID, k.ID)
			is.NoErr(err)
			is.Equal(stored, k.APIKey) // what is stored is all but the plaintext

			def, err := h.nh.APIKeys.Create(h.ctx, ws.ID, nahook.APIKeyInput{})
			is.NoErr(err)
			is.Equal(def.EnvironmentID, h.defaultEnv(t, ws.ID).ID)

			_, err = h.nh.APIKeys.Create(h.ctx, ws.ID, nahook.APIKeyInput{Name: strings.Repeat("n", 257)})
			wantErr(t, err, nahook.ErrInvalid, "name")
		},
	},
	{
		name:     "APIKeys.CreateManagement/Format",
		contract: "A management key is nhm_ and at least 32 base62 characters and belongs to the workspace, not to an environment.",
		run: func(t *testing.T, h *harness) {
			is := is.New(t)
			ws := h.workspace(t)
			k, err := h.nh.APIKeys.CreateManagement(h.ctx, ws.ID, "ops")
			is.NoErr(err)
			is.True(base62Key(k.Plaintext, "nhm_"))
			is.Equal(k.Kind, nahook.KeyKindManagement)
			is.Equal(k.EnvironmentID, nahook.EnvironmentID(""))
			got, err := h.nh.APIKeys.Authenticate(h.ctx, k.Plaintext)
			is.NoErr(err)
			is.Equal(got, k.APIKey)
			_, err = h.nh.APIKeys.CreateManagement(h.ctx, "ws_01kaaaaaaaaaaaaaaaaaaaaaaa", "ops")
			wantErr(t, err, nahook.ErrNotFound, "workspaceId")
		},
	},
	{
		name:     "APIKeys.Authenticate/ByHash",
		contract: "A key is looked up by the hash of its plaintext; a malformed, unknown or revoked key is ErrUnauthorized, all alike.",
		run: func(t *testing.T, h *harness) {
			is := is.New(t)
			ws := h.workspace(t)
			k := h.key(t, ws.ID, "")
			got, err := h.nh.APIKeys.Authenticate(h.ctx, k.Plaintext)
			is.NoErr(err)
			is.Equal(got, k.APIKey)
			byHash, err := h.st.GetAPIKeyByHash(h.ctx, k.Hash)
			is.NoErr(err)
			is.Equal(byHash, k.APIKey)

			flipped := k.Plaintext[:len(k.Plaintext)-1] + "x"
			if flipped == k.Plaintext {
				flipped = k.Plaintext[:len(k.Plaintext)-1] + "y"
			}
			for _, bad := range []string{"", "nhk_", "Bearer " + k.Plaintext, k.Plaintext + " ", flipped, "nhm_" + k.Plaintext[4:], strings.ToUpper(k.Plaintext)} {
				_, err := h.nh.APIKeys.Authenticate(h.ctx, bad)
				wantErr(t, err, nahook.ErrUnauthorized, "")
			}

			h.tick()
			revoked, err := h.nh.APIKeys.Revoke(h.ctx, ws.ID, k.ID)
			is.NoErr(err)
			is.True(revoked.Revoked())
			_, err = h.nh.APIKeys.Authenticate(h.ctx, k.Plaintext)
			wantErr(t, err, nahook.ErrUnauthorized, "")
			h.tick()
			again, err := h.nh.APIKeys.Revoke(h.ctx, ws.ID, k.ID)
			is.NoErr(err)                                // revoking twice is fine
			is.Equal(again.RevokedAt, revoked.RevokedAt) // and keeps the first time
		},
	},
	{
		name:     "APIKeys.List/NoPlaintext",
		contract: "Listing keys shows each key's prefix and state, revoked ones included, never a plaintext; it filters by kind and environment.",
		run: func(t *testing.T, h *harness) {
			is := is.New(t)
			ws := h.workspace(t)
			staging := h.env(t, ws.ID, "staging")
			k1 := h.key(t, ws.ID, "")
			k2 := h.key(t, ws.ID, staging.ID)
			m, err := h.nh.APIKeys.CreateManagement(h.ctx, ws.ID, "ops")
			is.NoErr(err)
			_, err = h.nh.APIKeys.Revoke(h.ctx, ws.ID, k1.ID)
			is.NoErr(err)
			secrets := []string{k1.Plaintext, k2.Plaintext, m.Plaintext}
			list := func(f nahook.APIKeyFilter) []nahook.APIKeyID {
				var out []nahook.APIKeyID
				for _, k := range all(t, func(o nahook.ListOptions) (nahook.Page[nahook.APIKey], error) {
					return h.nh.APIKeys.List(h.ctx, ws.ID, f, o)
				}) {
					listed := fmt.Sprintf("%+v", k)
					for _, secret := range secrets {
						is.True(!strings.Contains(listed, secret[len(k.Prefix):])) // no field holds the rest of a plaintext
					}
					out = append(out, k.ID)
				}
				return out
			}
			is.Equal(list(nahook.APIKeyFilter{}), []nahook.APIKeyID{k1.ID, k2.ID, m.ID})
			is.Equal(list(nahook.APIKeyFilter{Kind: nahook.KeyKindEnvironment}), []nahook.APIKeyID{k1.ID, k2.ID})
			is.Equal(list(nahook.APIKeyFilter{Kind: nahook.KeyKindManagement}), []nahook.APIKeyID{m.ID})
			is.Equal(list(nahook.APIKeyFilter{EnvironmentID: staging.ID}), []nahook.APIKeyID{k2.ID})
			_, err = h.nh.APIKeys.List(h.ctx, ws.ID, nahook.APIKeyFilter{Kind: "admin"}, nahook.ListOptions{})
			wantErr(t, err, nahook.ErrInvalid, "kind")
		},
	},
	{
		name:     "APIKeys.Create/OtherWorkspace",
		contract: "An environment key can only be made for an environment of the same workspace, and a key is found, revoked or listed only through its own workspace.",
		run: func(t *testing.T, h *harness) {
			is := is.New(t)
			a, b := h.workspace(t), h.workspace(t)
			_, err := h.nh.APIKeys.Create(h.ctx, a.ID, nahook.APIKeyInput{EnvironmentID: h.defaultEnv(t, b.ID).ID})
			wantErr(t, err, nahook.ErrNotFound, "environmentId")
			k := h.key(t, a.ID, "")
			_, err = h.nh.APIKeys.Get(h.ctx, b.ID, k.ID)
			wantErr(t, err, nahook.ErrNotFound, "")
			_, err = h.nh.APIKeys.Revoke(h.ctx, b.ID, k.ID)
			wantErr(t, err, nahook.ErrNotFound, "")
			_, err = h.nh.APIKeys.Authenticate(h.ctx, k.Plaintext)
			is.NoErr(err) // still active
			page, err := h.nh.APIKeys.List(h.ctx, b.ID, nahook.APIKeyFilter{}, nahook.ListOptions{})
			is.NoErr(err)
			is.Equal(len(page.Items), 0)
		},
	},
	{
		name:     "APIKeys.Create/Distinct",
		contract: "Every key issued is distinct, and each authenticates as itself.",
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
				got, err := h.nh.APIKeys.Authenticate(h.ctx, k.Plaintext)
				is.NoErr(err)
				is.Equal(got.ID, k.ID)
			}
		},
	},
}
