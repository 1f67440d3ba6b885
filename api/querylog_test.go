package api

import (
	"net/url"
	"testing"
	"time"

	"github.com/waymark-dns/waymark/controlplane"
)

func TestParseQueryLogParams(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 2, 18, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		query string
		want  controlplane.QueryLogQuery
		bad   bool
	}{
		{query: "", want: controlplane.QueryLogQuery{}},
		{query: "since=2026-12-02T17:00:00Z", want: controlplane.QueryLogQuery{Since: now.Add(-time.Hour)}},
		{query: "since=2026-12-02T18:00:00.5%2B01:00", want: controlplane.QueryLogQuery{Since: now.Add(-time.Hour + 500*time.Millisecond)}},
		{query: "since=15m&follow=true", want: controlplane.QueryLogQuery{Since: now.Add(-15 * time.Minute), Follow: true}},
		{query: "since=1796230800&limit=10", want: controlplane.QueryLogQuery{Since: time.Unix(1796230800, 0).UTC(), Limit: 10}},
		{query: "follow=false&limit=10000", want: controlplane.QueryLogQuery{Limit: 10000}},
		{query: "since=yesterday", bad: true},
		{query: "since=-5m", bad: true},
		{query: "since=", bad: true},
		{query: "since=2030-01-01T00:00:00Z", bad: true}, // more than a day ahead
		{query: "since=99999999999", bad: true},
		{query: "follow=maybe", bad: true},
		{query: "limit=0", bad: true},
		{query: "limit=10001", bad: true},
		{query: "limit=1&limit=2", bad: true},
		{query: "sinse=5m", bad: true},
	} {
		v, err := url.ParseQuery(tc.query)
		if err != nil {
			t.Fatal(err)
		}
		got, err := parseQueryLogParams(v, now)
		switch {
		case tc.bad && !controlplane.IsCode(err, controlplane.CodeInvalidInput):
			t.Errorf("%q: got %+v, %v; want InvalidInput", tc.query, got, err)
		case !tc.bad && (err != nil || !got.Since.Equal(tc.want.Since) || got.Follow != tc.want.Follow || got.Limit != tc.want.Limit):
			t.Errorf("%q: got %+v, %v; want %+v", tc.query, got, err, tc.want)
		}
	}
}

// FuzzParseQueryLogParams: any query string gives a valid selection or
// InvalidInput, never a panic, a time outside 1970..now+1d or a limit out
// of range.
func FuzzParseQueryLogParams(f *testing.F) {
	for _, s := range []string{"", "since=15m&follow=true", "since=2026-12-02T17:00:00Z&limit=5", "since=1796230800",
		"since=9223372036854775807", "since=2562047h", "limit=-1", "follow=1&follow=0", "since=T:-" + "0000000000000000000"} {
		f.Add(s)
	}
	now := time.Date(2026, 12, 2, 18, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		v, err := url.ParseQuery(s)
		if err != nil {
			return
		}
		q, err := parseQueryLogParams(v, now)
		if err != nil {
			if !controlplane.IsCode(err, controlplane.CodeInvalidInput) {
				t.Fatalf("%q: %v", s, err)
			}
			return
		}
		if !q.Since.IsZero() && (q.Since.Before(time.Unix(0, 0)) || q.Since.After(now.Add(24*time.Hour))) {
			t.Fatalf("%q: since %v", s, q.Since)
		}
		if q.Limit < 0 || q.Limit > controlplane.MaxQueryLogLimit {
			t.Fatalf("%q: limit %d", s, q.Limit)
		}
	})
}
