// Package webui is the chat page that cogedge serve shows at "/": one HTML
// page, its stylesheet and its script, embedded in the binary (no build step,
// no framework, nothing fetched from any other host, so it works on an
// offline edge device). The page talks to the server's OpenAI-compatible API
// (GET /v1/models, POST /v1/chat/completions with server-sent events).
//
// Handler serves the page; Secure adds the headers every response of the
// server should carry (a Content-Security-Policy that allows only the
// server's own scripts, styles and connections).
package webui

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"time"
)

//go:embed assets
var assets embed.FS

// ContentSecurityPolicy forbids inline script and any origin but the
// server's own: scripts, styles and connections come only from 'self', and
// pictures from 'self' or the data:/blob: URLs the page makes of a picture
// the user picked. Nothing may frame the page or be framed by it.
const ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; " +
	"img-src 'self' data: blob:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// asset is one embedded file ready to serve.
type asset struct {
	body        []byte
	contentType string
	etag        string
}

// pages maps a request path to the file served for it.
var pages = map[string]string{
	"/":           "index.html",
	"/index.html": "index.html",
	"/app.js":     "app.js",
	"/style.css":  "style.css",
}

var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
}

// loadAssets reads the embedded files once; a missing or unknown file is a
// build defect, reported as an error.
func loadAssets(fsys fs.FS) (map[string]asset, error) {
	out := make(map[string]asset, len(pages))
	for route, name := range pages {
		body, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("webui: embedded %s: %w", name, err)
		}
		ct, ok := contentTypes[path.Ext(name)]
		if !ok {
			return nil, fmt.Errorf("webui: embedded %s: no content type for %q", name, path.Ext(name))
		}
		sum := sha256.Sum256(body)
		out[route] = asset{body: body, contentType: ct, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
	}
	return out, nil
}

// Handler serves the page's files for GET and HEAD: "/" (and "/index.html"),
// "/app.js" and "/style.css". Any other path is 404, any other method 405.
// Responses carry the headers of Secure and an ETag, and are revalidated
// on each load (so an upgraded binary never serves a stale script).
func Handler() http.Handler {
	sub, err := fs.Sub(assets, "assets")
	if err != nil {
		panic(err) // the embed pattern above guarantees the folder
	}
	files, err := loadAssets(sub)
	if err != nil {
		panic(err) // a file named in pages is missing from the embed: a build defect any test catches
	}
	return Secure(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Content-Type", a.contentType)
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("ETag", a.etag)
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(a.body))
	}))
}

// Register adds the page's routes to mux: GET (and HEAD) of "/" exactly,
// "/index.html", "/app.js" and "/style.css". They are more specific than a
// catch-all "/" already on mux, so an API mounted at "/" keeps every other
// path.
func Register(mux *http.ServeMux) {
	h := Handler()
	for route := range pages {
		pattern := "GET " + route
		if route == "/" {
			pattern = "GET /{$}"
		}
		mux.Handle(pattern, h)
	}
}

// Secure wraps h so that every response carries ContentSecurityPolicy and
// the headers that stop content sniffing, framing and referrer leaks.
// Wrapping the whole server (API included) keeps the policy on any page a
// browser might render from it, error pages too.
func Secure(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", ContentSecurityPolicy)
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("Cross-Origin-Opener-Policy", "same-origin")
		hd.Set("Cross-Origin-Resource-Policy", "same-origin")
		h.ServeHTTP(w, r)
	})
}
