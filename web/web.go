// Package web is Jarimu's web console: a mobile-first single-page app for
// volunteers, CSO coordinators and Bawaslu officers, served by `jarimu serve`
// itself. Its assets are plain HTML, CSS and JavaScript modules embedded in
// the binary: no build step, no CDN, no third-party request. The console
// calls the same /v1 API and feed as every other client.
//
// Served paths: "/" (the app shell), "/app/..." (scripts, styles, strings,
// icons), "/sw.js" (the service worker, at the root so that it controls the
// whole app) and "/manifest.webmanifest". Every answer carries the strict
// Content-Security-Policy CSP; text answers are gzipped for clients that
// accept it and revalidated by ETag.
package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"sort"
	"strings"
	"sync"
)

//go:embed static
var static embed.FS

// CSP is the Content-Security-Policy of every console answer: scripts,
// styles, workers and the manifest only from this origin, no inline script
// or style, no plugins, no framing, and Trusted Types enforced so that no
// string can reach an HTML or script sink (the app builds its DOM with
// textContent only; its one policy, "jarimu", vets the service worker URL).
// 'self' in connect-src covers the same-origin websocket of the feed.
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; " +
	"connect-src 'self'; worker-src 'self'; manifest-src 'self'; object-src 'none'; " +
	"frame-ancestors 'none'; base-uri 'none'; form-action 'self'; " +
	"require-trusted-types-for 'script'; trusted-types jarimu"

// asset is one file ready to serve.
type asset struct {
	body        []byte
	gz          []byte // nil when gzip does not pay
	contentType string
	etag        string
}

// Console serves the embedded web console.
type Console struct {
	assets  map[string]*asset // by URL path
	version string
}

// shared is the console every app of the process serves (the assets never
// change after the build, so they are prepared once).
var shared = sync.OnceValues(New)

// Handler returns the console's handler. The assets are compiled into the
// binary and checked by the package's tests, so a failure to load them is a
// build defect and panics.
func Handler() *Console {
	c, err := shared()
	if err != nil {
		panic(fmt.Sprintf("web: %v", err))
	}
	return c
}

// New loads and prepares the embedded assets: their URL paths, content
// types, ETags and gzipped forms, and the service worker stamped with the
// app version and the list of files it keeps for offline use.
func New() (*Console, error) {
	c := &Console{assets: map[string]*asset{}}
	files := map[string][]byte{}
	err := fs.WalkDir(static, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := static.ReadFile(p)
		if err != nil {
			return err
		}
		files[urlPath(strings.TrimPrefix(p, "static/"))] = b
		return nil
	})
	if err != nil {
		return nil, err
	}
	sw, ok := files["/sw.js"]
	if !ok || files["/"] == nil {
		return nil, fmt.Errorf("index.html or sw.js missing from the embedded assets")
	}
	shell := shellOf(files)
	c.version = version(files)
	list, _ := json.Marshal(shell)
	sw = bytes.Replace(sw, []byte(`"__VERSION__"`), []byte(`"`+c.version+`"`), 1)
	sw = bytes.Replace(sw, []byte(`["__SHELL__"]`), list, 1)
	files["/sw.js"] = sw
	for p, b := range files {
		c.assets[p] = prepare(p, b)
	}
	return c, nil
}

// urlPath maps a file of the static folder to the path it is served at.
func urlPath(file string) string {
	if file == "index.html" {
		return "/"
	}
	return "/" + file
}

// shellOf lists the paths the service worker keeps for offline use: the
// app shell, every file under /app/ and the manifest (never the worker
// itself, and never an API answer).
func shellOf(files map[string][]byte) []string {
	var out []string
	for p := range files {
		if p == "/" || p == "/manifest.webmanifest" || strings.HasPrefix(p, "/app/") {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

// version is a short hash of every asset, so that any change makes a new
// service worker, which replaces the cached shell.
func version(files map[string][]byte) string {
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	h := sha256.New()
	for _, p := range paths {
		fmt.Fprintf(h, "%s\x00%d\x00", p, len(files[p]))
		h.Write(files[p])
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

func prepare(p string, b []byte) *asset {
	sum := sha256.Sum256(b)
	a := &asset{body: b, contentType: contentType(p), etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
	if !strings.HasPrefix(a.contentType, "image/png") && len(b) > 512 {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		zw.Write(b)
		zw.Close()
		if buf.Len() < len(b)*9/10 {
			a.gz = buf.Bytes()
		}
	}
	return a
}

func contentType(p string) string {
	if p == "/" {
		return "text/html; charset=utf-8"
	}
	switch path.Ext(p) {
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".webmanifest":
		return "application/manifest+json"
	case ".svg":
		return "image/svg+xml"
	case ".png":
		return "image/png"
	case ".json":
		return "application/json"
	}
	return "application/octet-stream"
}

// Version is the app version the service worker carries.
func (c *Console) Version() string { return c.version }

// Paths are the URL paths served, sorted.
func (c *Console) Paths() []string {
	out := make([]string, 0, len(c.assets))
	for p := range c.assets {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// ServeHTTP serves GET and HEAD of the console's paths; anything else is a
// plain 404 or 405.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", CSP)
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=(), usb=()")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	a, ok := c.assets[r.URL.Path]
	if !ok {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	h.Set("Cache-Control", "no-cache")
	h.Set("Content-Type", a.contentType)
	h.Add("Vary", "Accept-Encoding")
	body, etag := a.body, a.etag
	gz := a.gz != nil && acceptsGzip(r)
	if gz {
		body, etag = a.gz, strings.TrimSuffix(a.etag, `"`)+`-gz"`
	}
	h.Set("ETag", etag)
	if match := r.Header.Get("If-None-Match"); match != "" && strings.Contains(match, etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	if gz {
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("Content-Length", fmt.Sprint(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}

// acceptsGzip reports whether the request accepts gzip (and does not refuse
// it with q=0).
func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(name), "gzip") {
			q := strings.ReplaceAll(params, " ", "")
			return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
		}
	}
	return false
}
