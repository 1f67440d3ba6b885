package console

import (
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func get(t *testing.T, method, path string) *http.Response {
	t.Helper()
	rec := httptest.NewRecorder()
	Handler().ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	return rec.Result()
}

func TestHandler(t *testing.T) {
	for _, tc := range []struct {
		method, path string
		status       int
		typ          string // Content-Type prefix
		body         string // a substring of the body
	}{
		{"GET", "/console/", 200, "text/html", `<script type="module" src="js/app.js">`},
		{"GET", "/console/index.html", 200, "text/html", "<title>Waymark console</title>"},
		{"HEAD", "/console/", 200, "text/html", ""},
		{"GET", "/console/js/app.js", 200, "text/javascript", "import"},
		{"GET", "/console/style.css", 200, "text/css", ":root"},
		{"GET", "/console/favicon.svg", 200, "image/svg+xml", "<svg"},
		{"GET", "/console/zones/anything", 200, "text/html", "<title>"}, // not a file: the app
		{"GET", "/console/../go.mod", 200, "text/html", "<title>"},      // cleaned, stays inside
		{"GET", "/console/js/", 200, "text/html", "<title>"},            // no directory listings
		{"POST", "/console/", 405, "text/plain", "method not allowed"},
	} {
		res := get(t, tc.method, tc.path)
		body, _ := io.ReadAll(res.Body)
		if res.StatusCode != tc.status {
			t.Errorf("%s %s: status %d, want %d", tc.method, tc.path, res.StatusCode, tc.status)
		}
		if got := res.Header.Get("Content-Type"); !strings.HasPrefix(got, tc.typ) {
			t.Errorf("%s %s: Content-Type %q, want %s…", tc.method, tc.path, got, tc.typ)
		}
		if !strings.Contains(string(body), tc.body) {
			t.Errorf("%s %s: body lacks %q:\n%.300s", tc.method, tc.path, tc.body, body)
		}
		if got := res.Header.Get("Content-Security-Policy"); got != ContentSecurityPolicy {
			t.Errorf("%s %s: Content-Security-Policy %q", tc.method, tc.path, got)
		}
		for k, want := range map[string]string{"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer"} {
			if got := res.Header.Get(k); got != want {
				t.Errorf("%s %s: %s = %q, want %q", tc.method, tc.path, k, got, want)
			}
		}
	}
}

// TestPolicyIsStrict keeps the policy from growing holes: no inline
// script or style, no eval, nothing from other origins.
func TestPolicyIsStrict(t *testing.T) {
	for _, bad := range []string{"unsafe-inline", "unsafe-eval", "unsafe-hashes", "*", "http:", "https:", "nonce-"} {
		if strings.Contains(ContentSecurityPolicy, bad) {
			t.Errorf("the policy allows %q: %s", bad, ContentSecurityPolicy)
		}
	}
	for _, need := range []string{"default-src 'none'", "script-src 'self'", "frame-ancestors 'none'", "base-uri 'none'"} {
		if !strings.Contains(ContentSecurityPolicy, need) {
			t.Errorf("the policy lacks %q", need)
		}
	}
}

// TestAssets checks the files as the policy will see them: no inline
// script, style or event handler in the HTML, nothing loaded from another
// origin, and every module import resolving to an embedded file.
func TestAssets(t *testing.T) {
	static, err := fs.Sub(files, "static")
	if err != nil {
		t.Fatal(err)
	}
	index, err := fs.ReadFile(static, "index.html")
	if err != nil {
		t.Fatal(err)
	}
	html := string(index)
	for _, re := range []string{`<script(?:\s[^>]*)?>\s*[^<\s]`, `<style`, `\sstyle=`, `\son[a-z]+=`, `javascript:`} {
		if regexp.MustCompile(re).MatchString(html) {
			t.Errorf("index.html matches %s: inline code the policy would block", re)
		}
	}
	for _, tag := range regexp.MustCompile(`<script[^>]*>`).FindAllString(html, -1) {
		if !strings.Contains(tag, " src=") {
			t.Errorf("index.html has an inline script: %s", tag)
		}
	}
	importRe := regexp.MustCompile(`(?m)^\s*import\s[^;]*?from\s+"([^"]+)"`)
	external := regexp.MustCompile(`(?i)(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}/`)
	err = fs.WalkDir(static, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(static, path)
		if err != nil {
			return err
		}
		src := string(b)
		if strings.HasSuffix(path, ".js") {
			if strings.Contains(src, "eval(") || strings.Contains(src, "new Function") || strings.Contains(src, "innerHTML") {
				t.Errorf("%s uses eval, new Function or innerHTML", path)
			}
			dir := path[:strings.LastIndex(path, "/")+1]
			for _, m := range importRe.FindAllStringSubmatch(src, -1) {
				target := dir + strings.TrimPrefix(m[1], "./")
				if _, err := fs.Stat(static, target); err != nil {
					t.Errorf("%s imports %s, which is not embedded", path, m[1])
				}
			}
		}
		if path != "favicon.svg" && external.MatchString(src) {
			t.Errorf("%s refers to another origin: %s", path, external.FindString(src))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
