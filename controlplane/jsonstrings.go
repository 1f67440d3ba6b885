package controlplane

import "encoding/json"

// decodeStrings decodes a JSON array of strings, as the rdata and records
// columns hold them. The common shape — plain ASCII strings without
// escapes, as PostgreSQL writes jsonb (`["a", "b"]`) — is read by hand
// into one string that the elements share (two allocations a record set;
// encoding/json's reflection costs about ten times the time of a small
// array); anything else goes to json.Unmarshal, so the result is always
// what json.Unmarshal gives (FuzzDecodeStrings).
func decodeStrings(raw []byte) ([]string, error) {
	if out, ok := decodeSimpleStrings(raw); ok {
		return out, nil
	}
	var out []string
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// decodeSimpleStrings is decodeStrings' fast path; it reports false for
// whatever it does not handle (escapes, non-ASCII, null, anything but an
// array of strings).
func decodeSimpleStrings(raw []byte) ([]string, bool) {
	i := skipJSONSpace(raw, 0)
	if i == len(raw) || raw[i] != '[' {
		return nil, false
	}
	i = skipJSONSpace(raw, i+1)
	// First pass: check the shape and count the elements.
	n := 0
	if i < len(raw) && raw[i] == ']' {
		if skipJSONSpace(raw, i+1) != len(raw) {
			return nil, false
		}
		return []string{}, true
	}
	for j := i; ; {
		if j == len(raw) || raw[j] != '"' {
			return nil, false
		}
		j++
		for j < len(raw) && raw[j] != '"' {
			if c := raw[j]; c < 0x20 || c >= 0x80 || c == '\\' {
				return nil, false
			}
			j++
		}
		if j == len(raw) {
			return nil, false
		}
		n++
		j = skipJSONSpace(raw, j+1)
		if j == len(raw) {
			return nil, false
		}
		if raw[j] == ']' {
			if skipJSONSpace(raw, j+1) != len(raw) {
				return nil, false
			}
			break
		}
		if raw[j] != ',' {
			return nil, false
		}
		j = skipJSONSpace(raw, j+1)
	}
	// Second pass: the elements, substrings of one copy of raw.
	all := string(raw)
	out := make([]string, 0, n)
	for j := i; len(out) < n; {
		start := j + 1
		end := start
		for all[end] != '"' {
			end++
		}
		out = append(out, all[start:end])
		j = skipJSONSpace(raw, end+1)
		if raw[j] == ',' {
			j = skipJSONSpace(raw, j+1)
		}
	}
	return out, true
}

// skipJSONSpace returns the index of the first byte at or after i of b
// that is not JSON white space.
func skipJSONSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}
