package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/nahook/nahook/store"
)

const apiKeyColumns = `id, workspace_id, environment_id, kind, name, prefix, hash, created_at, revoked_at`

func scanAPIKey(row pgx.Row) (store.APIKey, error) {
	var k store.APIKey
	var env *string
	var hash []byte
	var revoked *time.Time
	if err := row.Scan(&k.ID, &k.WorkspaceID, &env, &k.Kind, &k.Name, &k.Prefix, &hash, &k.CreatedAt, &revoked); err != nil {
		return k, err
	}
	if env != nil {
		k.EnvironmentID = store.EnvironmentID(*env)
	}
	copy(k.Hash[:], hash)
	k.CreatedAt = utc(k.CreatedAt)
	if revoked != nil {
		k.RevokedAt = utc(*revoked)
	}
	return k, nil
}

// CreateAPIKey implements store.APIKeyStore.
func (s *Store) CreateAPIKey(ctx context.Context, k store.APIKey) error {
	return s.write(ctx, k.WorkspaceID, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO api_keys (`+apiKeyColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL)`,
			k.ID, k.WorkspaceID, null(k.EnvironmentID), k.Kind, k.Name, k.Prefix, k.Hash[:], k.CreatedAt)
		return err
	})
}

// GetAPIKey implements store.APIKeyStore.
func (s *Store) GetAPIKey(ctx context.Context, ws store.WorkspaceID, id store.APIKeyID) (store.APIKey, error) {
	k, err := scanAPIKey(s.pool.QueryRow(ctx, `SELECT `+apiKeyColumns+` FROM api_keys WHERE workspace_id = $1 AND id = $2`, ws, id))
	return k, mapError(notFound(err, id))
}

// GetAPIKeyByHash implements store.APIKeyStore.
func (s *Store) GetAPIKeyByHash(ctx context.Context, hash store.KeyHash) (store.APIKey, error) {
	k, err := scanAPIKey(s.pool.QueryRow(ctx, `SELECT `+apiKeyColumns+` FROM api_keys WHERE hash = $1`, hash[:]))
	if errors.Is(err, pgx.ErrNoRows) {
		err = store.UnknownKeyHash()
	}
	return k, mapError(err)
}

// ListAPIKeys implements store.APIKeyStore.
func (s *Store) ListAPIKeys(ctx context.Context, ws store.WorkspaceID, f store.APIKeyFilter, page store.PageRequest) ([]store.APIKey, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+apiKeyColumns+` FROM api_keys
		WHERE workspace_id = $1
			AND ($2 = '' OR kind = $2)
			AND ($3 = '' OR environment_id = $3)
			AND id > $4
		ORDER BY id LIMIT $5`, ws, string(f.Kind), string(f.EnvironmentID), page.After, page.Limit)
	return collect(rows, err, scanAPIKey)
}

// RevokeAPIKey implements store.APIKeyStore.
func (s *Store) RevokeAPIKey(ctx context.Context, ws store.WorkspaceID, id store.APIKeyID, at time.Time) (store.APIKey, error) {
	var k store.APIKey
	err := s.write(ctx, ws, func(tx pgx.Tx) (err error) {
		k, err = scanAPIKey(tx.QueryRow(ctx, `UPDATE api_keys SET revoked_at = coalesce(revoked_at, $1)
			WHERE workspace_id = $2 AND id = $3 RETURNING `+apiKeyColumns, at, ws, id))
		return notFound(err, id)
	})
	return k, err
}
