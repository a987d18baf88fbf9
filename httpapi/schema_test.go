package httpapi

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// openAPIDoc is the parsed OpenAPI document, for the tests.
type openAPIDoc struct {
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components struct {
		Schemas    map[string]schema          `json:"schemas"`
		Parameters map[string]json.RawMessage `json:"parameters"`
		Responses  map[string]struct {
			Content map[string]struct {
				Schema schema `json:"schema"`
			} `json:"content"`
		} `json:"responses"`
	} `json:"components"`
}

// operation is the part of an OpenAPI operation the tests read.
type operation struct {
	OperationID string `json:"operationId"`
	RequestBody *struct {
		Content map[string]struct {
			Schema schema `json:"schema"`
		} `json:"content"`
	} `json:"requestBody"`
	Responses map[string]struct {
		Ref     string `json:"$ref"`
		Content map[string]struct {
			Schema schema `json:"schema"`
		} `json:"content"`
	} `json:"responses"`
}

func loadOpenAPI() (*openAPIDoc, error) {
	var d openAPIDoc
	if err := json.Unmarshal(openAPI, &d); err != nil {
		return nil, err
	}
	return &d, nil
}

// responseSchema returns the schema of an operation's response with the
// given status, or false when the operation does not document it.
func (d *openAPIDoc) responseSchema(method, path string, status int) (schema, bool, error) {
	raw, ok := d.Paths[path][strings.ToLower(method)]
	if !ok {
		return schema{}, false, fmt.Errorf("no operation %s %s", method, path)
	}
	var op operation
	if err := json.Unmarshal(raw, &op); err != nil {
		return schema{}, false, err
	}
	r, ok := op.Responses[fmt.Sprint(status)]
	if !ok {
		return schema{}, false, nil
	}
	if r.Ref != "" {
		name := strings.TrimPrefix(r.Ref, "#/components/responses/")
		return d.Components.Responses[name].Content["application/json"].Schema, true, nil
	}
	return r.Content["application/json"].Schema, true, nil
}

// requestSchema returns the schema of an operation's JSON request body, or
// false when it takes none.
func (d *openAPIDoc) requestSchema(method, path string) (schema, bool, error) {
	raw, ok := d.Paths[path][strings.ToLower(method)]
	if !ok {
		return schema{}, false, fmt.Errorf("no operation %s %s", method, path)
	}
	var op operation
	if err := json.Unmarshal(raw, &op); err != nil {
		return schema{}, false, err
	}
	if op.RequestBody == nil {
		return schema{}, false, nil
	}
	return op.RequestBody.Content["application/json"].Schema, true, nil
}

// parameter is an OpenAPI parameter, or a reference to one in
// components.parameters.
type parameter struct {
	Ref    string `json:"$ref"`
	Name   string `json:"name"`
	In     string `json:"in"`
	Schema schema `json:"schema"`
}

// queryParameters returns the schemas of the query parameters an operation
// documents, by name: its own and its path's.
func (d *openAPIDoc) queryParameters(method, path string) (map[string]schema, error) {
	item, ok := d.Paths[path]
	if !ok {
		return nil, fmt.Errorf("no path %s", path)
	}
	var op struct {
		Parameters []parameter `json:"parameters"`
	}
	if err := json.Unmarshal(item[strings.ToLower(method)], &op); err != nil {
		return nil, fmt.Errorf("%s %s: %v", method, path, err)
	}
	var shared []parameter
	if raw, ok := item["parameters"]; ok {
		if err := json.Unmarshal(raw, &shared); err != nil {
			return nil, err
		}
	}
	params := map[string]schema{}
	for _, p := range append(shared, op.Parameters...) {
		if p.Ref != "" {
			raw, ok := d.Components.Parameters[strings.TrimPrefix(p.Ref, "#/components/parameters/")]
			if !ok {
				return nil, fmt.Errorf("%s %s: unresolved $ref %s", method, path, p.Ref)
			}
			if err := json.Unmarshal(raw, &p); err != nil {
				return nil, err
			}
		}
		if p.In == "query" {
			params[p.Name] = p.Schema
		}
	}
	return params, nil
}

// queryValue returns a query parameter's text as the JSON value its schema
// describes: a boolean or integer schema takes only the text of one, and
// anything else is left as a string, which the schema then refuses.
func queryValue(s schema, text string) any {
	switch s.Type {
	case "boolean":
		if b, err := strconv.ParseBool(text); err == nil && (text == "true" || text == "false") {
			return b
		}
	case "integer":
		if n, err := strconv.Atoi(text); err == nil {
			return float64(n)
		}
	}
	return text
}

// schema is the subset of JSON Schema the document uses.
type schema struct {
	Ref                  string            `json:"$ref"`
	Type                 any               `json:"type"` // a name or a list of names
	Properties           map[string]schema `json:"properties"`
	Required             []string          `json:"required"`
	AdditionalProperties any               `json:"additionalProperties"` // false, or a schema
	Items                *schema           `json:"items"`
	Enum                 []any             `json:"enum"`
	Pattern              string            `json:"pattern"`
	Format               string            `json:"format"`
	MinLength            *int              `json:"minLength"`
	MaxLength            *int              `json:"maxLength"`
	MaxProperties        *int              `json:"maxProperties"`
}

// validate checks the JSON value v against s, resolving references in d,
// and returns every violation with its path.
func (d *openAPIDoc) validate(s schema, v any, path string) []string {
	if s.Ref != "" {
		name := strings.TrimPrefix(s.Ref, "#/components/schemas/")
		target, ok := d.Components.Schemas[name]
		if !ok {
			return []string{path + ": unresolved $ref " + s.Ref}
		}
		return d.validate(target, v, path)
	}
	var errs []string
	fail := func(format string, args ...any) { errs = append(errs, path+": "+fmt.Sprintf(format, args...)) }
	if s.Type != nil && !typeMatches(s.Type, v) {
		fail("is %s, want type %v", jsonKind(v), s.Type)
		return errs
	}
	if len(s.Enum) > 0 {
		found := false
		for _, e := range s.Enum {
			found = found || e == v
		}
		if !found {
			fail("%v is not one of %v", v, s.Enum)
		}
	}
	switch x := v.(type) {
	case string:
		if s.Pattern != "" && !regexp.MustCompile(s.Pattern).MatchString(x) {
			fail("%q does not match %s", x, s.Pattern)
		}
		if s.Format == "date-time" {
			// A request (body or query) may give any RFC 3339 time, as the
			// format says;
			// the API answers in one form, UTC with milliseconds.
			if strings.HasPrefix(path, "request") || strings.HasPrefix(path, "query") {
				if _, err := time.Parse(time.RFC3339Nano, x); err != nil {
					fail("%q is not an RFC 3339 time", x)
				}
			} else if _, err := time.Parse("2006-01-02T15:04:05.000Z", x); err != nil {
				fail("%q is not an RFC 3339 UTC time with milliseconds", x)
			}
		}
		if s.MinLength != nil && utf8.RuneCountInString(x) < *s.MinLength || s.MaxLength != nil && utf8.RuneCountInString(x) > *s.MaxLength {
			fail("length of %q out of bounds", x)
		}
	case []any:
		if s.Items != nil {
			for i, item := range x {
				errs = append(errs, d.validate(*s.Items, item, fmt.Sprintf("%s[%d]", path, i))...)
			}
		}
	case map[string]any:
		for _, r := range s.Required {
			if _, ok := x[r]; !ok {
				fail("missing required %q", r)
			}
		}
		if s.MaxProperties != nil && len(x) > *s.MaxProperties {
			fail("has %d properties, at most %d allowed", len(x), *s.MaxProperties)
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if p, ok := s.Properties[k]; ok {
				errs = append(errs, d.validate(p, x[k], path+"."+k)...)
				continue
			}
			switch ap := s.AdditionalProperties.(type) {
			case bool:
				if !ap {
					fail("has undocumented property %q", k)
				}
			case map[string]any:
				b, _ := json.Marshal(ap)
				var sub schema
				json.Unmarshal(b, &sub)
				errs = append(errs, d.validate(sub, x[k], path+"."+k)...)
			}
		}
	}
	return errs
}

func typeMatches(t any, v any) bool {
	switch t := t.(type) {
	case string:
		return jsonKind(v) == t || (t == "number" && jsonKind(v) == "integer")
	case []any:
		for _, name := range t {
			if typeMatches(name, v) {
				return true
			}
		}
	}
	return false
}

func jsonKind(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case float64:
		if x == float64(int64(x)) {
			return "integer"
		}
		return "number"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

func mustCompile(s string) *regexp.Regexp { return regexp.MustCompile(s) }
