package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/nahook/nahook/store"
)

const apiKeyColumns = `id, workspace_id, environment_id, kind, name, prefix, hash, created_at, revoked_at`

func scanAPIKey(row interface{ Scan(...any) error }) (store.APIKey, error) {
	var k store.APIKey
	var env sql.NullString
	var hash []byte
	var created int64
	var revoked sql.NullInt64
	if err := row.Scan(&k.ID, &k.WorkspaceID, &env, &k.Kind, &k.Name, &k.Prefix, &hash, &created, &revoked); err != nil {
		return k, err
	}
	k.EnvironmentID = store.EnvironmentID(env.String)
	copy(k.Hash[:], hash)
	k.CreatedAt = utc(created)
	if revoked.Valid {
		k.RevokedAt = utc(revoked.Int64)
	}
	return k, nil
}

// CreateAPIKey implements store.APIKeyStore.
func (s *Store) CreateAPIKey(ctx context.Context, k store.APIKey) error {
	return s.write(ctx, k.WorkspaceID, func(tx *sql.Tx) error {
		var err error
		if k.EnvironmentID != "" {
			err = requireEnvironment(ctx, tx, "environmentId", k.WorkspaceID, k.EnvironmentID)
		} else {
			err = requireWorkspace(ctx, tx, k.WorkspaceID)
		}
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO api_keys (`+apiKeyColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL)`,
			k.ID, k.WorkspaceID, null(k.EnvironmentID), k.Kind, k.Name, k.Prefix, k.Hash[:], ms(k.CreatedAt))
		return err
	})
}

// GetAPIKey implements store.APIKeyStore.
func (s *Store) GetAPIKey(ctx context.Context, ws store.WorkspaceID, id store.APIKeyID) (store.APIKey, error) {
	k, err := scanAPIKey(s.r.QueryRowContext(ctx, `SELECT `+apiKeyColumns+` FROM api_keys WHERE workspace_id = ? AND id = ?`, ws, id))
	return k, mapError(notFound(err, id))
}

// GetAPIKeyByHash implements store.APIKeyStore.
func (s *Store) GetAPIKeyByHash(ctx context.Context, hash store.KeyHash) (store.APIKey, error) {
	k, err := scanAPIKey(s.r.QueryRowContext(ctx, `SELECT `+apiKeyColumns+` FROM api_keys WHERE hash = ?`, hash[:]))
	if errors.Is(err, sql.ErrNoRows) {
		err = store.UnknownKeyHash()
	}
	return k, mapError(err)
}

// ListAPIKeys implements store.APIKeyStore.
func (s *Store) ListAPIKeys(ctx context.Context, ws store.WorkspaceID, f store.APIKeyFilter, page store.PageRequest) ([]store.APIKey, error) {
	where, args := `workspace_id = ?`, []any{ws}
	if f.Kind != "" {
		where += ` AND kind = ?`
		args = append(args, f.Kind)
	}
	if f.EnvironmentID != "" {
		where += ` AND environment_id = ?`
		args = append(args, f.EnvironmentID)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+apiKeyColumns+` FROM api_keys
		WHERE `+where+` AND id > ? ORDER BY id LIMIT ?`, append(args, page.After, page.Limit)...)
	return collect(rows, err, scanAPIKey)
}

// RevokeAPIKey implements store.APIKeyStore.
func (s *Store) RevokeAPIKey(ctx context.Context, ws store.WorkspaceID, id store.APIKeyID, at time.Time) (store.APIKey, error) {
	var k store.APIKey
	err := s.write(ctx, ws, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE api_keys SET revoked_at = coalesce(revoked_at, ?) WHERE workspace_id = ? AND id = ?`,
			ms(at), ws, id); err != nil {
			return err
		}
		var err error
		k, err = scanAPIKey(tx.QueryRowContext(ctx, `SELECT `+apiKeyColumns+` FROM api_keys WHERE workspace_id = ? AND id = ?`, ws, id))
		return notFound(err, id)
	})
	return k, err
}
