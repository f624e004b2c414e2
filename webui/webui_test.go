package webui_test

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/cogedge/cogedge/webui"
)

func TestHandler(t *testing.T) {
	h := webui.Handler()
	tests := []struct {
		method, path string
		code         int
		contentType  string
	}{
		{"GET", "/", 200, "text/html; charset=utf-8"},
		{"GET", "/index.html", 200, "text/html; charset=utf-8"},
		{"HEAD", "/", 200, "text/html; charset=utf-8"},
		{"GET", "/app.js", 200, "text/javascript; charset=utf-8"},
		{"GET", "/style.css", 200, "text/css; charset=utf-8"},
		{"GET", "/missing.js", 404, ""},
		{"GET", "/assets/app.js", 404, ""},
		{"POST", "/", 405, ""},
	}
	for _, tc := range tests {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, nil))
		if rec.Code != tc.code {
			t.Errorf("%s %s: status %d, want %d", tc.method, tc.path, rec.Code, tc.code)
		}
		if got := rec.Header().Get("Content-Security-Policy"); got != webui.ContentSecurityPolicy {
			t.Errorf("%s %s: CSP %q", tc.method, tc.path, got)
		}
		if rec.Header().Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s %s: no nosniff", tc.method, tc.path)
		}
		if tc.contentType != "" && rec.Header().Get("Content-Type") != tc.contentType {
			t.Errorf("%s %s: content type %q, want %q", tc.method, tc.path, rec.Header().Get("Content-Type"), tc.contentType)
		}
		if tc.method == "HEAD" && rec.Body.Len() != 0 {
			t.Errorf("HEAD %s: %d body bytes", tc.path, rec.Body.Len())
		}
	}
}

func TestHandlerRevalidates(t *testing.T) {
	h := webui.Handler()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/app.js", nil))
	etag := rec.Header().Get("ETag")
	if etag == "" || rec.Header().Get("Cache-Control") != "no-cache" {
		t.Fatalf("ETag %q, Cache-Control %q", etag, rec.Header().Get("Cache-Control"))
	}
	req := httptest.NewRequest("GET", "/app.js", nil)
	req.Header.Set("If-None-Match", etag)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusNotModified {
		t.Errorf("If-None-Match with the ETag: status %d, want 304", rec.Code)
	}
}

// The policy forbids inline script and other origins.
func TestContentSecurityPolicy(t *testing.T) {
	directives := map[string]string{}
	for d := range strings.SplitSeq(webui.ContentSecurityPolicy, ";") {
		f := strings.Fields(d)
		if len(f) > 0 {
			directives[f[0]] = strings.Join(f[1:], " ")
		}
	}
	want := map[string]string{
		"default-src":     "'none'",
		"script-src":      "'self'",
		"style-src":       "'self'",
		"connect-src":     "'self'",
		"frame-ancestors": "'none'",
	}
	for k, v := range want {
		if directives[k] != v {
			t.Errorf("%s is %q, want %q", k, directives[k], v)
		}
	}
	for k, v := range directives {
		if strings.Contains(v, "unsafe") || strings.Contains(v, "*") || strings.Contains(v, "http") {
			t.Errorf("%s %q lets in inline code or other origins", k, v)
		}
	}
}

// The page must work under its own policy: no inline script, no inline
// style or event-handler attributes, nothing loaded from another host.
func TestPageHasNothingInline(t *testing.T) {
	srv := httptest.NewServer(webui.Handler())
	defer srv.Close()
	for _, path := range []string{"/", "/app.js", "/style.css"} {
		res, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		text := string(body)
		if path == "/" {
			for _, m := range regexp.MustCompile(`(?is)<script\b[^>]*>(.*?)</script>`).FindAllStringSubmatch(text, -1) {
				if !strings.Contains(m[0], "src=") || strings.TrimSpace(m[1]) != "" {
					t.Errorf("inline script: %.80s", m[0])
				}
			}
			for _, re := range []string{`(?i)\sstyle\s*=`, `(?i)\son[a-z]+\s*=`, `(?i)javascript:`} {
				if loc := regexp.MustCompile(re).FindStringIndex(text); loc != nil {
					t.Errorf("index.html has %q at byte %d: blocked by the policy", text[loc[0]:loc[1]], loc[0])
				}
			}
		}
		if loc := regexp.MustCompile(`(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}`).FindStringIndex(text); loc != nil {
			t.Errorf("%s refers to another host: %q", path, text[loc[0]:loc[1]])
		}
	}
}

func TestIsLoopback(t *testing.T) {
	for host, want := range map[string]bool{
		"127.0.0.1": true, "localhost": true, "LOCALHOST": true, "::1": true, "[::1]": true, "127.1.2.3": true,
		"": false, "0.0.0.0": false, "::": false, "192.168.1.5": false, "example.org": false, "fe80::1": false,
	} {
		if got := webui.IsLoopback(host); got != want {
			t.Errorf("IsLoopback(%q) = %v, want %v", host, got, want)
		}
	}
}

func TestOpenURLs(t *testing.T) {
	addrs := func() ([]net.Addr, error) {
		mk := func(s string) net.Addr {
			ip, n, err := net.ParseCIDR(s)
			if err != nil {
				t.Fatal(err)
			}
			n.IP = ip
			return n
		}
		return []net.Addr{mk("127.0.0.1/8"), mk("::1/128"), mk("fe80::1/64"), mk("192.168.1.20/24"),
			mk("2001:db8::7/64"), mk("10.0.0.3/8")}, nil
	}
	none := func() ([]net.Addr, error) { return nil, nil }
	tests := []struct {
		host  string
		addrs func() ([]net.Addr, error)
		want  []string
	}{
		{"0.0.0.0", addrs, []string{"http://192.168.1.20:8080/", "http://10.0.0.3:8080/", "http://[2001:db8::7]:8080/"}},
		{"", addrs, []string{"http://192.168.1.20:8080/", "http://10.0.0.3:8080/", "http://[2001:db8::7]:8080/"}},
		{"::", none, []string{"http://localhost:8080/"}},
		{"192.168.1.20", addrs, []string{"http://192.168.1.20:8080/"}},
		{"fd00::5", addrs, []string{"http://[fd00::5]:8080/"}},
		{"pi.local", addrs, []string{"http://pi.local:8080/"}},
	}
	for _, tc := range tests {
		if got := webui.OpenURLs(tc.host, 8080, tc.addrs); !slices.Equal(got, tc.want) {
			t.Errorf("OpenURLs(%q) = %q, want %q", tc.host, got, tc.want)
		}
	}
}
