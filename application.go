// Applications: the end-customers of a workspace, each owning its own
// endpoints, with external IDs and metadata.

package nahook

import (
	"context"
	"maps"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/nahook/nahook/internal/typeid"
	"github.com/nahook/nahook/store"
)

// ApplicationService manages applications: one per end-customer of the host
// program, each with its own endpoints. Get it from Client.Applications.
type ApplicationService struct{ c *Client }

// Metadata limits.
const (
	MaxMetadataPairs      = 5
	MaxMetadataKeyChars   = 64
	MaxMetadataValueChars = 512
)

// ApplicationInput creates an application.
type ApplicationInput struct {
	// ExternalID is optional: the host program's own identifier for the
	// customer ("cust_123"), 1 to 256 characters of letters, digits and
	// "._:-", unique within the workspace. Applications can be fetched by it.
	ExternalID string
	// Name is required: 1 to 256 characters after trimming.
	Name string
	// Metadata holds at most 5 pairs; keys are 1 to 64 characters, values
	// at most 512.
	Metadata map[string]string
}

// ApplicationPatch changes an application; nil fields are left as they are.
type ApplicationPatch struct {
	Name *string
	// ExternalID set to "" removes the external ID.
	ExternalID *string
	// Metadata, when not nil, replaces the metadata whole; an empty map
	// removes it all.
	Metadata map[string]string
}

// Create creates an application. It returns ErrConflict when another
// application of the workspace has the same ExternalID.
func (s *ApplicationService) Create(ctx context.Context, ws WorkspaceID, in ApplicationInput) (Application, error) {
	if err := workspace(ws); err != nil {
		return Application{}, err
	}
	n, err := name("name", in.Name, 1, 256)
	if err != nil {
		return Application{}, err
	}
	if in.ExternalID != "" {
		if err := checkExternalID(in.ExternalID); err != nil {
			return Application{}, err
		}
	}
	md, err := checkMetadata(in.Metadata)
	if err != nil {
		return Application{}, err
	}
	now := s.c.now()
	app := Application{
		ID:          ApplicationID(typeid.New(prefixApplication)),
		WorkspaceID: ws,
		ExternalID:  in.ExternalID,
		Name:        n,
		Metadata:    md,
		CreatedAt:   now,
		UpdatedAt:   now,
	}
	if err := s.c.wrote(ws, s.c.store.CreateApplication(ctx, app)); err != nil {
		return Application{}, err
	}
	return app, nil
}

// Get returns the application, or ErrNotFound.
func (s *ApplicationService) Get(ctx context.Context, ws WorkspaceID, id ApplicationID) (Application, error) {
	if err := application(ws, id); err != nil {
		return Application{}, err
	}
	return s.c.store.GetApplication(ctx, ws, id)
}

// GetByExternalID returns the workspace's application with that external
// ID, or ErrNotFound.
func (s *ApplicationService) GetByExternalID(ctx context.Context, ws WorkspaceID, externalID string) (Application, error) {
	if err := workspace(ws); err != nil {
		return Application{}, err
	}
	if checkExternalID(externalID) != nil {
		return Application{}, store.UnknownExternalID(externalID)
	}
	return s.c.store.GetApplicationByExternalID(ctx, ws, externalID)
}

// List returns one page of the workspace's applications, oldest first.
func (s *ApplicationService) List(ctx context.Context, ws WorkspaceID, opts ListOptions) (Page[Application], error) {
	if err := workspace(ws); err != nil {
		return Page[Application]{}, err
	}
	return list(opts, prefixApplication, func(a Application) ApplicationID { return a.ID },
		func(p store.PageRequest) ([]Application, error) { return s.c.store.ListApplications(ctx, ws, p) })
}

// Update applies p and returns the application as it now is.
func (s *ApplicationService) Update(ctx context.Context, ws WorkspaceID, id ApplicationID, p ApplicationPatch) (Application, error) {
	if err := application(ws, id); err != nil {
		return Application{}, err
	}
	u := store.ApplicationUpdate{UpdatedAt: s.c.now()}
	if p.Name != nil {
		n, err := name("name", *p.Name, 1, 256)
		if err != nil {
			return Application{}, err
		}
		u.Name = &n
	}
	if p.ExternalID != nil {
		if *p.ExternalID != "" {
			if err := checkExternalID(*p.ExternalID); err != nil {
				return Application{}, err
			}
		}
		u.ExternalID = p.ExternalID
	}
	if p.Metadata != nil {
		md, err := checkMetadata(p.Metadata)
		if err != nil {
			return Application{}, err
		}
		u.Metadata = md
	}
	if u.Name == nil && u.ExternalID == nil && u.Metadata == nil {
		return s.c.store.GetApplication(ctx, ws, id)
	}
	app, err := s.c.store.UpdateApplication(ctx, ws, id, u)
	return app, s.c.wrote(ws, err)
}

// Delete deletes the application and all its endpoints, in every
// environment: the offboarding of a customer in one call.
func (s *ApplicationService) Delete(ctx context.Context, ws WorkspaceID, id ApplicationID) error {
	if err := application(ws, id); err != nil {
		return err
	}
	return s.c.wrote(ws, s.c.store.DeleteApplication(ctx, ws, id))
}

func application(ws WorkspaceID, id ApplicationID) error {
	if err := workspace(ws); err != nil {
		return err
	}
	return subject("", prefixApplication, id)
}

// checkExternalID allows only characters that survive a URL query, a log
// line and a CSV cell unescaped, since hosts put their customer IDs there.
func checkExternalID(id string) error {
	if len(id) == 0 || len(id) > 256 {
		return store.Invalid("externalId", "externalId must be 1 to 256 characters")
	}
	for i := 0; i < len(id); i++ {
		switch c := id[i]; {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '_', c == ':', c == '-':
		default:
			return store.Invalid("externalId", "externalId may hold only letters, digits and . _ : - (found %q)", rune(c))
		}
	}
	return nil
}

// checkMetadata enforces the metadata limits and returns a copy, so a
// caller changing its map later cannot change what was validated.
func checkMetadata(md map[string]string) (map[string]string, error) {
	if len(md) > MaxMetadataPairs {
		return nil, store.Invalid("metadata", "metadata may hold at most %d pairs, not %d", MaxMetadataPairs, len(md))
	}
	for k, v := range md {
		if length("metadata", k, 1, MaxMetadataKeyChars) != nil || strings.IndexFunc(k, unicode.IsControl) >= 0 {
			return nil, store.Invalid("metadata", "metadata keys must be 1 to %d characters of valid UTF-8, without control characters (key %s)", MaxMetadataKeyChars, quote(k))
		}
		if length("metadata", v, 0, MaxMetadataValueChars) != nil || text("metadata", v) != nil {
			return nil, store.Invalid("metadata", "metadata values must be at most %d characters of valid UTF-8, without control characters other than tab and newline (key %s)", MaxMetadataValueChars, quote(k))
		}
	}
	out := make(map[string]string, len(md))
	maps.Copy(out, md)
	return out, nil
}

// quote renders user input for a message: quoted, and cut short so a
// message stays readable whatever was sent.
func quote(s string) string {
	const max = 64
	if utf8.RuneCountInString(s) > max {
		s = string([]rune(s)[:max]) + "…"
	}
	return strconv.Quote(s)
}
