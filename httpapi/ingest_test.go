package httpapi

import (
	"errors"
	"fmt"
	"testing"

	"github.com/matryer/is"

	"github.com/nahook/nahook"
)

// TestIngestErrorIsNew checks that the ingest routes name the inputs as the
// API spells them (the body, the Idempotency-Key header) by answering a new
// error: the library's error, which it may keep or hand to other callers,
// is never edited.
func TestIngestErrorIsNew(t *testing.T) {
	for field, want := range map[string]string{"payload": "body", "idempotencyKey": "Idempotency-Key"} {
		t.Run(field, func(t *testing.T) {
			is := is.New(t)
			cause := errors.New("driver detail")
			lib := &nahook.Error{Kind: nahook.ErrInvalid, Field: field, Message: "not valid", Err: cause}
			got := ingestError(fmt.Errorf("ingest: %w", lib))
			e, ok := errors.AsType[*nahook.Error](got)
			is.True(ok)
			is.True(e != lib) // a new error
			is.Equal(e.Field, want)
			is.Equal(e.Message, "not valid")
			is.True(errors.Is(got, nahook.ErrInvalid))
			is.True(errors.Is(got, cause))
			is.Equal(*lib, nahook.Error{Kind: nahook.ErrInvalid, Field: field, Message: "not valid", Err: cause}) // untouched
		})
	}
	t.Run("other fields", func(t *testing.T) {
		is := is.New(t)
		lib := &nahook.Error{Kind: nahook.ErrNotFound, Field: "applicationId", Message: "not found"}
		is.Equal(ingestError(lib), error(lib)) // nothing to rename: passed on as it is
		plain := errors.New("boom")
		is.Equal(ingestError(plain), plain)
	})
}
