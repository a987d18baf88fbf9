// Package pgtest gives tests a PostgreSQL schema of their own.
//
// Tests find the server in NAHOOK_TEST_POSTGRES_URL. When it is unset they
// skip, unless CI is set: CI never skips silently, so there a missing or
// unreachable server fails the test.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvURL is the environment variable that holds the server's URL.
const EnvURL = "NAHOOK_TEST_POSTGRES_URL"

var (
	reachOnce sync.Once
	reachErr  error
)

// URL returns the server's URL, skipping or failing t as the package
// documentation says when there is none or it does not answer.
func URL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(EnvURL)
	if u == "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not set, and CI is: the Postgres tests must run", EnvURL)
		}
		t.Skipf("%s is not set", EnvURL)
	}
	reachOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, u)
		if err != nil {
			reachErr = err
			return
		}
		defer conn.Close(ctx)
		reachErr = conn.Ping(ctx)
	})
	if reachErr != nil {
		t.Fatalf("PostgreSQL at %s does not answer: %v", EnvURL, reachErr)
	}
	return u
}

// Schema creates an empty schema, drops it with everything in it when the
// test ends, and returns the server's URL with search_path set to it, so
// that whatever connects with that URL creates and finds its tables there.
func Schema(t testing.TB) string {
	t.Helper()
	base := URL(t)
	var b [8]byte
	rand.Read(b[:])
	name := "nahook_test_" + hex.EncodeToString(b[:])
	exec(t, base, "CREATE SCHEMA "+name)
	t.Cleanup(func() { exec(t, base, "DROP SCHEMA IF EXISTS "+name+" CASCADE") })
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("%s: %v", EnvURL, err)
	}
	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()
	return u.String()
}

func exec(t testing.TB, u, sql string) {
	t.Helper()
	// Not the test's context: cleanups run after it is cancelled.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}
