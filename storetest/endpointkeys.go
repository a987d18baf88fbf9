package storetest

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/matryer/is"

	"github.com/nahook/nahook/store"
)

var endpointKeyTests = join(
	[]test{
		{
			name:     "RotateEndpointKey/Grace",
			contract: "An endpoint gets a signing key of 32 bytes at creation; rotating makes a new one current while the old one keeps signing until the time given, and no other endpoint's key changes.",
			run: func(t *testing.T, h *harness) {
				is := is.New(t)
				o := h.outbox(t)
				old, err := h.nh.Endpoints.Secret(h.ctx, o.ws.ID, o.a.ID)
				is.NoErr(err)
				is.True(strings.HasPrefix(old, "whsec_"))
				before, err := h.st.GetEndpointKeys(h.ctx, o.ws.ID, o.a.ID)
				is.NoErr(err)
				is.Equal(len(before.Current), 32)
				is.Equal(before.Previous, []byte(nil))
				otherBefore, err := h.st.GetEndpointKeys(h.ctx, o.ws.ID, o.b.ID)
				is.NoErr(err)
				is.True(!bytes.Equal(otherBefore.Current, before.Current)) // every endpoint its own

				key := newKey()
				until := h.at().Add(24 * time.Hour)
				keys, err := h.st.RotateEndpointKey(h.ctx, o.ws.ID, o.a.ID, key, until)
				is.NoErr(err)
				is.Equal(keys.Current, key)
				is.Equal(keys.Previous, before.Current)
				is.Equal(keys.PreviousUntil, until)
				read, err := h.st.GetEndpointKeys(h.ctx, o.ws.ID, o.a.ID)
				is.NoErr(err)
				is.Equal(read, keys) // as returned
				otherAfter, err := h.st.GetEndpointKeys(h.ctx, o.ws.ID, o.b.ID)
				is.NoErr(err)
				is.Equal(otherAfter, otherBefore) // no other endpoint's key changed

				in := o.ingest(t, `{}`, "")
				var ds []store.Dispatch
				for _, c := range h.claimAll(t, in.Event.CreatedAt.Add(time.Millisecond)) {
					if c.Delivery.EndpointID == o.a.ID {
						ds = append(ds, c)
					}
				}
				is.Equal(len(ds), 1)
				is.Equal(ds[0].Keys.PreviousUntil, keys.PreviousUntil) // during the grace, both sign
				is.True(bytes.Equal(ds[0].Keys.Current, keys.Current))
				is.True(bytes.Equal(ds[0].Keys.Previous, keys.Previous))
				late := h.claimAll(t, until.Add(time.Minute))
				for _, c := range late {
					if c.Delivery.EndpointID == o.a.ID {
						is.Equal(len(c.Keys.Signing(keys.PreviousUntil.Add(time.Minute))), 1) // after it, only the new one
					}
				}
			},
		},
	},
	scoped("GetEndpointKeys", func(t *testing.T, h *harness, ws store.WorkspaceID, id ids) error {
		k, err := h.st.GetEndpointKeys(h.ctx, ws, id.ep)
		if k.Current != nil || k.Previous != nil {
			t.Errorf("GetEndpointKeys revealed keys of an endpoint it did not find")
		}
		return err
	}),
	scoped("RotateEndpointKey", func(t *testing.T, h *harness, ws store.WorkspaceID, id ids) error {
		k, err := h.st.RotateEndpointKey(h.ctx, ws, id.ep, newKey(), h.at().Add(time.Hour))
		if k.Current != nil || k.Previous != nil {
			t.Errorf("RotateEndpointKey returned keys of an endpoint it did not find")
		}
		return err
	}),
)
