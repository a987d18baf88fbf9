package storetest

import (
	"testing"

	"github.com/matryer/is"

	"github.com/nahook/nahook"
	"github.com/nahook/nahook/internal/typeid"
)

// scoped is one kind of resource that lives in a workspace, with the calls
// that reach it by ID.
type scoped struct {
	kind   string
	prefix string // of the kind's IDs
	make   func(t *testing.T, h *harness, ws nahook.WorkspaceID) string
	get    func(h *harness, ws nahook.WorkspaceID, id string) (any, error)
	update func(h *harness, ws nahook.WorkspaceID, id string) error
	delete func(h *harness, ws nahook.WorkspaceID, id string) error
}

var scopedKinds = []scoped{
	{
		kind:   "environment",
		prefix: "env",
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
		kind:   "application",
		prefix: "app",
		make:   func(t *testing.T, h *harness, ws nahook.WorkspaceID) string { return string(h.app(t, ws, "cust_1").ID) },
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
		kind:   "event type",
		prefix: "evt",
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
		kind:   "endpoint",
		prefix: "ep",
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
		kind:   "API key",
		prefix: "key",
		make:   func(t *testing.T, h *harness, ws nahook.WorkspaceID) string { return string(h.key(t, ws, "").ID) },
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
					bad := []string{"", "nonsense", id[:len(id)-1], "ws_01kaaaaaaaaaaaaaaaaaaaaaaa", "x" + id, "\n" + id}
					// Well-formed IDs that exist nowhere reach the store.
					bad = append(bad, typeid.New(k.prefix), typeid.New(k.prefix))
					for _, bad := range bad {
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
	{
		name:     "Isolation/Lists",
		contract: "Every list of a workspace holds only that workspace's resources, however many other workspaces hold.",
		run: func(t *testing.T, h *harness) {
			for _, l := range listers[1:] { // every list but that of workspaces themselves
				t.Run(l.kind, func(t *testing.T) {
					is := is.New(t)
					a, b := h.workspace(t), h.workspace(t)
					mine := map[nahook.WorkspaceID][]string{}
					for _, ws := range []nahook.WorkspaceID{a.ID, b.ID} {
						mine[ws], _, _ = l.list(h, ws, nahook.ListOptions{}) // a default environment
						for i := range 3 {
							mine[ws] = append(mine[ws], l.make(t, h, ws, i))
						}
					}
					for _, ws := range []nahook.WorkspaceID{a.ID, b.ID} {
						got, _, err := l.list(h, ws, nahook.ListOptions{})
						is.NoErr(err)
						is.Equal(got, mine[ws]) // its own, and nothing else
					}
				})
			}
			is := is.New(t)
			a, b := h.workspace(t), h.workspace(t)
			etA := h.eventType(t, a.ID, "order.created")
			h.eventType(t, b.ID, "order.created")
			vis, err := h.nh.EventTypes.Visibility(h.ctx, a.ID, h.defaultEnv(t, a.ID).ID)
			is.NoErr(err)
			is.Equal(vis, []nahook.EventTypeVisibility{{EventTypeID: etA.ID, EventTypeName: "order.created"}}) // the visibility list too
		},
	},
}
