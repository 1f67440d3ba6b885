package route53domains

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"reflect"
	"strconv"
	"time"
)

// decode reads a JSON 1.1 request body into v (a pointer to the
// operation's input struct). An empty body is the empty object, as the
// SDKs send for operations without input. A body that is not one JSON
// object of the right member types is a SerializationException, as AWS
// answers it; members the model does not have are ignored, as AWS does,
// so that newer clients keep working.
func decode(body []byte, v any) error {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil
	}
	if body[0] != '{' {
		return errSerialization("The request body must be a JSON object.")
	}
	d := json.NewDecoder(bytes.NewReader(body))
	if err := d.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return errSerialization(fmt.Sprintf("%s has the wrong type: expected %s.", quoteShort(te.Field), te.Type))
		}
		var ie *inputError
		if errors.As(err, &ie) {
			return errInvalidInput(ie.msg)
		}
		return errSerialization("The request body is not valid JSON.")
	}
	if _, err := d.Token(); !errors.Is(err, io.EOF) {
		return errSerialization("The request body has data after the JSON object.")
	}
	return nil
}

func errSerialization(msg string) *awsError {
	return newError(http.StatusBadRequest, "SerializationException", msg)
}

// inputError is a member whose JSON type is right but whose value cannot
// be one (a timestamp out of range).
type inputError struct{ msg string }

func (e *inputError) Error() string { return e.msg }

// epoch is a timestamp as AWS JSON 1.1 carries it: seconds since the
// Unix epoch, a JSON number with an optional fraction.
type epoch struct{ time.Time }

var typeOfEpoch = reflect.TypeFor[epoch]()

// maxEpoch is the latest timestamp accepted (year 9999).
const maxEpoch = 253402300799

// MarshalJSON writes seconds with millisecond precision.
func (t epoch) MarshalJSON() ([]byte, error) {
	ms := t.UnixMilli()
	if ms%1000 == 0 {
		return strconv.AppendInt(nil, ms/1000, 10), nil
	}
	return strconv.AppendFloat(nil, float64(ms)/1000, 'f', 3, 64), nil
}

// UnmarshalJSON reads seconds, fractional or not.
func (t *epoch) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return &json.UnmarshalTypeError{Value: "timestamp", Type: typeOfEpoch}
	}
	if math.IsNaN(f) || f < 0 || f > maxEpoch {
		return &inputError{msg: "A timestamp must be seconds since 1970 before the year 10000."}
	}
	sec, frac := math.Modf(f)
	t.Time = time.Unix(int64(sec), int64(frac*1e9)).UTC()
	return nil
}
