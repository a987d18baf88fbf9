// API keys: issuing, listing, revoking and authenticating environment and
// management keys, and the plaintext format they share.

package nahook

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"strings"

	"github.com/nahook/nahook/internal/typeid"
	"github.com/nahook/nahook/store"
)

// APIKeyService issues, lists, revokes and checks API keys. Environment
// keys ("nhk_…") ingest events into one environment; management keys
// ("nhm_…") manage one workspace. The plaintext of a key is returned once,
// by Create or CreateManagement; only its SHA-256 is stored. Get it from
// Client.APIKeys.
type APIKeyService struct{ c *Client }

// API key plaintext format: a prefix telling the kind, then keyChars random
// base62 characters (about 238 bits).
const (
	EnvironmentKeyPrefix = "nhk_"
	ManagementKeyPrefix  = "nhm_"
	keyChars             = 40
	// keyShownChars is how much of the random part APIKey.Prefix keeps.
	keyShownChars = 8
)

// APIKeyInput creates an environment key.
type APIKeyInput struct {
	// EnvironmentID is the environment the key ingests into; empty means the
	// workspace's default environment.
	EnvironmentID EnvironmentID
	// Name is an optional label, at most 256 characters.
	Name string
}

// IssuedAPIKey is a key just created: the stored record and the plaintext,
// which nahook never shows again.
type IssuedAPIKey struct {
	APIKey
	// Plaintext is the key to hand to its user ("nhk_…" or "nhm_…").
	Plaintext string
}

// APIKeyFilter narrows a list of keys; empty fields do not filter.
type APIKeyFilter struct {
	Kind          KeyKind
	EnvironmentID EnvironmentID
}

// Create issues an environment key. It returns ErrNotFound when the
// environment is not in the workspace.
func (s *APIKeyService) Create(ctx context.Context, ws WorkspaceID, in APIKeyInput) (IssuedAPIKey, error) {
	if err := workspace(ws); err != nil {
		return IssuedAPIKey{}, err
	}
	if in.EnvironmentID != "" {
		if err := ref("environmentId", prefixEnvironment, in.EnvironmentID); err != nil {
			return IssuedAPIKey{}, err
		}
	}
	n, err := name("name", in.Name, 0, 256)
	if err != nil {
		return IssuedAPIKey{}, err
	}
	env, err := s.c.environmentOrDefault(ctx, ws, in.EnvironmentID)
	if err != nil {
		return IssuedAPIKey{}, err
	}
	return s.issue(ctx, ws, env, KeyKindEnvironment, n)
}

// CreateManagement issues a management key for the workspace.
func (s *APIKeyService) CreateManagement(ctx context.Context, ws WorkspaceID, keyName string) (IssuedAPIKey, error) {
	if err := workspace(ws); err != nil {
		return IssuedAPIKey{}, err
	}
	n, err := name("name", keyName, 0, 256)
	if err != nil {
		return IssuedAPIKey{}, err
	}
	return s.issue(ctx, ws, "", KeyKindManagement, n)
}

func (s *APIKeyService) issue(ctx context.Context, ws WorkspaceID, env EnvironmentID, kind KeyKind, keyName string) (IssuedAPIKey, error) {
	prefix := EnvironmentKeyPrefix
	if kind == KeyKindManagement {
		prefix = ManagementKeyPrefix
	}
	plain := prefix + randomBase62(keyChars)
	k := APIKey{
		ID:            APIKeyID(typeid.New(prefixAPIKey)),
		WorkspaceID:   ws,
		EnvironmentID: env,
		Kind:          kind,
		Name:          keyName,
		Prefix:        plain[:len(prefix)+keyShownChars],
		Hash:          sha256.Sum256([]byte(plain)),
		CreatedAt:     s.c.now(),
	}
	if err := s.c.wrote(ws, s.c.store.CreateAPIKey(ctx, k)); err != nil {
		return IssuedAPIKey{}, err
	}
	return IssuedAPIKey{APIKey: k, Plaintext: plain}, nil
}

// Get returns the key (never its plaintext), or ErrNotFound.
func (s *APIKeyService) Get(ctx context.Context, ws WorkspaceID, id APIKeyID) (APIKey, error) {
	if err := apiKey(ws, id); err != nil {
		return APIKey{}, err
	}
	return s.c.store.GetAPIKey(ctx, ws, id)
}

// List returns one page of the workspace's keys that match f, revoked ones
// included, oldest first.
func (s *APIKeyService) List(ctx context.Context, ws WorkspaceID, f APIKeyFilter, opts ListOptions) (Page[APIKey], error) {
	if err := workspace(ws); err != nil {
		return Page[APIKey]{}, err
	}
	if f.Kind != "" && f.Kind != KeyKindEnvironment && f.Kind != KeyKindManagement {
		return Page[APIKey]{}, store.Invalid("kind", "kind must be %q or %q", KeyKindEnvironment, KeyKindManagement)
	}
	if f.EnvironmentID != "" {
		if _, err := s.c.Environments.Get(ctx, ws, f.EnvironmentID); err != nil {
			return Page[APIKey]{}, err
		}
	}
	sf := store.APIKeyFilter{Kind: f.Kind, EnvironmentID: f.EnvironmentID}
	return list(opts, prefixAPIKey, func(k APIKey) APIKeyID { return k.ID },
		func(p store.PageRequest) ([]APIKey, error) { return s.c.store.ListAPIKeys(ctx, ws, sf, p) })
}

// Revoke revokes the key: from now on Authenticate refuses it. Revoking a
// revoked key is not an error and keeps the first revocation time.
func (s *APIKeyService) Revoke(ctx context.Context, ws WorkspaceID, id APIKeyID) (APIKey, error) {
	if err := apiKey(ws, id); err != nil {
		return APIKey{}, err
	}
	k, err := s.c.store.RevokeAPIKey(ctx, ws, id, s.c.now())
	return k, s.c.wrote(ws, err)
}

// Authenticate returns the active key whose plaintext this is. A malformed,
// unknown or revoked key is ErrUnauthorized; the three are not told apart,
// so a caller learns nothing by guessing.
func (s *APIKeyService) Authenticate(ctx context.Context, plaintext string) (APIKey, error) {
	if !wellFormedKey(plaintext) {
		return APIKey{}, errUnauthorized(nil)
	}
	k, err := s.c.store.GetAPIKeyByHash(ctx, sha256.Sum256([]byte(plaintext)))
	switch {
	case errors.Is(err, ErrNotFound):
		return APIKey{}, errUnauthorized(nil)
	case err != nil:
		return APIKey{}, err
	case k.Revoked():
		return APIKey{}, errUnauthorized(nil)
	}
	return k, nil
}

func errUnauthorized(cause error) error {
	return &Error{Kind: ErrUnauthorized, Message: "API key is missing, unknown or revoked", Err: cause}
}

func apiKey(ws WorkspaceID, id APIKeyID) error {
	if err := workspace(ws); err != nil {
		return err
	}
	return subject("", prefixAPIKey, id)
}

// wellFormedKey screens out what cannot be a key before hashing it and
// asking the store. It is on the router's hot path, hence the table.
func wellFormedKey(s string) bool {
	rest, ok := strings.CutPrefix(s, EnvironmentKeyPrefix)
	if !ok {
		rest, ok = strings.CutPrefix(s, ManagementKeyPrefix)
	}
	return ok && len(rest) == keyChars && allBase62(rest)
}

// allBase62 reports whether s is made of base62 characters only.
func allBase62(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isBase62[s[i]] {
			return false
		}
	}
	return true
}

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

var isBase62 = func() (t [256]bool) {
	for i := 0; i < len(base62); i++ {
		t[base62[i]] = true
	}
	return t
}()

// randomBase62 returns n characters drawn uniformly from base62: bytes of
// 248 or more are dropped, since 248 = 4×62 is the largest multiple of 62 a
// byte holds, and keeping them would favour the first characters.
func randomBase62(n int) string {
	out := make([]byte, 0, n)
	buf := make([]byte, n+n/4)
	for len(out) < n {
		rand.Read(buf) // never fails: crypto/rand.Read panics rather than return short
		for _, b := range buf {
			if b < 248 && len(out) < n {
				out = append(out, base62[b%62])
			}
		}
	}
	return string(out)
}
