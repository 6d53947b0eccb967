package server

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// The OpenAPI 3.1 document of the whole API, served at GET /v1/openapi.json
// and rendered as HTML at GET /docs, is made from the route table (each
// route declares its operation: routes_*.go, with the types in
// openapi_ops.go), the problem catalogue (catalogue.go) and the wire types
// of package api, turned into JSON Schemas by reflection
// (openapi_schema.go, refined by openapi_fields.go), so a field added to a
// type shows up without editing anything here. openapi_build.go assembles
// it; openapi_doc.go holds its JSON shapes. openapi_test.go checks it
// against the routes the server actually registers.

// handleOpenAPI serves the document, built once.
func (s *Server) handleOpenAPI(w http.ResponseWriter, r *http.Request) error {
	doc := s.openAPI()
	if conditional(w, r, doc.etag, time.Time{}, false) {
		return nil
	}
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(doc.json)))
	w.Write(doc.json)
	return nil
}

type builtOpenAPI struct {
	doc  *openAPIDoc
	json []byte
	etag string
}

// builtDoc is the document, built once per process on first use.
var builtDoc struct {
	once sync.Once
	v    *builtOpenAPI
}

// openAPI is the document, built on first use from the route table.
func (s *Server) openAPI() *builtOpenAPI {
	builtDoc.once.Do(func() {
		doc := buildOpenAPI(s.routeTable())
		b, err := json.Marshal(doc)
		if err != nil {
			panic("openapi: " + err.Error())
		}
		b = append(b, '\n')
		sum := sha256.Sum256(b)
		builtDoc.v = &builtOpenAPI{doc: doc, json: b, etag: hex.EncodeToString(sum[:12])}
	})
	return builtDoc.v
}
