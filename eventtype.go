// Event types: the workspace's catalogue, and the environments each type is
// published in.

package nahook

import (
	"context"

	"github.com/nahook/nahook/internal/typeid"
	"github.com/nahook/nahook/store"
)

// EventTypeService manages the workspace's event-type catalogue and where
// each type is published. Event types are workspace-wide; an event is
// routed in an environment only if its type is published there, and a type
// starts unpublished everywhere. Get it from Client.EventTypes.
type EventTypeService struct{ c *Client }

// MaxDescriptionChars bounds the description of event types and endpoints.
const MaxDescriptionChars = 1024

// EventTypeInput creates an event type.
type EventTypeInput struct {
	// Name is dot-separated segments of letters, digits, "_" and "-"
	// ("order.created"), at most 256 characters, unique within the workspace.
	Name string
	// Description is optional, at most 1024 characters.
	Description string
}

// EventTypePatch changes an event type; nil fields are left as they are.
type EventTypePatch struct {
	// Name renames the type; endpoints subscribed to it by name follow it.
	// Producers that send the old name will get "unknown event type".
	Name        *string
	Description *string
}

// Create adds an event type to the catalogue, published in no environment.
// It returns ErrConflict when the name is taken.
func (s *EventTypeService) Create(ctx context.Context, ws WorkspaceID, in EventTypeInput) (EventType, error) {
	if err := workspace(ws); err != nil {
		return EventType{}, err
	}
	if err := checkEventTypeName("name", in.Name); err != nil {
		return EventType{}, err
	}
	d, err := description("description", in.Description, MaxDescriptionChars)
	if err != nil {
		return EventType{}, err
	}
	now := s.c.now()
	et := EventType{
		ID:          EventTypeID(typeid.New(prefixEventType)),
		WorkspaceID: ws,
		Name:        in.Name,
		Description: d,
		CreatedAt:   now,
		UpdatedAt:   now,
	}
	if err := s.c.wrote(ws, s.c.store.CreateEventType(ctx, et)); err != nil {
		return EventType{}, err
	}
	return et, nil
}

// Get returns the event type, or ErrNotFound.
func (s *EventTypeService) Get(ctx context.Context, ws WorkspaceID, id EventTypeID) (EventType, error) {
	if err := eventType(ws, "", id); err != nil {
		return EventType{}, err
	}
	return s.c.store.GetEventType(ctx, ws, id)
}

// List returns one page of the catalogue, oldest first.
func (s *EventTypeService) List(ctx context.Context, ws WorkspaceID, opts ListOptions) (Page[EventType], error) {
	if err := workspace(ws); err != nil {
		return Page[EventType]{}, err
	}
	return list(opts, prefixEventType, func(e EventType) EventTypeID { return e.ID },
		func(p store.PageRequest) ([]EventType, error) { return s.c.store.ListEventTypes(ctx, ws, p) })
}

// Update applies p and returns the event type as it now is.
func (s *EventTypeService) Update(ctx context.Context, ws WorkspaceID, id EventTypeID, p EventTypePatch) (EventType, error) {
	if err := eventType(ws, "", id); err != nil {
		return EventType{}, err
	}
	u := store.EventTypeUpdate{UpdatedAt: s.c.now()}
	if p.Name != nil {
		if err := checkEventTypeName("name", *p.Name); err != nil {
			return EventType{}, err
		}
		u.Name = p.Name
	}
	if p.Description != nil {
		d, err := description("description", *p.Description, MaxDescriptionChars)
		if err != nil {
			return EventType{}, err
		}
		u.Description = &d
	}
	if u.Name == nil && u.Description == nil {
		return s.c.store.GetEventType(ctx, ws, id)
	}
	et, err := s.c.store.UpdateEventType(ctx, ws, id, u)
	return et, s.c.wrote(ws, err)
}

// Delete removes the event type from the catalogue, from every
// environment's visibility and from every endpoint subscribed to it by name.
// Wildcard subscriptions are left as they are.
func (s *EventTypeService) Delete(ctx context.Context, ws WorkspaceID, id EventTypeID) error {
	if err := eventType(ws, "", id); err != nil {
		return err
	}
	return s.c.wrote(ws, s.c.store.DeleteEventType(ctx, ws, id))
}

// SetPublished publishes (true) or unpublishes (false) the event type in
// one environment. Setting the state it already has is not an error.
func (s *EventTypeService) SetPublished(ctx context.Context, ws WorkspaceID, env EnvironmentID, id EventTypeID, published bool) error {
	if err := workspace(ws); err != nil {
		return err
	}
	if err := subject("environmentId", prefixEnvironment, env); err != nil {
		return err
	}
	if err := eventType(ws, "eventTypeId", id); err != nil {
		return err
	}
	return s.c.wrote(ws, s.c.store.SetEventTypeVisibility(ctx, ws, env, id, published))
}

// Visibility lists every event type of the workspace with whether it is
// published in the environment, ordered by name.
func (s *EventTypeService) Visibility(ctx context.Context, ws WorkspaceID, env EnvironmentID) ([]EventTypeVisibility, error) {
	if err := environment(ws, env); err != nil {
		return nil, err
	}
	return s.c.store.ListEventTypeVisibility(ctx, ws, env)
}

func eventType(ws WorkspaceID, field string, id EventTypeID) error {
	if err := workspace(ws); err != nil {
		return err
	}
	return subject(field, prefixEventType, id)
}

// published returns the names of the event types published in an
// environment of ws: what the portal offers there, and what an endpoint
// there can receive.
func (c *Client) published(ctx context.Context, ws WorkspaceID, env EnvironmentID) (map[string]bool, error) {
	vis, err := c.store.ListEventTypeVisibility(ctx, ws, env)
	if err != nil {
		return nil, err
	}
	names := make(map[string]bool, len(vis))
	for _, v := range vis {
		if v.Published {
			names[v.EventTypeName] = true
		}
	}
	return names, nil
}
