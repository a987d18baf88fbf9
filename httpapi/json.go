package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/nahook/nahook"
)

// API-level failures that are no rule of the library.
var (
	errForbiddenKind        = errors.New("forbidden")
	errTooLarge             = errors.New("payload too large")
	errUnsupportedMediaType = errors.New("unsupported media type")
)

func errForbidden(msg string) error {
	return &nahook.Error{Kind: errForbiddenKind, Message: msg}
}

func notFound(resource, id string) error {
	return &nahook.Error{Kind: nahook.ErrNotFound, Message: fmt.Sprintf("%s %s not found", resource, strconv.Quote(id))}
}

func isNotFound(err error) bool { return errors.Is(err, nahook.ErrNotFound) }

func invalid(field, format string, args ...any) error {
	return &nahook.Error{Kind: nahook.ErrInvalid, Field: field, Message: fmt.Sprintf(format, args...)}
}

// statuses maps each kind of error to its status and code, most specific
// first. nahook.ErrOtherEnvironment is not here: the one route that can
// meet it answers not found itself (ingestDirect); anywhere else it would
// be a bug, answered as a 500 that reveals nothing.
var statuses = []struct {
	kind   error
	status int
	code   string
}{
	{nahook.ErrInvalid, http.StatusBadRequest, "invalid"},
	{nahook.ErrUnauthorized, http.StatusUnauthorized, "unauthorized"},
	{errForbiddenKind, http.StatusForbidden, "forbidden"},
	{nahook.ErrUnknownEventType, http.StatusNotFound, "unknown_event_type"},
	{nahook.ErrNotFound, http.StatusNotFound, "not_found"},
	{nahook.ErrDefaultEnvironment, http.StatusConflict, "default_environment"},
	{nahook.ErrLimitExceeded, http.StatusConflict, "limit_exceeded"},
	{nahook.ErrConflict, http.StatusConflict, "conflict"},
	{nahook.ErrNotPublished, http.StatusConflict, "not_published"},
	{nahook.ErrEndpointDisabled, http.StatusConflict, "endpoint_disabled"},
	{nahook.ErrIdempotencyKeyReused, http.StatusUnprocessableEntity, "idempotency_key_reused"},
	{errTooLarge, http.StatusRequestEntityTooLarge, "payload_too_large"},
	{errUnsupportedMediaType, http.StatusUnsupportedMediaType, "unsupported_media_type"},
	{nahook.ErrUnavailable, http.StatusServiceUnavailable, "unavailable"},
}

// brokenRule returns the status and body that answer err, when err is a
// broken rule (statuses), and false when it is not: a 500.
func brokenRule(err error) (int, errorBody, bool) {
	for _, s := range statuses {
		if !errors.Is(err, s.kind) {
			continue
		}
		body := errorBody{Code: s.code, Message: err.Error()}
		if e, ok := errors.AsType[*nahook.Error](err); ok {
			body.Message, body.Field = e.Message, e.Field
		}
		return s.status, body, true
	}
	return 0, errorBody{}, false
}

// retryAfterUnavailable is the Retry-After of a 503: soon enough for a
// database that restarts or fails over, not so soon that clients hammer
// one that is down.
const retryAfterUnavailable = "2"

// fail writes err as the API's error body. An error that is no broken rule
// is a 500 whose details go to the log, never to the client.
func (a *api) fail(w http.ResponseWriter, r *http.Request, err error) {
	if status, body, ok := brokenRule(err); ok {
		if status == http.StatusServiceUnavailable {
			// The details say what is down, which is the host's business;
			// the client learns only when to come back.
			a.cfg.Logger.WarnContext(r.Context(), "httpapi: store unavailable", "method", r.Method, "path", r.URL.Path, "err", err)
			w.Header().Set("Retry-After", retryAfterUnavailable)
		}
		writeJSON(w, status, errorResponse{body})
		return
	}
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		return // the client went away; nobody is listening
	}
	a.cfg.Logger.ErrorContext(r.Context(), "httpapi: internal error", "method", r.Method, "path", r.URL.Path, "err", err)
	writeJSON(w, http.StatusInternalServerError, errorResponse{errorBody{Code: "internal", Message: "internal error"}})
}

// writeJSON writes v with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// Only the API's own types are encoded, so this is a bug.
		panic("httpapi: encoding a response: " + err.Error())
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// readBody reads the request body up to the size limit.
func (a *api) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, a.cfg.MaxBodyBytes))
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return nil, &nahook.Error{Kind: errTooLarge, Message: fmt.Sprintf("the body is larger than %d bytes", a.cfg.MaxBodyBytes)}
	}
	if err != nil {
		// A body cut short or too slow to arrive is the client's doing.
		return nil, invalid("body", "the request body could not be read in full")
	}
	return b, nil
}

// decode reads a JSON request body into v, strictly: a JSON object sent as
// application/json, whose keys are v's field names exactly (case included),
// each at most once, every value of its field's type. Each refusal names
// the field.
func (a *api) decode(w http.ResponseWriter, r *http.Request, v any) error {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" && !strings.HasSuffix(mt, "+json") {
		// Also what keeps a cross-site form post from reaching a dashboard
		// route authenticated by cookie: it cannot send this type without
		// a preflight.
		return &nahook.Error{Kind: errUnsupportedMediaType, Message: `send the body as JSON, with "Content-Type: application/json"`}
	}
	body, err := a.readBody(w, r)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return invalid("body", "the request body must be a JSON object")
	}
	if err := checkKeys(body, jsonFields(reflect.TypeOf(v).Elem())); err != nil {
		return err
	}
	if !utf8.Valid(body) {
		// Not in a value (checkKeys names that field): in a key.
		return invalid("body", "the request body must be UTF-8: it holds bytes that are not")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	return nil
}

// checkKeys requires body to be a single JSON object whose keys are among
// fields, exactly as spelled, each at most once. encoding/json alone would
// match keys ignoring case and let a repeated key win over the first.
func checkKeys(body []byte, fields map[string]bool) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	tok, err := dec.Token()
	if err != nil {
		return jsonError(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return invalid("body", "the request body must be a JSON object")
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return jsonError(err)
		}
		key, _ := tok.(string)
		switch {
		case !fields[key]:
			return invalid(key, "unknown field %q", key)
		case seen[key]:
			return invalid(key, "field %q appears more than once", key)
		}
		seen[key] = true
		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			return jsonError(err)
		}
		if !utf8.Valid(value) {
			// encoding/json would quietly turn the bytes into U+FFFD.
			return invalid(key, "%s must be UTF-8: it holds bytes that are not", key)
		}
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return jsonError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return invalid("body", "the request body must hold a single JSON value")
	}
	return nil
}

// jsonFields returns the JSON names of a struct type's fields.
func jsonFields(t reflect.Type) map[string]bool {
	out := map[string]bool{}
	for i := 0; i < t.NumField(); i++ {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" {
			out[name] = true
		}
	}
	return out
}

// jsonError turns a decoding error into an ErrInvalid naming the field.
func jsonError(err error) error {
	if e, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
		if e.Field == "" {
			return invalid("body", "the request body must be a JSON object")
		}
		// For a map's values Field names the map: "metadata: expected a
		// string, got number" reads right for both.
		return invalid(e.Field, "%s: expected %s, got %s", e.Field, jsonType(e.Type), e.Value)
	}
	if e, ok := errors.AsType[*json.SyntaxError](err); ok {
		return invalid("body", "the request body is not valid JSON (at byte %d): %s", e.Offset, e.Error())
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return invalid("body", "the request body is cut short: not complete JSON")
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		name, _ = strconv.Unquote(name)
		return invalid(name, "unknown field %q", name)
	}
	if e, ok := errors.AsType[*nahook.Error](err); ok {
		return e
	}
	return invalid("body", "the request body is not valid: %v", err)
}

// jsonType names a Go type as JSON calls it.
func jsonType(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int64, reflect.Int32:
		return "a whole number"
	case reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	}
	return "of another type"
}

// optional is a field of a PATCH body: left out (Set false), null (Null),
// or a value.
type optional[T any] struct {
	Set, Null bool
	Value     T
}

// UnmarshalJSON implements json.Unmarshaler.
func (o *optional[T]) UnmarshalJSON(b []byte) error {
	o.Set = true
	if string(b) == "null" {
		o.Null = true
		return nil
	}
	return json.Unmarshal(b, &o.Value)
}

// ptr returns the value as a pointer, or nil when left out.
func (o optional[T]) ptr() *T {
	if !o.Set {
		return nil
	}
	return &o.Value
}

// notNull refuses a null for a field that cannot be cleared.
func (o optional[T]) notNull(field string) error {
	if o.Null {
		return invalid(field, "%s cannot be null", field)
	}
	return nil
}

// respond writes convert(v) with status, or returns err.
func respond[T, J any](w http.ResponseWriter, status int, convert func(T) J, v T, err error) error {
	if err != nil {
		return err
	}
	writeJSON(w, status, convert(v))
	return nil
}

// respondPage writes a page of records as the API's list, or returns err.
func respondPage[T, J any](w http.ResponseWriter, convert func(T) J, p nahook.Page[T], err error) error {
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, page(p, convert))
	return nil
}

// noContent answers 204 for a delete that worked, or returns err.
func noContent(w http.ResponseWriter, err error) error {
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// listOptions reads ?limit= and ?cursor=.
func listOptions(r *http.Request) (nahook.ListOptions, error) {
	q := r.URL.Query()
	opts := nahook.ListOptions{Cursor: q.Get("cursor")}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > nahook.MaxLimit {
			return opts, invalid("limit", "limit must be a whole number from 1 to %d", nahook.MaxLimit)
		}
		opts.Limit = n
	}
	return opts, nil
}
