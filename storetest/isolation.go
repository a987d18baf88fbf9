package storetest

import (
	"testing"

	"github.com/matryer/is"

	"github.com/nahook/nahook"
)

// scoped is one kind of resource that lives in a workspace, with the calls
// that reach it by ID.
type scoped struct {
	kind   string
	make   func(t *testing.T, h *harness, ws nahook.WorkspaceID) string
	get    func(h *harness, ws nahook.WorkspaceID, id string) (any, error)
	update func(h *harness, ws nahook.WorkspaceID, id string) error
	delete func(h *harness, ws nahook.WorkspaceID, id string) error
}

var scopedKinds = []scoped{
	{
		kind: "environment",
		make: func(t *testing.T, h *harness, ws nahook.WorkspaceID) string {
			return string(h.env(t, ws, "staging").ID)
		},
		get: func(h *harness, ws nahook.WorkspaceID, id string) (any, error) {
			return h.nh.Environments.Get(h.ctx, ws, nahook.EnvironmentID(id))
		},
		update: func(h *harness, ws nahook.WorkspaceID, id string) error {
			_, err := h.nh.Environments.Update(h.ctx, ws, nahook.EnvironmentID(id), nahook.EnvironmentPatch{Name: ptr("Hijacked")})
			return err
		},
		delete: func(h *harness, ws nahook.WorkspaceID, id string) error {
			return h.nh.Environments.Delete(h.ctx, ws, nahook.EnvironmentID(id))
		},
	},
	{
		kind: "application",
		make: func(t *testing.T, h *harness, ws nahook.WorkspaceID) string { return string(h.app(t, ws, "cust_1").ID) },
		get: func(h *harness, ws nahook.WorkspaceID, id string) (any, error) {
			return h.nh.Applications.Get(h.ctx, ws, nahook.ApplicationID(id))
		},
		update: func(h *harness, ws nahook.WorkspaceID, id string) error {
			_, err := h.nh.Applications.Update(h.ctx, ws, nahook.ApplicationID(id), nahook.ApplicationPatch{Name: ptr("Hijacked")})
			return err
		},
		delete: func(h *harness, ws nahook.WorkspaceID, id string) error {
			return h.nh.Applications.Delete(h.ctx, ws, nahook.ApplicationID(id))
		},
	},
	{
		kind: "event type",
		make: func(t *testing.T, h *harness, ws nahook.WorkspaceID) string {
			return string(h.eventType(t, ws, "order.created").ID)
		},
		get: func(h *harness, ws nahook.WorkspaceID, id string) (any, error) {
			return h.nh.EventTypes.Get(h.ctx, ws, nahook.EventTypeID(id))
		},
		update: func(h *harness, ws nahook.WorkspaceID, id string) error {
			_, err := h.nh.EventTypes.Update(h.ctx, ws, nahook.EventTypeID(id), nahook.EventTypePatch{Name: ptr("hijacked")})
			return err
		},
		delete: func(h *harness, ws nahook.WorkspaceID, id string) error {
			return h.nh.EventTypes.Delete(h.ctx, ws, nahook.EventTypeID(id))
		},
	},
	{
		kind: "endpoint",
		make: func(t *testing.T, h *harness, ws nahook.WorkspaceID) string {
			return string(h.endpoint(t, ws, nahook.EndpointInput{}).ID)
		},
		get: func(h *harness, ws nahook.WorkspaceID, id string) (any, error) {
			return h.nh.Endpoints.Get(h.ctx, ws, nahook.EndpointID(id))
		},
		update: func(h *harness, ws nahook.WorkspaceID, id string) error {
			_, err := h.nh.Endpoints.Update(h.ctx, ws, nahook.EndpointID(id), nahook.EndpointPatch{URL: ptr("https://evil.example/")})
			return err
		},
		delete: func(h *harness, ws nahook.WorkspaceID, id string) error {
			return h.nh.Endpoints.Delete(h.ctx, ws, nahook.EndpointID(id))
		},
	},
	{
		kind: "API key",
		make: func(t *testing.T, h *harness, ws nahook.WorkspaceID) string { return string(h.key(t, ws, "").ID) },
		get: func(h *harness, ws nahook.WorkspaceID, id string) (any, error) {
			return h.nh.APIKeys.Get(h.ctx, ws, nahook.APIKeyID(id))
		},
		update: func(h *harness, ws nahook.WorkspaceID, id string) error {
			_, err := h.nh.APIKeys.Revoke(h.ctx, ws, nahook.APIKeyID(id))
			return err
		},
	},
}

var isolationTests = []test{
	{
		name:     "Isolation/OtherWorkspace",
		contract: "A resource is reached only through its own workspace: getting, changing or deleting it through another is ErrNotFound, as if it did not exist, and changes nothing.",
		run: func(t *testing.T, h *harness) {
			for _, k := range scopedKinds {
				t.Run(k.kind, func(t *testing.T) {
					is := is.New(t)
					a, b := h.workspace(t), h.workspace(t)
					id := k.make(t, h, a.ID)
					before, err := k.get(h, a.ID, id)
					is.NoErr(err)
					_, err = k.get(h, b.ID, id)
					wantErr(t, err, nahook.ErrNotFound, "")
					wantErr(t, k.update(h, b.ID, id), nahook.ErrNotFound, "")
					if k.delete != nil {
						wantErr(t, k.delete(h, b.ID, id), nahook.ErrNotFound, "")
					}
					after, err := k.get(h, a.ID, id)
					is.NoErr(err)
					is.Equal(after, before) // untouched
				})
			}
		},
	},
	{
		name:     "Isolation/UnknownID",
		contract: "An ID that exists nowhere, is of another kind, or is malformed is ErrNotFound for get, change and delete alike; deleting twice is ErrNotFound the second time.",
		run: func(t *testing.T, h *harness) {
			for _, k := range scopedKinds {
				t.Run(k.kind, func(t *testing.T) {
					is := is.New(t)
					ws := h.workspace(t)
					id := k.make(t, h, ws.ID)
					for _, bad := range []string{"", "nonsense", id[:len(id)-1], "ws_01kaaaaaaaaaaaaaaaaaaaaaaa", "x" + id} {
						_, err := k.get(h, ws.ID, bad)
						wantErr(t, err, nahook.ErrNotFound, "")
						wantErr(t, k.update(h, ws.ID, bad), nahook.ErrNotFound, "")
						if k.delete != nil {
							wantErr(t, k.delete(h, ws.ID, bad), nahook.ErrNotFound, "")
						}
					}
					if k.delete != nil {
						is.NoErr(k.delete(h, ws.ID, id))
						_, err := k.get(h, ws.ID, id)
						wantErr(t, err, nahook.ErrNotFound, "")
						wantErr(t, k.delete(h, ws.ID, id), nahook.ErrNotFound, "")
					}
				})
			}
		},
	},
}
