// Package webuitest drives cogedge's chat page (package webui) in a real
// browser, as a person would: pick a picture, type a question, press Enter,
// wait for the streamed answer, read the boxes drawn over the picture. The
// page's tests use it against a scripted API and the server's tests against
// the real model.
package webuitest

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"

	"github.com/cogedge/cogedge/internal/browsertest"
)

// Page is the chat page open in a browser tab.
type Page struct {
	B   *browsertest.Browser
	URL string // the server's origin, e.g. http://127.0.0.1:8080
	t   testing.TB
}

// Open navigates to the page at origin and waits until it has asked the
// server for its model (the header no longer says "connecting…").
func Open(t testing.TB, b *browsertest.Browser, origin string) *Page {
	t.Helper()
	p := Attach(t, b, origin)
	b.Do(20*time.Second, chromedp.Navigate(p.URL+"/"))
	b.WaitFor(`document.getElementById("model").textContent !== "connecting…"`, 20*time.Second, `document.body.innerText`)
	return p
}

// Attach wraps a tab that is already on the page at origin.
func Attach(t testing.TB, b *browsertest.Browser, origin string) *Page {
	return &Page{B: b, URL: strings.TrimSuffix(origin, "/"), t: t}
}

// Text returns the textContent of the element with the given id.
func (p *Page) Text(id string) string {
	p.t.Helper()
	var s string
	p.B.Eval(fmt.Sprintf(`document.getElementById(%q).textContent`, id), &s)
	return s
}

// Upload picks the file at path with the page's "Choose picture" input and
// waits until the page shows it.
func (p *Page) Upload(path string) {
	p.t.Helper()
	abs, err := filepath.Abs(path)
	if err != nil {
		p.t.Fatal(err)
	}
	p.B.Do(10*time.Second, chromedp.SetUploadFiles(chromedp.ID("file"), []string{abs}))
	p.B.WaitFor(`!document.getElementById("stage").hidden && document.getElementById("picture").naturalWidth > 0`,
		10*time.Second, `document.getElementById("status").textContent`)
}

// Answer is one finished assistant message as the page shows it.
type Answer struct {
	Text    string   // the answer's text
	Meta    string   // the timing line under it
	State   string   // done, stopped or error
	Phrases []string // the box phrases listed under it
}

// answersJS reads every assistant message of the log.
const answersJS = `[...document.querySelectorAll("#log .msg.assistant")].map(li => ({
	Text: li.querySelector(".text").textContent,
	Meta: (li.querySelector(".meta") || {}).textContent || "",
	State: li.dataset.state || "",
	Phrases: [...li.querySelectorAll(".phrase")].map(b => b.textContent),
}))`

// Answers returns every assistant message on the page, oldest first.
func (p *Page) Answers() []Answer {
	p.t.Helper()
	var a []Answer
	p.B.Eval(answersJS, &a)
	return a
}

// Ask types question into the prompt, sends it with the Enter key and waits
// up to timeout for the answer to finish (done, stopped or error).
func (p *Page) Ask(question string, timeout time.Duration) Answer {
	p.t.Helper()
	before := len(p.Answers())
	p.Send(question)
	return p.WaitAnswer(before, timeout)
}

// Send types question into the prompt and presses Enter, as a keyboard
// does: a key-down the page handles (no character follows it, since the
// page cancels the default) and a key-up. The prompt must then be empty.
func (p *Page) Send(question string) {
	p.t.Helper()
	enter := chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		for _, typ := range []input.DispatchKeyEventType{input.DispatchKeyEventTypeRawKeyDown, input.DispatchKeyEventTypeKeyUp} {
			if _, err := cdp.Call(ctx, t, input.DispatchKeyEvent, input.DispatchKeyEventParams{
				Type: typ, Key: "Enter", Code: "Enter", WindowsVirtualKeyCode: 13, NativeVirtualKeyCode: 13,
			}); err != nil {
				return err
			}
		}
		return nil
	})
	p.B.Do(10*time.Second, chromedp.Focus(chromedp.ID("prompt")), chromedp.SendKeys(chromedp.ID("prompt"), question), enter)
	var left string
	p.B.Eval(`document.getElementById("prompt").value`, &left)
	if left != "" {
		p.t.Errorf("after Enter the prompt still holds %q", left)
	}
}

// WaitAnswer waits for the assistant message number index (0-based) to
// finish and returns it.
func (p *Page) WaitAnswer(index int, timeout time.Duration) Answer {
	p.t.Helper()
	p.B.WaitFor(fmt.Sprintf(`(() => { const a = document.querySelectorAll("#log .msg.assistant")[%d];
		return a && a.dataset.state; })()`, index), timeout, `document.getElementById("log").innerText`)
	return p.Answers()[index]
}

// Rect is an element's box in CSS pixels of the viewport.
type Rect struct{ Left, Top, Width, Height float64 }

// Drawn is the picture as displayed and the boxes drawn over it.
type Drawn struct {
	Image         Rect // the displayed picture
	NaturalWidth  float64
	NaturalHeight float64
	Boxes         []DrawnBox
}

// DrawnBox is one box element over the picture.
type DrawnBox struct {
	Label string
	Rect  Rect
	Hot   bool // highlighted
}

// Drawn reads the displayed picture and the box elements over it.
func (p *Page) Drawn() Drawn {
	p.t.Helper()
	var d Drawn
	p.B.Eval(`(() => {
		const r = (el) => { const b = el.getBoundingClientRect(); return {Left: b.left, Top: b.top, Width: b.width, Height: b.height}; };
		const img = document.getElementById("picture");
		return {Image: r(img), NaturalWidth: img.naturalWidth, NaturalHeight: img.naturalHeight,
			Boxes: [...document.querySelectorAll("#boxes .box")].map(b => ({
				Label: b.querySelector(".label").textContent, Rect: r(b), Hot: b.classList.contains("hot")}))};
	})()`, &d)
	return d
}

// Expect returns where a box given in pixels of the original picture must
// appear on screen, for the picture as displayed.
func (d Drawn) Expect(x0, y0, x1, y1 float64) Rect {
	sx, sy := d.Image.Width/d.NaturalWidth, d.Image.Height/d.NaturalHeight
	return Rect{Left: d.Image.Left + x0*sx, Top: d.Image.Top + y0*sy, Width: (x1 - x0) * sx, Height: (y1 - y0) * sy}
}

// Near reports whether every edge of a and b is within tol CSS pixels.
func Near(a, b Rect, tol float64) bool {
	d := func(x, y float64) bool { return x-y <= tol && y-x <= tol }
	return d(a.Left, b.Left) && d(a.Top, b.Top) && d(a.Left+a.Width, b.Left+b.Width) && d(a.Top+a.Height, b.Top+b.Height)
}

// CheckClean fails the test if the page asked any host but its server for
// anything, or logged an error, a warning or an exception (a CSP violation
// is one). allowed lists substrings of problems the test caused on purpose.
func (p *Page) CheckClean(allowed ...string) {
	p.t.Helper()
	reqs := p.B.Requests()
	if len(reqs) == 0 {
		p.t.Fatal("the browser recorded no request at all: the recorder is broken")
	}
	if f := browsertest.Foreign(reqs, p.URL); len(f) > 0 {
		p.t.Errorf("the page made requests to other hosts than %s: %q", p.URL, f)
	}
	for _, pr := range p.B.Problems() {
		ok := false
		for _, a := range allowed {
			ok = ok || strings.Contains(pr, a)
		}
		if !ok {
			p.t.Errorf("page problem: %s", pr)
		}
	}
}

// SaveScreenshot writes the viewport as PNG to dir/name (dir is
// $COGEDGE_WEB_SCREENSHOTS when set, else the test's temporary folder) and
// returns the path.
func (p *Page) SaveScreenshot(name string) string {
	p.t.Helper()
	dir := os.Getenv("COGEDGE_WEB_SCREENSHOTS")
	if dir == "" {
		dir = p.t.TempDir()
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, p.B.Screenshot(), 0o644); err != nil {
		p.t.Fatal(err)
	}
	p.t.Logf("screenshot: %s", path)
	return path
}

// MetaLine matches the timing line under a finished answer; its second
// group is the number of tokens.
var MetaLine = regexp.MustCompile(`^first token \d+\.\d\d s · \d+(\.\d)? tokens/s · (\d+) tokens?`)

// Picture draws a w×h PNG, red where inside(x, y) holds and grey
// elsewhere, saves it in the test's temporary folder and returns its path
// and bytes.
func Picture(t testing.TB, w, h int, inside func(x, y int) bool) (string, []byte) {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := color.RGBA{200, 200, 200, 255}
			if inside(x, y) {
				c = color.RGBA{220, 30, 30, 255}
			}
			img.Set(x, y, c)
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "picture.png")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, buf.Bytes()
}
