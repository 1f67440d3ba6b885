package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strings"
	"unicode/utf8"

	"github.com/waymark-dns/waymark/controlplane"
)

// writeJSON writes v as the response body with the given status.
func (h *handler) writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		// Only a programming error gets here: our DTOs always encode.
		h.log.Error("encode response", "err", err)
		status, b = http.StatusInternalServerError, []byte(`{"error":{"code":"InternalError","message":"internal error","details":[]},"request_id":""}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// decodeJSON reads the request body strictly into dst (see decodeStrict),
// after checking that it is declared as JSON (or not declared at all).
func (h *handler) decodeJSON(r *http.Request, dst any) error {
	if err := requireMediaType(r, "application/json"); err != nil {
		return err
	}
	return decodeStrict(r.Body, dst)
}

// requireMediaType accepts a request whose Content-Type is one of types,
// or absent; anything else is 415.
func requireMediaType(r *http.Request, types ...string) error {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err == nil {
		for _, t := range types {
			if mt == t {
				return nil
			}
		}
	}
	return apiError(codeUnsupportedMediaType,
		fmt.Sprintf("Content-Type %q is not supported here; use %s", ct, strings.Join(types, " or ")))
}

// decodeStrict decodes exactly one JSON value from body into dst: unknown
// fields, field names in the wrong case (encoding/json would accept "TTL"
// for "ttl"), wrong types, trailing data and an empty body are InvalidInput
// errors with a message that says what was wrong and where. A body over
// the size limit comes back as *http.MaxBytesError (413).
func decodeStrict(body io.Reader, dst any) error {
	data, err := io.ReadAll(body)
	if err != nil {
		return err
	}
	// encoding/json would turn invalid UTF-8 into U+FFFD silently.
	if !utf8.Valid(data) {
		return invalidInput("request body is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeError(err)
	}
	var extra json.RawMessage
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return invalidInput("request body must contain a single JSON value")
	}
	var generic any
	if err := json.Unmarshal(data, &generic); err != nil {
		return decodeError(err)
	}
	if err := plainText(generic, ""); err != nil {
		return err
	}
	return exactKeys(generic, reflect.TypeOf(dst), "")
}

// plainText rejects control characters (C0, DEL, C1; NUL among them) in
// every string and key of v: no field of the API is meant to hold them,
// and PostgreSQL text cannot hold NUL at all. Record data spells such bytes
// as \DDD escapes, which are plain text. The one exception is a PEM
// field (named *_pem: certificates and keys), whose lines are broken by
// line feeds, with carriage returns from some tools.
func plainText(v any, path string) error {
	bad := func(s, field string) error {
		pemField := strings.HasSuffix(field, "_pem")
		for _, r := range s {
			if pemField && (r == '\n' || r == '\r') {
				continue
			}
			if r < 0x20 || r == 0x7f || (0x80 <= r && r <= 0x9f) {
				field = strings.TrimPrefix(field, ".")
				return &controlplane.Error{
					Code:    controlplane.CodeInvalidInput,
					Message: fmt.Sprintf("field %q contains the control character U+%04X; send plain text", field, r),
					Details: []controlplane.Detail{{Field: field, Message: "control character"}},
				}
			}
		}
		return nil
	}
	switch x := v.(type) {
	case string:
		return bad(x, path)
	case map[string]any:
		for key, val := range x {
			if err := bad(key, path+"."+key); err != nil {
				return err
			}
			if err := plainText(val, path+"."+key); err != nil {
				return err
			}
		}
	case []any:
		for i, val := range x {
			if err := plainText(val, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	}
	return nil
}

// exactKeys checks that every object key in v names a field of t by its
// exact JSON name. It runs after a successful decode, so v has t's shape.
func exactKeys(v any, t reflect.Type, path string) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch x := v.(type) {
	case map[string]any:
		if t.Kind() != reflect.Struct {
			return nil
		}
		for key, val := range x {
			f, ok := fieldByJSONName(t, key)
			if !ok {
				field := strings.TrimPrefix(path+"."+key, ".")
				return &controlplane.Error{
					Code:    controlplane.CodeInvalidInput,
					Message: fmt.Sprintf("unknown field %q (field names are case-sensitive)", field),
					Details: []controlplane.Detail{{Field: field, Message: "unknown field"}},
				}
			}
			if err := exactKeys(val, f.Type, path+"."+key); err != nil {
				return err
			}
		}
	case []any:
		if t.Kind() != reflect.Slice && t.Kind() != reflect.Array {
			return nil
		}
		for i, val := range x {
			if err := exactKeys(val, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	}
	return nil
}

func fieldByJSONName(t reflect.Type, name string) (reflect.StructField, bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if tag == "" && f.Anonymous && f.Type.Kind() == reflect.Struct {
			// An embedded struct's fields are the outer object's, as
			// encoding/json reads them.
			if ef, ok := fieldByJSONName(f.Type, name); ok {
				return ef, true
			}
			continue
		}
		if tag == "" {
			tag = f.Name
		}
		if tag == name && tag != "-" {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

func decodeError(err error) error {
	var (
		syn *json.SyntaxError
		typ *json.UnmarshalTypeError
		mbe *http.MaxBytesError
	)
	switch {
	case errors.As(err, &mbe):
		return err
	case errors.Is(err, io.EOF):
		return invalidInput("request body is empty; expected a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return invalidInput("malformed JSON: unexpected end of input")
	case errors.As(err, &syn):
		return invalidInput(fmt.Sprintf("malformed JSON at byte %d: %s", syn.Offset, strings.TrimPrefix(syn.Error(), "json: ")))
	case errors.As(err, &typ):
		if typ.Field == "" {
			return invalidInput(fmt.Sprintf("expected a JSON %s, got %s", jsonKind(typ.Type.Kind().String()), typ.Value))
		}
		return &controlplane.Error{
			Code:    controlplane.CodeInvalidInput,
			Message: fmt.Sprintf("field %q must be %s, got %s", typ.Field, jsonKind(typ.Type.Kind().String()), typ.Value),
			Details: []controlplane.Detail{{Field: typ.Field, Message: "wrong type"}},
		}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return &controlplane.Error{
			Code:    controlplane.CodeInvalidInput,
			Message: fmt.Sprintf("unknown field %q", field),
			Details: []controlplane.Detail{{Field: field, Message: "unknown field"}},
		}
	}
	return invalidInput("malformed JSON: " + strings.TrimPrefix(err.Error(), "json: "))
}

// jsonKind names a Go kind the way a JSON user thinks of it.
func jsonKind(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "struct", "map":
		return "an object"
	case "slice", "array":
		return "an array"
	case "bool":
		return "a boolean"
	case "ptr":
		return "a value"
	}
	return "a number" // the int, uint and float kinds
}

func invalidInput(msg string) *controlplane.Error {
	return apiError(controlplane.CodeInvalidInput, msg)
}

// plainURL answers 400 for a request whose path or query parameters hold
// invalid UTF-8 or control characters (%00 in an id), before any handler
// passes them to the database.
func (h *handler) plainURL(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := plainRequestURL(r); err != nil {
			h.writeError(w, r, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func plainRequestURL(r *http.Request) error {
	if !utf8.ValidString(r.URL.Path) {
		return invalidInput("the request path is not valid UTF-8")
	}
	if err := plainText(r.URL.Path, "path"); err != nil {
		return err
	}
	for k, vs := range r.URL.Query() {
		for _, v := range vs {
			if !utf8.ValidString(k) || !utf8.ValidString(v) {
				return invalidInput(fmt.Sprintf("query parameter %q is not valid UTF-8", k))
			}
			if err := plainText(map[string]any{k: v}, "query"); err != nil {
				return err
			}
		}
	}
	return nil
}
