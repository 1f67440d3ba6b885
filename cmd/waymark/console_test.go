package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/miekg/dns"
	"github.com/nats-io/nats.go"
	"github.com/waymark-dns/waymark/internal/natstest"
	"github.com/waymark-dns/waymark/internal/pgtest"
	"github.com/waymark-dns/waymark/internal/testkit"
	"github.com/waymark-dns/waymark/nspool"
)

// chromiumPath is Debian's chromium (.ci/apt.d/i15b.txt); WAYMARK_CHROMIUM
// names another.
func chromiumPath(t *testing.T) string {
	t.Helper()
	p := os.Getenv("WAYMARK_CHROMIUM")
	if p == "" {
		p = "/usr/bin/chromium"
	}
	if _, err := exec.LookPath(p); err != nil {
		t.Fatalf("the console test needs Chromium at %s (Debian: apt-get install -y chromium; or set WAYMARK_CHROMIUM): %v", p, err)
	}
	return p
}

// consoleStack is `waymark dev` inside the test: the API process (relay,
// tracker, health aggregator) on a fresh schema, embedded NATS, two
// nameservers and health checkers for three regions, all started by the
// functions `waymark dev` uses.
type consoleStack struct {
	url     string // the API's base URL
	token   string // a tenant's API key token
	dnsAddr string
}

func startConsoleStack(t *testing.T) *consoleStack {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	_, dsn := pgtest.Schema(t)
	ns := natstest.Run(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	sec := secrets{
		MasterKey:  []byte(strings.Repeat("m", 32)),
		JWTKey:     []byte(strings.Repeat("j", 32)),
		AdminToken: "console-test-admin-token",
	}
	// A pool without addresses: each nameserver serves every zone on its
	// one listener.
	pool, err := nspool.Parse("ns1.waymark.test.,ns2.waymark.test.", 0)
	if err != nil {
		t.Fatal(err)
	}
	cp, err := startControlPlane(ctx, controlPlaneOptions{
		DatabaseURL:         dsn,
		NATSURL:             ns.ClientURL(),
		Listen:              "127.0.0.1:0",
		Pool:                pool,
		PredictableSets:     true,
		Secrets:             sec,
		RateLimit:           1e6,
		AllowPrivateTargets: true,
		MinHealthInterval:   1,
		Logger:              log,
	})
	if err != nil {
		t.Fatalf("start control plane: %v", err)
	}
	t.Cleanup(cp.Close)
	_, key, err := cp.Service.CreateTenant(ctx, "console")
	if err != nil {
		t.Fatal(err)
	}
	s := &consoleStack{url: "http://" + cp.Addr, token: key.Token}

	// Two nameservers, so that the live view has more than one to wait
	// for. The latency table stands in for a GeoIP database: it puts
	// 3.120.0.0/14 (AWS in Frankfurt) nearest eu-central-1.
	table := filepath.Join(t.TempDir(), "latency.json")
	if err := os.WriteFile(table, []byte(`{"prefixes": {"3.120.0.0/14": ["eu-central-1"], "3.80.0.0/12": ["us-east-1"]}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, region := range []string{"us-east-1", "eu-central-1"} {
		srv, err := startNameserver(ctx, nameserverOptions{
			NodeID: "console-" + region, Region: region, Listen: "127.0.0.1:0",
			NATSURL: ns.ClientURL(), APIURL: s.url, AdminToken: sec.AdminToken,
			CacheDir: t.TempDir(), LatencyTable: table, Logger: log, Pool: pool,
		})
		if err != nil {
			t.Fatalf("start nameserver: %v", err)
		}
		t.Cleanup(func() { cancel(); <-srv.done })
		if s.dnsAddr == "" {
			s.dnsAddr = srv.Server.UDPAddr().String()
		}
	}

	for _, region := range []string{"us-east-1", "eu-west-1", "ap-southeast-1"} {
		hc, err := nats.Connect(ns.ClientURL(), nats.MaxReconnects(-1))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(hc.Close)
		done := make(chan struct{})
		go func() { defer close(done); _ = runChecker(ctx, hc, region, "console-hc-"+region, true, 1, log, nil) }()
		t.Cleanup(func() { cancel(); <-done })
	}
	return s
}

// browser drives one headless Chromium tab and records every JavaScript
// error the console causes: uncaught exceptions, console.error and
// console.warn calls, and browser log errors other than network ones (an
// API answering 400 to a bad zone file is expected; a
// Content-Security-Policy violation is not).
type browser struct {
	t    *testing.T
	ctx  context.Context
	base string

	mu     sync.Mutex
	errors []string
	shots  string // where screenshots go, or ""
}

func newBrowser(t *testing.T, base string) *browser {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(1280, 900),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(cancel)
	b := &browser{t: t, ctx: ctx, base: base, shots: os.Getenv("WAYMARK_CONSOLE_SCREENSHOTS")}
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	err := chromedp.Listen(ctx, func(ev any) {
		var msg string
		switch ev := ev.(type) {
		case *runtime.EventExceptionThrown:
			d := ev.ExceptionDetails
			msg = "exception: " + d.Text
			if d.Exception != nil {
				msg += " " + d.Exception.Description
			}
			msg += fmt.Sprintf(" at %s:%d", d.URL, d.LineNumber)
		case *runtime.EventConsoleAPICalled:
			switch ev.Type {
			case runtime.ConsoleAPICalledTypeError, runtime.ConsoleAPICalledTypeAssert, runtime.ConsoleAPICalledTypeWarning:
				var parts []string
				for _, a := range ev.Args {
					parts = append(parts, string(a.Value)+a.Description)
				}
				msg = "console." + string(ev.Type) + ": " + strings.Join(parts, " ")
			}
		case *cdplog.EventEntryAdded:
			e := ev.Entry
			if e.Level == cdplog.EntryLevelError && e.Source != cdplog.EntrySourceNetwork {
				msg = fmt.Sprintf("log %s: %s (%s)", e.Source, e.Text, e.URL)
			}
		}
		if msg != "" {
			b.mu.Lock()
			b.errors = append(b.errors, msg)
			b.mu.Unlock()
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.checkErrors)
	return b
}

// checkErrors fails the test on any JavaScript error seen so far.
func (b *browser) checkErrors() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, e := range b.errors {
		b.t.Errorf("console JavaScript error: %s", e)
	}
	b.errors = nil
}

// do runs actions with a deadline, failing the test with what was being
// done when one fails.
func (b *browser) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 60*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// waitFor polls a JavaScript expression until it is truthy.
func (b *browser) waitFor(what, expr string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 60*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(55*time.Second))); err != nil {
		// Say what the page showed instead.
		page, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`location.hash + "\n" + document.querySelector("main").innerText.slice(0, 3000)`))
		b.t.Fatalf("waiting until %s (%s): %v; the page shows %s", what, expr, err, page)
	}
}

// checkLabels fails the test if a form control of the page has no label
// or a button or link no name: screen readers would announce nothing.
func (b *browser) checkLabels(where string) {
	b.t.Helper()
	got := b.eval(`JSON.stringify([
		...[...document.querySelectorAll("input, select, textarea")].filter((e) => e.type !== "hidden" &&
			!(e.labels && e.labels.length) && !e.getAttribute("aria-label") && !e.getAttribute("aria-labelledby")),
		...[...document.querySelectorAll("button, a[href]")].filter((e) => !e.textContent.trim() && !e.getAttribute("aria-label")),
	].map((e) => e.outerHTML.slice(0, 120)))`)
	if got != "[]" {
		b.t.Errorf("%s: controls without an accessible name: %s", where, got)
	}
}

// fitsWidth fails the test if the page is wider than the viewport: on a
// phone it would scroll sideways.
func (b *browser) fitsWidth(where string) {
	b.t.Helper()
	got := b.eval(`String(document.documentElement.scrollWidth) + " " + String(window.innerWidth)`)
	f := strings.Fields(got)
	w, _ := strconv.Atoi(f[0])
	v, _ := strconv.Atoi(f[1])
	if w > v {
		b.t.Errorf("%s: the page is wider than a phone's screen (scrollWidth, innerWidth = %s)", where, got)
	}
}

// eval evaluates a JavaScript expression returning a string.
func (b *browser) eval(expr string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr))
	if err != nil {
		b.t.Fatalf("eval %s: %v", expr, err)
	}
	return s
}

// set gives a form control a value as a person would leave it: the value,
// then input and change events.
func set(sel, value string) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => {
		const e = document.querySelector(%q);
		if (!e) throw new Error("no element " + %q);
		e.value = %q;
		e.dispatchEvent(new Event("input", {bubbles: true}));
		e.dispatchEvent(new Event("change", {bubbles: true}));
	})()`, sel, sel, value))
}

func click(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible)
}

// shot saves a screenshot of the page as docs/console/<name>.png when
// WAYMARK_CONSOLE_SCREENSHOTS names that directory.
func (b *browser) shot(name string) {
	b.t.Helper()
	if b.shots == "" {
		return
	}
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(b.shots, name+".png"), buf, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// addRecord fills the record set editor and stages the record set.
func (b *browser) addRecord(name, typ, ttl, values string, extra ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	b.fillRecord(name, typ, ttl, values, extra...)
	b.do("stage "+name+" "+typ, click("form.editor button[type=submit]"))
	b.waitFor("the editor closes", `!document.querySelector("form.editor")`)
}

// fillRecord opens the record set editor and fills it in.
func (b *browser) fillRecord(name, typ, ttl, values string, extra ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	acts := []chromedp.Action[chromedp.Void]{
		click(".toolbar button.primary"),
		chromedp.WaitVisible(chromedp.CSS("form.editor")),
		set("form.editor [name=name]", name),
		set("form.editor [name=type]", typ),
		set("form.editor [name=ttl]", ttl),
		set("form.editor [name=values]", values),
	}
	acts = append(acts, extra...)
	b.do("fill the editor for "+name+" "+typ, acts...)
	b.checkLabels("the record set editor")
}

// TestIntegrationConsole drives the web console in headless Chromium
// against a whole Waymark in the test process (API, relay, tracker, health
// aggregator, two nameservers, three health checker regions): sign in
// with the keyboard, create a zone, stage record sets of three types, a
// weighted pair and every other routing policy and an alias as one change
// batch, check its diff, follow it from PENDING to INSYNC and ask the
// nameserver; a batch the API refuses, with the error under its change;
// edit and delete a record set; walk the page with Tab; import a zone
// file with one bad line and find the error on that line; export;
// test-answer from Frankfurt; narrow screen; zone paging and search; a
// health check turning unhealthy when its endpoint goes away, by region
// and in its history, then failing a failover pair over; a calculated
// check over it; disabling it in its settings. Any JavaScript error,
// Content-Security-Policy violation or unlabelled control fails it.
func TestIntegrationConsole(t *testing.T) {
	t.Parallel()
	s := startConsoleStack(t)
	b := newBrowser(t, s.url)

	// A health check target the test can stop.
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") }))
	defer target.Close()
	_, targetPort, _ := net.SplitHostPort(target.Listener.Addr().String())

	// Sign in with the keyboard only: the key field has focus, Enter submits.
	b.do("open the console", chromedp.Navigate(s.url+"/console/"), chromedp.WaitVisible(chromedp.ID("api-key")))
	b.waitFor("the key field has focus", `document.activeElement && document.activeElement.id === "api-key"`)
	b.checkLabels("sign in")
	b.shot("signin")
	b.do("sign in", chromedp.SendKeys(chromedp.ID("api-key"), "wmk_not_a_key"+kb.Enter))
	b.waitFor("a bad key is refused", `document.querySelector(".error-box") && document.querySelector(".error-box").textContent.includes("Unauthorized")`)
	b.do("sign in", set("#api-key", ""), chromedp.SendKeys(chromedp.ID("api-key"), s.token+kb.Enter))
	b.waitFor("the zones page", `document.querySelector("h1") && document.querySelector("h1").textContent === "Hosted zones"`)
	if got := b.eval(`location.href`); strings.Contains(got, "wmk_") {
		t.Fatalf("the key is in the URL: %s", got)
	}

	// Create a zone.
	const zone = "console-test.example."
	b.do("create a zone", click(".titlebar button.primary"), chromedp.WaitVisible(chromedp.CSS("[name=zone_name]")),
		set("[name=zone_name]", "console-test.example"), set("[name=comment]", "made in the console"))
	b.checkLabels("create zone")
	b.do("submit the zone", click("form[aria-label='Create hosted zone'] button[type=submit]"))
	b.waitFor("the zone page", fmt.Sprintf(`document.querySelector("h1") && document.querySelector("h1").textContent === %q`, zone))
	b.waitFor("the records table", `document.querySelectorAll("table.rrsets tbody tr").length === 2`) // SOA, NS
	zoneID := b.eval(`document.querySelector("dl.facts dd code").textContent`)
	if got := b.eval(`document.title`); got != "console-test.example. Record sets · Waymark console" {
		t.Errorf("the zone page's title is %q", got)
	}

	// Three types and a weighted pair, in one batch.
	b.addRecord("www", "A", "300", "192.0.2.10\n192.0.2.11")
	b.addRecord("@", "MX", "3600", "10 mail.console-test.example.")
	b.addRecord("@", "TXT", "300", `"v=spf1 -all"`)
	for _, w := range []struct{ id, weight, ip string }{{"blue", "70", "192.0.2.1"}, {"green", "30", "192.0.2.2"}} {
		b.addRecord("app", "A", "60", w.ip, set("form.editor [name=policy]", "weighted"),
			set("form.editor [name=set_identifier]", w.id), set("form.editor [name=weight]", w.weight))
	}
	for _, l := range []struct{ id, region, ip string }{{"virginia", "us-east-1", "192.0.2.41"}, {"frankfurt", "eu-central-1", "192.0.2.42"}} {
		b.fillRecord("api", "A", "60", l.ip, set("form.editor [name=policy]", "latency"),
			set("form.editor [name=set_identifier]", l.id), set("form.editor [name=region]", l.region))
		if l.id == "frankfurt" {
			if got := b.eval(`[...document.querySelectorAll("form.editor label")].filter((l) => l.offsetParent).map((l) => l.textContent).join("|")`); strings.Contains(got, "Target DNS name") || strings.Contains(got, "Weight") || !strings.Contains(got, "Region") {
				t.Errorf("a latency record set's editor shows the fields %s", got)
			}
			b.shot("editor")
		}
		b.do("stage the latency record set "+l.id, click("form.editor button[type=submit]"))
		b.waitFor("the editor closes", `!document.querySelector("form.editor")`)
	}
	// The other routing policies and an alias, in the same batch.
	b.addRecord("geo", "A", "60", "192.0.2.51", set("form.editor [name=policy]", "geolocation"),
		set("form.editor [name=set_identifier]", "europe"), set("form.editor [name=continent]", "EU"))
	b.addRecord("geo", "A", "60", "192.0.2.52", set("form.editor [name=policy]", "geolocation"),
		set("form.editor [name=set_identifier]", "default"), set("form.editor [name=country]", "*"))
	b.addRecord("mv", "A", "60", "192.0.2.61", set("form.editor [name=policy]", "multivalue"),
		set("form.editor [name=set_identifier]", "one"))
	for _, f := range []struct{ id, role, ip string }{{"primary", "PRIMARY", "192.0.2.71"}, {"secondary", "SECONDARY", "192.0.2.72"}} {
		b.addRecord("fo", "A", "60", f.ip, set("form.editor [name=policy]", "failover"),
			set("form.editor [name=set_identifier]", f.id), set("form.editor [name=failover]", f.role))
	}
	b.fillRecord("alias", "A", "60", "", func() []chromedp.Action[chromedp.Void] {
		return []chromedp.Action[chromedp.Void]{click("form.editor [name=alias]"), set("form.editor [name=alias_name]", "www.console-test.example.")}
	}()...)
	b.do("stage the alias", click("form.editor button[type=submit]"))
	b.waitFor("the editor closes", `!document.querySelector("form.editor")`)
	b.waitFor("the batch lists thirteen changes", `document.querySelectorAll(".batch .diff-list > li").length === 13`)
	diff := b.eval(`document.querySelector(".batch").textContent`)
	for _, want := range []string{
		"+ www.console-test.example. 300 IN A 192.0.2.10", "+ console-test.example. 3600 IN MX 10 mail.console-test.example.",
		"+ app.console-test.example. 60 IN A 192.0.2.1  ; weighted 70 [blue]", "+ app.console-test.example. 60 IN A 192.0.2.2  ; weighted 30 [green]",
		"+ api.console-test.example. 60 IN A 192.0.2.42  ; latency eu-central-1 [frankfurt]",
		"+ geo.console-test.example. 60 IN A 192.0.2.51  ; geo EU [europe]", "+ geo.console-test.example. 60 IN A 192.0.2.52  ; geo * [default]",
		"+ mv.console-test.example. 60 IN A 192.0.2.61  ; multivalue [one]",
		"+ fo.console-test.example. 60 IN A 192.0.2.71  ; failover primary [primary]", "+ fo.console-test.example. 60 IN A 192.0.2.72  ; failover secondary [secondary]",
		"+ alias.console-test.example. ALIAS A → www.console-test.example.",
	} {
		if !strings.Contains(diff, want) {
			t.Errorf("the diff lacks %q:\n%s", want, diff)
		}
	}
	b.shot("batch")
	// Record every status the live view shows, to see it go from PENDING
	// to INSYNC.
	b.do("watch the status", chromedp.Evaluate[chromedp.Void](`(() => {
		window.seenStatuses = [];
		new MutationObserver(() => {
			const s = document.querySelector(".change .status");
			if (s && window.seenStatuses[window.seenStatuses.length - 1] !== s.textContent) window.seenStatuses.push(s.textContent);
		}).observe(document.body, {subtree: true, childList: true, characterData: true});
	})()`))
	b.do("submit the batch", click(".batch button.primary"))
	b.waitFor("the change is INSYNC", `document.querySelector(".change .status[data-status=INSYNC]")`)
	if got := b.eval(`window.seenStatuses.join(",")`); got != "PENDING,INSYNC" {
		t.Errorf("the live view showed %q, want PENDING,INSYNC", got)
	}
	first := b.eval(`document.querySelector(".change").dataset.change`)
	b.waitFor("the table has the new record sets", `document.querySelectorAll("table.rrsets tbody tr").length === 15 && !document.querySelector("table.rrsets tr.staged-create")`)
	for name, want := range map[string]string{
		"www": "192.0.2.10,192.0.2.11", "alias": "192.0.2.10,192.0.2.11", // the alias follows www
		"geo": "192.0.2.52", // no GeoIP database: the default location
		"fo":  "192.0.2.71", // no health check: the primary
		"mv":  "192.0.2.61",
	} {
		if got := lookupA(t, s.dnsAddr, name+"."+zone); got != want {
			t.Errorf("%s A = %s after INSYNC, want %s", name, got, want)
		}
	}
	b.shot("records")

	// A batch the API refuses: the error shows under the change it is about.
	b.addRecord("mail", "A", "300", "192.0.2.25")
	b.addRecord("www", "A", "300", "192.0.2.99") // exists already
	b.do("submit the bad batch", click(".batch button.primary"))
	b.waitFor("the error under the second change", `document.querySelector('.diff-list > li[data-index="1"] .change-error').textContent.includes("already exists")`)
	if got := b.eval(`document.querySelector('.diff-list > li[data-index="0"] .change-error').textContent`); got != "" {
		t.Errorf("the first change shows an error: %s", got)
	}
	b.shot("batch-error")
	b.do("discard the batch", click(".batch .actions button:last-child"))
	b.waitFor("the batch is gone", `!document.querySelector(".batch")`)

	// Edit www and delete the TXT record set: one more batch.
	b.do("edit www", click(`button[aria-label="Edit www.console-test.example. A"]`), chromedp.WaitVisible(chromedp.CSS("form.editor")),
		set("form.editor [name=values]", "192.0.2.20"), click("form.editor button[type=submit]"))
	b.do("delete the TXT record set", click(`button[aria-label="Delete console-test.example. TXT"]`))
	b.waitFor("the batch lists two changes", `document.querySelectorAll(".batch .diff-list > li").length === 2`)
	diff = b.eval(`document.querySelector(".batch").textContent`)
	for _, want := range []string{"UPSERT", "- www.console-test.example. 300 IN A 192.0.2.10", "+ www.console-test.example. 300 IN A 192.0.2.20",
		"DELETE", `- console-test.example. 300 IN TXT "v=spf1 -all"`} {
		if !strings.Contains(diff, want) {
			t.Errorf("the diff lacks %q:\n%s", want, diff)
		}
	}
	b.do("submit the edit", click(".batch button.primary"))
	b.waitFor("the second change is INSYNC", fmt.Sprintf(`(() => { const c = document.querySelector(".change"); return c && c.dataset.change !== %q && c.querySelector(".status[data-status=INSYNC]"); })()`, first))
	b.waitFor("the TXT row is gone", `document.querySelectorAll("table.rrsets tbody tr").length === 14 && ![...document.querySelectorAll("table.rrsets td")].some(td => td.textContent === "TXT")`)
	if got := lookupA(t, s.dnsAddr, "www."+zone); got != "192.0.2.20" {
		t.Errorf("www A = %s after the edit", got)
	}

	// The keyboard alone reaches every action of the page, in order, and
	// the editor opens with Enter and closes with Escape.
	b.do("focus the page top", chromedp.Evaluate[chromedp.Void](`document.activeElement && document.activeElement.blur()`))
	var reached []string
	for range 60 {
		b.do("press Tab", chromedp.KeyEvent(kb.Tab))
		reached = append(reached, b.eval(`(() => { const e = document.activeElement; return e ? (e.getAttribute("aria-label") || e.textContent.trim() || e.name || e.tagName) : ""; })()`))
	}
	got := strings.Join(reached, " | ")
	for _, want := range []string{"Record sets", "Import", "Test answer", "Add record set", "Filter this page", "Edit www.console-test.example. A", "Delete app.console-test.example. A green", "Delete zone"} {
		if !strings.Contains(got, want) && !(want == "Filter this page" && strings.Contains(got, "filter")) {
			t.Errorf("Tab never reaches %q; it went %s", want, got)
		}
	}
	b.do("focus Add record set", chromedp.Focus(chromedp.CSS(".toolbar button.primary")), chromedp.KeyEvent(kb.Enter))
	b.waitFor("the editor has focus on its name", `document.activeElement && document.activeElement.name === "name" && document.activeElement.closest("form.editor")`)
	b.do("close the editor", chromedp.KeyEvent(kb.Escape))
	b.waitFor("the editor closes on Escape", `!document.querySelector("form.editor")`)

	// Import a file with one bad line (line 3).
	b.do("open import", click(`.tabs a[href$="/import"]`), chromedp.WaitVisible(chromedp.CSS("[name=zonefile]")))
	b.checkLabels("import")
	bad := filepath.Join(t.TempDir(), "console-test.example.zone")
	if err := os.WriteFile(bad, []byte("$TTL 300\nimported A 192.0.2.30\nbroken A not-an-address\nother TXT \"fine\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	b.do("choose the bad file", chromedp.SetUploadFiles(chromedp.CSS("[name=file]"), []string{bad}))
	b.waitFor("the file is read", `document.querySelector("[name=zonefile]").value.includes("broken A not-an-address")`)
	b.do("import the bad file", click("form button.primary"))
	b.waitFor("the error is on line 3", `document.querySelector("ol.zonelines li.bad")`)
	if got := b.eval(`[...document.querySelectorAll("ol.zonelines li.bad")].map(li => li.dataset.line).join(",")`); got != "3" {
		t.Errorf("lines marked bad: %q, want 3", got)
	}
	if got := b.eval(`document.querySelector("ol.zonelines li.bad .line-error").textContent`); !strings.HasPrefix(got, "Line 3: ") {
		t.Errorf("line 3's message: %q", got)
	}
	b.shot("import-error")
	b.do("import the fixed file", set("[name=zonefile]", "$TTL 300\nimported A 192.0.2.30\nfixed A 192.0.2.31\nother TXT \"fine\"\n"),
		click("form button.primary"))
	b.waitFor("the import is INSYNC", `document.querySelector(".change .status[data-status=INSYNC]")`)
	if got := lookupA(t, s.dnsAddr, "fixed."+zone); got != "192.0.2.31" {
		t.Errorf("fixed A = %s after the import", got)
	}

	// Export.
	b.do("open export", click(`.tabs a[href$="/export"]`))
	b.waitFor("the zone file", `document.querySelector("pre.zonefile") && document.querySelector("pre.zonefile").textContent.includes("fixed.console-test.example.")`)

	// Test answer: what a resolver in Frankfurt gets, and why.
	b.do("open test answer", click(`.tabs a[href$="/test"]`), chromedp.WaitVisible(chromedp.CSS("[name=client_ip]")))
	b.checkLabels("test answer")
	b.do("ask for the weighted pair", set("form [name=name]", "app.console-test.example"), set("form [name=type]", "A"), click("form button.primary"))
	b.waitFor("the answer", `document.querySelector("[data-field=rcode]") && document.querySelector("[data-field=rcode]").textContent === "NOERROR"`)
	if got := b.eval(`document.querySelector("ol.explain").textContent`); !strings.Contains(strings.ToLower(got), "weight") {
		t.Errorf("the explanation does not mention the weights: %s", got)
	}
	b.do("ask for the latency pair from Frankfurt", set("form [name=place]", "3.120.0.10"), set("form [name=name]", "api.console-test.example"), click("form button.primary"))
	b.waitFor("the Frankfurt answer", `document.querySelector(".answer td code") && document.querySelector(".answer td code").textContent === "192.0.2.42"`)
	if got := b.eval(`document.querySelector("ol.explain").textContent`); !strings.Contains(got, "eu-central-1") {
		t.Errorf("the explanation does not name eu-central-1: %s", got)
	}
	b.shot("test-answer")

	// Narrow screen: nothing wider than the viewport.
	b.do("narrow screen", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2)), click(`.tabs a[href$="/records"]`))
	b.waitFor("the records", `document.querySelectorAll("table.rrsets tbody tr").length >= 14`)
	b.fitsWidth("record sets")
	b.shot("records-narrow")
	b.do("wide screen", chromedp.EmulateViewport(1280, 900))

	// Zones: 22 more under paging.example, so that the list and a search
	// have two pages (20 a page).
	for i := range 22 {
		body := fmt.Sprintf(`{"name":"z%02d.paging.example","caller_reference":"paging-%d"}`, i, i)
		req, _ := http.NewRequest("POST", s.url+"/v1/hostedzones", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+s.token)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = res.Body.Close()
		if res.StatusCode != http.StatusCreated {
			t.Fatalf("create zone %d: %s", i, res.Status)
		}
	}
	b.do("list zones", click(`#nav a[href="#/zones"]`))
	b.waitFor("page 1 of the zones", `document.querySelectorAll("tbody tr").length === 20`)
	b.do("next page", click(`.pager button:last-child`))
	b.waitFor("page 2 of the zones", `document.querySelectorAll("tbody tr").length === 3 && document.querySelector(".pager span").textContent === "Page 2"`)
	b.do("previous page", click(`.pager button:first-child`))
	b.waitFor("page 1 again", `document.querySelectorAll("tbody tr").length === 20 && document.querySelector(".pager span").textContent === "Page 1"`)
	b.shot("zones")
	b.do("search paging.example", set("[name=q]", "paging.example"), chromedp.SendKeys(chromedp.CSS("[name=q]"), kb.Enter))
	b.waitFor("the first 20 results", `document.querySelectorAll("tbody tr").length === 20 && document.querySelector("tbody th a").textContent === "z00.paging.example." && ![...document.querySelectorAll(".pager button")].pop().disabled`)
	b.do("next page of results", click(`.pager button:last-child`))
	b.waitFor("the last 2 results", `document.querySelectorAll("tbody tr").length === 2 && [...document.querySelectorAll(".pager button")].pop().disabled`)

	// Zones: search finds the zone.
	b.do("search zones", set("[name=q]", "console-test.example"), chromedp.SendKeys(chromedp.CSS("[name=q]"), kb.Enter))
	b.waitFor("the search result", `document.querySelectorAll("tbody tr").length === 1 && document.querySelector("tbody th a").textContent === "console-test.example."`)

	// A health check that turns unhealthy when its endpoint stops.
	b.do("open health checks", click(`#nav a[href="#/healthchecks"]`))
	b.waitFor("the health checks page", `document.querySelector("h1") && document.querySelector("h1").textContent === "Health checks"`)
	b.do("create a health check", click(".titlebar button.primary"),
		chromedp.WaitVisible(chromedp.CSS("[name=ip_address]")),
		set("[name=ip_address]", "127.0.0.1"), set("[name=port]", targetPort), set("[name=resource_path]", "/"),
		set("[name=request_interval]", "1"), set("[name=failure_threshold]", "1"))
	b.checkLabels("create health check")
	b.do("submit the health check", click("form[aria-label='Create health check'] button[type=submit]"))
	b.waitFor("three regions report it healthy", `document.querySelectorAll("table.regions tbody tr .status[data-status=HEALTHY]").length === 3`)
	b.waitFor("the check is healthy", `document.querySelector("h1 .status[data-status=HEALTHY]")`)
	target.Close()
	b.waitFor("the check is unhealthy", `document.querySelector("h1 .status[data-status=UNHEALTHY]")`)
	b.waitFor("the history shows it", `document.querySelector("ol.history .status[data-status=UNHEALTHY]")`)
	b.waitFor("every region sees it fail", `document.querySelectorAll("table.regions tbody tr .status[data-status=UNHEALTHY]").length === 3`)
	b.shot("healthcheck")
	b.do("back to the list", click(`#nav a[href="#/healthchecks"]`))
	b.waitFor("the list shows it unhealthy", `document.querySelector("tr[data-check] .status[data-status=UNHEALTHY]")`)

	// Attach the (now unhealthy) check to the failover primary: the
	// console shows the record set's check as unhealthy and the
	// nameservers answer the secondary.
	hcID := b.eval(`document.querySelector("tr[data-check]").dataset.check`)
	b.do("open the zone", chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`location.hash = %q`, "/zones/"+zoneID+"/records")))
	b.do("edit the failover primary", click(`button[aria-label="Edit fo.console-test.example. A primary"]`),
		chromedp.WaitVisible(chromedp.CSS("form.editor")), set("form.editor [name=health_check]", hcID),
		click("form.editor button[type=submit]"))
	b.waitFor("the batch has the health check", `document.querySelector(".batch") && document.querySelector(".batch").textContent.includes("+ health check")`)
	b.do("submit", click(".batch button.primary"))
	b.waitFor("the change is INSYNC", `document.querySelector(".change .status[data-status=INSYNC]")`)
	b.waitFor("the primary shows its check unhealthy", `document.querySelector('tr[data-key="fo.console-test.example.|A|primary"] .status[data-status=UNHEALTHY]')`)
	answersA(t, s.dnsAddr, "fo."+zone, "192.0.2.72") // the secondary
	b.do("ask why", click(`.tabs a[href$="/test"]`), chromedp.WaitVisible(chromedp.CSS("[name=client_ip]")),
		set("form [name=name]", "fo.console-test.example"), click("form button.primary"))
	b.waitFor("the answer is the secondary", `document.querySelector(".answer td code") && document.querySelector(".answer td code").textContent === "192.0.2.72"`)
	if got := b.eval(`document.querySelector("ol.explain").textContent`); !strings.Contains(strings.ToLower(got), "unhealthy") {
		t.Errorf("the explanation does not say the primary is unhealthy: %s", got)
	}

	// A calculated check over it, made in the console, is unhealthy with
	// its only child.
	b.do("open health checks", click(`#nav a[href="#/healthchecks"]`))
	b.waitFor("the list", `document.querySelector("h1") && document.querySelector("h1").textContent === "Health checks" && document.querySelector("tr[data-check]")`)
	b.do("fill a calculated check", click(".titlebar button.primary"), chromedp.WaitVisible(chromedp.CSS("[name=type]")),
		set("[name=type]", "CALCULATED"), chromedp.WaitVisible(chromedp.CSS("[name=child_health_checks]")),
		chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.querySelector('[name=child_health_checks] option[value=%q]').selected = true`, hcID)),
		set("[name=health_threshold]", "1"))
	b.checkLabels("create a calculated check")
	if got := b.eval(`String(document.querySelector("[name=ip_address]").offsetParent === null)`); got != "true" {
		t.Errorf("a calculated check's form shows the endpoint fields")
	}
	b.do("create the calculated check", click("form[aria-label='Create health check'] button[type=submit]"))
	b.waitFor("the calculated check is unhealthy", fmt.Sprintf(`location.hash.startsWith("#/healthchecks/") && location.hash !== %q &&
		document.querySelector("h1 .status[data-status=UNHEALTHY]") && document.querySelector("dl.facts").textContent.includes("CALCULATED")`, "#/healthchecks/"+hcID))

	// Disabling the HTTP check in its settings makes it healthy, and the
	// nameservers answer the primary again.
	b.do("open the HTTP check", chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`location.hash = %q`, "/healthchecks/"+hcID)))
	b.waitFor("its settings", fmt.Sprintf(`location.hash === %q && document.querySelector("#set-disabled")`, "#/healthchecks/"+hcID))
	b.checkLabels("health check settings")
	b.do("disable it", click("#set-disabled"), click("form[aria-label=Settings] button[type=submit]"))
	b.waitFor("the disabled check is healthy", `document.querySelector("h1 .status[data-status=HEALTHY]") && document.querySelector("dl.facts").textContent.includes("Disabled")`)
	answersA(t, s.dnsAddr, "fo."+zone, "192.0.2.71") // the primary again

	// Delete a zone, after confirming.
	b.do("find z21", chromedp.Evaluate[chromedp.Void](`location.hash = "/zones?q=z21.paging.example"`))
	b.waitFor("z21 listed", `document.querySelectorAll("tbody tr").length === 1 && document.querySelector("tbody th a").textContent === "z21.paging.example."`)
	b.do("open z21", click("tbody th a"))
	b.waitFor("z21's page", `document.querySelector("h1") && document.querySelector("h1").textContent === "z21.paging.example."`)
	b.do("delete z21", click(".titlebar button.danger"), chromedp.WaitVisible(chromedp.CSS("[role=alertdialog]")), click("[role=alertdialog] button.danger"))
	b.waitFor("back at the zones", `document.querySelector("h1") && document.querySelector("h1").textContent === "Hosted zones"`)
	b.do("look for z21", set("[name=q]", "z21.paging.example"), chromedp.SendKeys(chromedp.CSS("[name=q]"), kb.Enter))
	b.waitFor("z21 is gone", `document.querySelector("main").textContent.includes("No zone is z21.paging.example or below it.")`)

	// The other pages fit a phone's screen too.
	b.do("narrow screen", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2)))
	for _, p := range []struct{ hash, ready string }{
		{"/zones", `document.querySelectorAll("tbody tr").length === 20`},
		{"/zones/" + zoneID + "/import", `document.querySelector("[name=zonefile]")`},
		{"/zones/" + zoneID + "/export", `document.querySelector("pre.zonefile") && document.querySelector("pre.zonefile").textContent.includes("www.")`},
		{"/zones/" + zoneID + "/test", `document.querySelector("[name=client_ip]")`},
		{"/healthchecks", `document.querySelector("tr[data-check]")`},
		{"/healthchecks/" + hcID, `document.querySelector("table.regions")`},
	} {
		b.do("open "+p.hash, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`location.hash = %q`, p.hash)))
		b.waitFor(p.hash+" on a phone", fmt.Sprintf(`location.hash === %q && (%s)`, "#"+p.hash, p.ready))
		b.fitsWidth(p.hash)
	}
	b.do("wide screen", chromedp.EmulateViewport(1280, 900))

	// Signing out forgets the key.
	b.do("sign out", click("#nav button.link"), chromedp.WaitVisible(chromedp.ID("api-key")))
	if got := b.eval(`String(sessionStorage.length)`); got != "0" {
		t.Errorf("sessionStorage after sign-out has %s items", got)
	}
	b.checkErrors()
}

// lookupA asks the nameserver for name's A records, sorted and joined.
func lookupA(t *testing.T, addr, name string) string {
	t.Helper()
	got, err := queryA(addr, name)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// answersA waits until the nameserver answers name with want: health
// reaches the nameservers on their own feed, after the console shows it.
func answersA(t *testing.T, addr, name, want string) {
	t.Helper()
	testkit.Eventually(t, 30*time.Second, func() error {
		got, err := queryA(addr, name)
		if err == nil && got != want {
			err = fmt.Errorf("%s A = %s, want %s", name, got, want)
		}
		return err
	})
}

func queryA(addr, name string) (string, error) {
	m := new(dns.Msg)
	m.SetQuestion(name, dns.TypeA)
	r, _, err := new(dns.Client).Exchange(m, addr)
	if err != nil {
		return "", fmt.Errorf("query %s: %w", name, err)
	}
	var ips []string
	for _, rr := range r.Answer {
		if a, ok := rr.(*dns.A); ok {
			ips = append(ips, a.A.String())
		}
	}
	slices.Sort(ips)
	return strings.Join(ips, ","), nil
}
