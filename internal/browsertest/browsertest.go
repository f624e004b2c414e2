// Package browsertest drives a real Chromium (headless, through the DevTools
// protocol with chromedp) for the tests of cogedge's web page. It records
// every request the page makes and every console error, uncaught exception
// and browser-log problem (a Content-Security-Policy violation lands there),
// so a test can assert that the page talked to nobody but its server and ran
// clean.
//
// Chromium is found as COGEDGE_CHROMIUM, or chromium, chromium-browser,
// google-chrome on PATH. When none is there the test is skipped with the
// reason, unless COGEDGE_REQUIRE_BROWSER is set (.ci/run sets it, after
// installing Debian's chromium): then the test fails.
package browsertest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// RequireEnv is the environment variable that turns a missing browser from a
// skip into a failure.
const RequireEnv = "COGEDGE_REQUIRE_BROWSER"

// ExecPath finds the Chromium binary: $COGEDGE_CHROMIUM, else the first of
// chromium, chromium-browser, google-chrome, google-chrome-stable on PATH.
func ExecPath() (string, error) {
	if p := os.Getenv("COGEDGE_CHROMIUM"); p != "" {
		return exec.LookPath(p)
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errors.New("no chromium, chromium-browser or google-chrome on PATH (apt-get install chromium, or set COGEDGE_CHROMIUM)")
}

// Browser is one headless Chromium with one tab, recording what the page does.
type Browser struct {
	ctx context.Context
	t   testing.TB

	mu       sync.Mutex
	requests []string // URL of every request the tab made, in order
	problems []string // console errors and warnings, exceptions, browser-log warnings and errors
}

// Start launches Chromium with a fresh profile and returns a Browser whose
// tab is open on about:blank; it is closed when the test ends. It skips the
// test when Chromium is missing, or fails it when RequireEnv is set.
func Start(t testing.TB) *Browser {
	t.Helper()
	path, err := ExecPath()
	if err != nil {
		if os.Getenv(RequireEnv) != "" {
			t.Fatalf("browser test required (%s is set) but %v", RequireEnv, err)
		}
		t.Skipf("skipping the browser test: %v", err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox, // root in CI containers; the page is our own
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 860),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("no-pings", true),
		chromedp.Flag("metrics-recording-only", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("mute-audio", true),
		chromedp.Flag("force-color-profile", "srgb"),
		chromedp.Flag("lang", "en-US"),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	b := &Browser{t: t}
	ctx, cancelCtx := chromedp.NewContext(allocCtx, chromedp.WithListener(b.record))
	t.Cleanup(func() { cancelCtx(); cancelAlloc() })
	b.ctx = ctx
	start, cancelStart := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancelStart()
	done := make(chan error, 1)
	go func() { done <- chromedp.Do(ctx) }() // the first Do starts the browser; it must not carry a timeout
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("starting %s: %v", path, err)
		}
	case <-start.Done():
		t.Fatalf("starting %s: no answer in 30 s", path)
	}
	return b
}

func (b *Browser) record(ev any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch ev := ev.(type) {
	case *network.EventRequestWillBeSent:
		b.requests = append(b.requests, ev.Request.URL)
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		msg := d.Text
		if d.Exception != nil && d.Exception.Description != "" {
			msg += " " + d.Exception.Description
		}
		b.problems = append(b.problems, fmt.Sprintf("exception at %s:%d: %s", d.URL, d.LineNumber+1, msg))
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeWarning {
			var parts []string
			for _, a := range ev.Args {
				if len(a.Value) > 0 {
					parts = append(parts, string(a.Value))
				} else {
					parts = append(parts, a.Description)
				}
			}
			b.problems = append(b.problems, fmt.Sprintf("console.%s: %s", ev.Type, strings.Join(parts, " ")))
		}
	case *log.EventEntryAdded:
		e := ev.Entry
		if e.Level == log.EntryLevelError || e.Level == log.EntryLevelWarning {
			b.problems = append(b.problems, fmt.Sprintf("browser log (%s, %s): %s %s", e.Level, e.Source, e.Text, e.URL))
		}
	}
}

// Requests returns the URL of every request the tab has made so far.
func (b *Browser) Requests() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.requests...)
}

// Problems returns the console errors and warnings, uncaught exceptions and
// browser-log warnings and errors seen so far.
func (b *Browser) Problems() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.problems...)
}

// Foreign returns the requested URLs that would reach any host but origin's
// (scheme, host and port). data: and blob: URLs stay inside the browser and
// are not counted.
func Foreign(requests []string, origin string) []string {
	o, err := url.Parse(origin)
	var out []string
	for _, r := range requests {
		u, perr := url.Parse(r)
		if perr == nil && (u.Scheme == "data" || u.Scheme == "blob") {
			continue
		}
		if err != nil || perr != nil || u.Scheme != o.Scheme || u.Host != o.Host {
			out = append(out, r)
		}
	}
	return out
}

// Do runs actions in the tab, failing the test (with what the page reported)
// if they do not finish within timeout.
func (b *Browser) Do(timeout time.Duration, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, timeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("browser: %v\npage problems: %q", err, b.Problems())
	}
}

// Eval evaluates a JavaScript expression in the page and decodes its JSON
// value into out (a pointer), failing the test on error.
func (b *Browser) Eval(expr string, out any) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](expr))
	if err != nil {
		b.t.Fatalf("evaluating %s: %v\npage problems: %q", expr, err, b.Problems())
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			b.t.Fatalf("evaluating %s: result %s: %v", expr, raw, err)
		}
	}
}

// WaitFor polls a JavaScript expression until it is truthy, failing the test
// with what describe (another expression, evaluated then) says if that does
// not happen within timeout.
func (b *Browser) WaitFor(expr string, timeout time.Duration, describe string) {
	b.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var ok bool
		b.Eval("!!("+expr+")", &ok)
		if ok {
			return
		}
		if time.Now().After(deadline) {
			var state any
			if describe != "" {
				b.Eval(describe, &state)
			}
			b.t.Fatalf("waited %v for %s; page: %v\nproblems: %q", timeout, expr, state, b.Problems())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Screenshot captures the viewport as PNG bytes.
func (b *Browser) Screenshot() []byte {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		b.t.Fatalf("screenshot: %v", err)
	}
	return png
}
