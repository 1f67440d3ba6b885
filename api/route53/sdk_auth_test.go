package route53_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	r53 "github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"
)

// TestIntegrationSigV4 checks authentication as SDKs meet it: a missing,
// incomplete, unknown, tampered, expired or mis-scoped signature each get
// AWS's code and status; clock skew is answered with the server's Date so
// that the SDK corrects itself and succeeds; an unsigned caller learns
// nothing about which key ids exist.
func TestIntegrationSigV4(t *testing.T) {
	t.Parallel()
	s := newServer(t, serverOptions{})
	_, keyID, secret := s.tenant("auth")
	now := time.Now()
	const path = "/2013-04-01/hostedzonecount"

	ok := s.signed(t, keyID, secret, "GET", path, "", now)
	if ok.status != http.StatusOK || !strings.Contains(ok.body, "<HostedZoneCount>0</HostedZoneCount>") {
		t.Fatalf("signed request: %d %s", ok.status, ok.body)
	}
	if ok.header.Get("x-amzn-RequestId") == "" || ok.header.Get("Content-Type") != "text/xml" {
		t.Fatalf("headers %v", ok.header)
	}

	for _, tc := range []struct {
		name   string
		key    string
		at     time.Time
		mutate func(*http.Request)
		status int
		code   string
	}{
		{"missing", keyID, now, func(r *http.Request) { r.Header.Del("Authorization") }, 403, "MissingAuthenticationToken"},
		{"missing, unknown key", "AKWAAAAAAAAAAAAAAAA", now, func(r *http.Request) { r.Header.Del("Authorization") }, 403, "MissingAuthenticationToken"},
		{"garbled", keyID, now, func(r *http.Request) { r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=x") }, 400, "IncompleteSignature"},
		{"other algorithm", keyID, now, func(r *http.Request) { r.Header.Set("Authorization", "Bearer x") }, 400, "IncompleteSignature"},
		{"unknown key", "AKWAAAAAAAAAAAAAAAA", now, nil, 403, "InvalidClientTokenId"},
		{"tampered signature", keyID, now, func(r *http.Request) {
			v := r.Header.Get("Authorization")
			i := strings.LastIndex(v, "=") + 1
			c := byte('0')
			if v[i] == '0' {
				c = '1'
			}
			r.Header.Set("Authorization", v[:i]+string(c)+v[i+1:])
		}, 403, "SignatureDoesNotMatch"},
		{"tampered query", keyID, now, func(r *http.Request) { r.URL.RawQuery = "x=1" }, 403, "SignatureDoesNotMatch"},
		{"wrong secret", keyID, now, nil, 403, "SignatureDoesNotMatch"},
		{"wrong service", keyID, now, func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "/route53/", "/s3/", 1))
		}, 403, "SignatureDoesNotMatch"},
		{"expired", keyID, now.Add(-6 * time.Minute), nil, 403, "RequestTimeTooSkewed"},
		{"future", keyID, now.Add(6 * time.Minute), nil, 403, "RequestTimeTooSkewed"},
		{"expired, unknown key", "AKWAAAAAAAAAAAAAAAA", now.Add(-6 * time.Minute), nil, 403, "RequestTimeTooSkewed"},
		{"session token", keyID, now, func(r *http.Request) { r.Header.Set("X-Amz-Security-Token", "x") }, 403, "InvalidClientTokenId"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sec := secret
			if tc.name == "wrong secret" {
				sec = "not-the-secret"
			}
			var mut []func(*http.Request)
			if tc.mutate != nil {
				mut = append(mut, tc.mutate)
			}
			res := s.signed(t, tc.key, sec, "GET", path, "", tc.at, mut...)
			if res.status != tc.status || !strings.Contains(res.body, "<Code>"+tc.code+"</Code>") ||
				!strings.Contains(res.body, "<ErrorResponse xmlns=\"https://route53.amazonaws.com/doc/2013-04-01/\">") ||
				!strings.Contains(res.body, "<Type>Sender</Type>") || !strings.Contains(res.body, "<RequestId>") {
				t.Fatalf("got %d %s, want %d %s", res.status, res.body, tc.status, tc.code)
			}
			if d, err := http.ParseTime(res.header.Get("Date")); err != nil || d.Sub(now).Abs() > time.Minute {
				t.Fatalf("Date header %q", res.header.Get("Date"))
			}
		})
	}

	// A body the signature does not cover.
	body := `<UpdateHostedZoneCommentRequest xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><Comment>x</Comment></UpdateHostedZoneCommentRequest>`
	res := s.signed(t, keyID, secret, "POST", "/2013-04-01/hostedzone/ZAAAAAAAAAAAAAAAA", body, now, func(r *http.Request) {
		r.Body = http.NoBody
		r.ContentLength = 0
		r.GetBody = nil
	})
	if res.status != 403 || !strings.Contains(res.body, "SignatureDoesNotMatch") {
		t.Fatalf("body swapped: %d %s", res.status, res.body)
	}

	// The SDK, with a clock 10 minutes off the server's, reads the Date of
	// the RequestTimeTooSkewed answer and retries with corrected time.
	ctx := context.Background()
	s.skew.Store(int64(10 * time.Minute))
	t.Cleanup(func() { s.skew.Store(0) })
	c := s.client(keyID, secret)
	if _, err := c.GetHostedZoneCount(ctx, &r53.GetHostedZoneCountInput{}); err != nil {
		t.Fatalf("the SDK did not correct a 10-minute skew: %v", err)
	}
	noRetry := s.client(keyID, secret, func(o *r53.Options) { o.Retryer = aws.NopRetryer{} })
	_, err := noRetry.GetHostedZoneCount(ctx, &r53.GetHostedZoneCountInput{})
	if code := apiCode(t, err); code != "RequestTimeTooSkewed" {
		t.Fatalf("skewed, no retries: %v", err)
	}
	s.skew.Store(0)

	// The SDK's typed errors for bad credentials.
	_, err = s.client("AKWAAAAAAAAAAAAAAAA", "x", func(o *r53.Options) { o.Retryer = aws.NopRetryer{} }).
		GetHostedZoneCount(ctx, &r53.GetHostedZoneCountInput{})
	if code := apiCode(t, err); code != "InvalidClientTokenId" {
		t.Fatalf("unknown key: %v", err)
	}
	_, err = s.client(keyID, "wrong", func(o *r53.Options) { o.Retryer = aws.NopRetryer{} }).
		GetHostedZoneCount(ctx, &r53.GetHostedZoneCountInput{})
	if code := apiCode(t, err); code != "SignatureDoesNotMatch" {
		t.Fatalf("wrong secret: %v", err)
	}
}

// TestIntegrationThrottling checks that the per-tenant rate limit of /v1
// applies and is answered as Route 53 does (Throttling, 400), which the
// SDK retries with backoff until it succeeds.
func TestIntegrationThrottling(t *testing.T) {
	t.Parallel()
	s := newServer(t, serverOptions{rateLimit: 20, rateBurst: 2})
	_, keyID, secret := s.tenant("throttle")
	noRetry := s.client(keyID, secret, func(o *r53.Options) { o.Retryer = aws.NopRetryer{} })
	ctx := context.Background()
	var throttled error
	for range 20 {
		if _, err := noRetry.GetHostedZoneCount(ctx, &r53.GetHostedZoneCountInput{}); err != nil {
			throttled = err
			break
		}
	}
	if throttled == nil {
		t.Fatal("never throttled")
	}
	if code := apiCode(t, throttled); code != "Throttling" {
		t.Fatalf("throttled: %v", throttled)
	}
	if !retry.IsErrorThrottles(retry.DefaultThrottles).IsErrorThrottle(throttled).Bool() {
		t.Fatalf("the SDK does not see %v as a throttle", throttled)
	}
	// With the SDK's default retryer, a burst gets through.
	c := s.client(keyID, secret, func(o *r53.Options) {
		o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) { so.MaxAttempts = 10; so.MaxBackoff = 200 * time.Millisecond })
	})
	for range 10 {
		if _, err := c.GetHostedZoneCount(ctx, &r53.GetHostedZoneCountInput{}); err != nil {
			var ae *types.InvalidInput
			_ = errors.As(err, &ae)
			t.Fatalf("with retries: %v", err)
		}
	}
}
