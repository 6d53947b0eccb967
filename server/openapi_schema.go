package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"
	"unicode"
)

// Schema is a JSON Schema (2020-12, the dialect of OpenAPI 3.1), as much of
// it as the document needs.
type Schema struct {
	Ref                  string    `json:"$ref,omitempty"`
	Type                 any       `json:"type,omitempty"` // a name, or []string with "null"
	Format               string    `json:"format,omitempty"`
	ContentMediaType     string    `json:"contentMediaType,omitempty"`
	Description          string    `json:"description,omitempty"`
	Enum                 []any     `json:"enum,omitempty"`
	Default              any       `json:"default,omitempty"`
	Minimum              *int64    `json:"minimum,omitempty"`
	Maximum              *int64    `json:"maximum,omitempty"`
	MinLength            *int      `json:"minLength,omitempty"`
	MaxLength            *int      `json:"maxLength,omitempty"`
	MaxItems             *int      `json:"maxItems,omitempty"`
	Pattern              string    `json:"pattern,omitempty"`
	Items                *Schema   `json:"items,omitempty"`
	Properties           *props    `json:"properties,omitempty"`
	Required             []string  `json:"required,omitempty"`
	AdditionalProperties any       `json:"additionalProperties,omitempty"` // *Schema or false
	AllOf                []*Schema `json:"allOf,omitempty"`
	AnyOf                []*Schema `json:"anyOf,omitempty"`
	Examples             []any     `json:"examples,omitempty"`
}

// props are an object's properties in the order of the Go struct's fields.
type props struct {
	names []string
	m     map[string]*Schema
}

func (p *props) set(name string, s *Schema) {
	if p.m == nil {
		p.m = map[string]*Schema{}
	}
	if _, ok := p.m[name]; !ok {
		p.names = append(p.names, name)
	}
	p.m[name] = s
}

// MarshalJSON writes the properties in field order.
func (p *props) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, n := range p.names {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(n)
		v, err := json.Marshal(p.m[n])
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func strSchema() *Schema            { return &Schema{Type: "string"} }
func schemaRef(name string) *Schema { return &Schema{Ref: "#/components/schemas/" + name} }
func intPtr(n int) *int             { return &n }
func int64Ptr(n int64) *int64       { return &n }
func arrayOf(items *Schema) *Schema { return &Schema{Type: "array", Items: items} }

func enumOf(values ...string) []any {
	out := make([]any, len(values))
	for i, v := range values {
		out[i] = v
	}
	return out
}

// nullable lets s also be null: a type array for simple types, anyOf for a
// reference.
func nullable(s *Schema) *Schema {
	if s.Ref != "" {
		return &Schema{AnyOf: []*Schema{s, {Type: "null"}}}
	}
	c := *s
	switch t := c.Type.(type) {
	case string:
		c.Type = []string{t, "null"}
	case nil:
		return s // {} allows null already
	}
	return &c
}

func allowsNull(s *Schema) bool {
	ts, _ := s.Type.([]string)
	return slices.Contains(ts, "null")
}

// fieldDoc refines the generated schema of one property: a description and
// the rules reflection cannot see.
type fieldDoc struct {
	desc     string
	enum     []string
	format   string
	pattern  string
	min, max *int64
	minLen   *int
	maxLen   *int
	maxItems *int
}

var (
	timeType = reflect.TypeFor[time.Time]()
	rawType  = reflect.TypeFor[json.RawMessage]()
)

// schemaGen turns Go wire types into component schemas by reflection:
// structs become objects of their json-tagged fields (omitempty and omitzero
// fields optional, the others required), pointers nullable, time.Time a
// date-time string, slices arrays, maps objects with additionalProperties,
// json.RawMessage any value. Request types (named ...Request) refuse
// unknown fields, as the decoder does.
type schemaGen struct {
	defs       map[string]*Schema
	types      map[string]reflect.Type
	names      map[reflect.Type]string // component names overridden
	typeDocs   map[string]string
	fieldDocs  map[string]fieldDoc
	commonDocs map[string]fieldDoc
	used       map[string]bool // fieldDocs entries applied
}

func newSchemaGen() *schemaGen {
	return &schemaGen{defs: map[string]*Schema{}, types: map[string]reflect.Type{}, names: map[reflect.Type]string{}, used: map[string]bool{}}
}

// of is the schema of a value of type t; structs are referenced.
func (g *schemaGen) of(t reflect.Type) *Schema {
	switch t {
	case timeType:
		return &Schema{Type: "string", Format: "date-time"}
	case rawType:
		return &Schema{Description: "any JSON value"}
	}
	switch t.Kind() {
	case reflect.Pointer:
		return nullable(g.of(t.Elem()))
	case reflect.String:
		return strSchema()
	case reflect.Bool:
		return &Schema{Type: "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16:
		return &Schema{Type: "integer"}
	case reflect.Int32:
		return &Schema{Type: "integer", Format: "int32"}
	case reflect.Int64:
		return &Schema{Type: "integer", Format: "int64"}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return &Schema{Type: "integer", Minimum: int64Ptr(0)}
	case reflect.Float32, reflect.Float64:
		return &Schema{Type: "number"}
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return &Schema{Type: "string", Description: "base64"}
		}
		return arrayOf(g.of(t.Elem()))
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			panic(fmt.Sprintf("openapi: map key of %s is not a string", t))
		}
		return &Schema{Type: "object", AdditionalProperties: g.of(t.Elem())}
	case reflect.Interface:
		return &Schema{}
	case reflect.Struct:
		return schemaRef(g.define(t))
	}
	panic(fmt.Sprintf("openapi: no schema for %s", t))
}

// nameOf is the component name of a struct type: its Go name with the first
// letter upper-cased; an instance of a generic type is named by its type
// arguments and then the generic name (api.Page[api.Org] is OrgPage).
func (g *schemaGen) nameOf(t reflect.Type) string {
	if n, ok := g.names[t]; ok {
		return n
	}
	n := t.Name()
	if n == "" {
		panic(fmt.Sprintf("openapi: anonymous struct %s has no component name", t))
	}
	if base, args, ok := strings.Cut(n, "["); ok {
		var prefix string
		for _, a := range strings.Split(strings.TrimSuffix(args, "]"), ",") {
			prefix += a[strings.LastIndexByte(a, '.')+1:]
		}
		n = prefix + base
	}
	r := []rune(n)
	r[0] = unicode.ToUpper(r[0])
	return string(r)
}

// define registers the component of struct type t and returns its name.
func (g *schemaGen) define(t reflect.Type) string {
	name := g.nameOf(t)
	if prev, ok := g.types[name]; ok {
		if prev != t {
			panic(fmt.Sprintf("openapi: component %s would describe both %s and %s", name, prev, t))
		}
		return name
	}
	g.types[name] = t
	s := &Schema{Type: "object", Description: g.typeDocs[name], Properties: &props{}}
	g.defs[name] = s // before the fields, so that recursion ends
	g.fields(t, name, s)
	if strings.HasSuffix(name, "Request") {
		s.AdditionalProperties = false
	}
	return name
}

func (g *schemaGen) fields(t reflect.Type, comp string, s *Schema) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if !f.IsExported() || tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			g.fields(f.Type, comp, s)
			continue
		}
		if name == "" {
			name = f.Name
		}
		optional := false
		for _, o := range strings.Split(opts, ",") {
			optional = optional || o == "omitempty" || o == "omitzero"
		}
		key := comp + "." + name
		d, ok := g.fieldDocs[key]
		if ok {
			g.used[key] = true
		} else {
			d = g.commonDocs[name]
		}
		s.Properties.set(name, refine(g.of(f.Type), d))
		if !optional {
			s.Required = append(s.Required, name)
		}
	}
}

// refine applies a fieldDoc to a property's schema. Rules about the value go
// to an array's items; a referenced component is left untouched.
func refine(s *Schema, d fieldDoc) *Schema {
	c := *s
	if d.desc != "" {
		c.Description = d.desc
	}
	target := &c
	if c.Items != nil {
		items := *c.Items
		c.Items = &items
		target = &items
	}
	if target.Ref != "" || len(target.AnyOf) > 0 {
		return &c // a reference takes only a description
	}
	if d.enum != nil {
		target.Enum = enumOf(d.enum...)
		if allowsNull(target) {
			target.Enum = append(target.Enum, nil)
		}
	}
	if d.format != "" {
		target.Format = d.format
	}
	if d.pattern != "" {
		target.Pattern = d.pattern
	}
	target.Minimum = firstSet(d.min, target.Minimum)
	target.Maximum = firstSet(d.max, target.Maximum)
	target.MinLength = firstSet(d.minLen, target.MinLength)
	target.MaxLength = firstSet(d.maxLen, target.MaxLength)
	c.MaxItems = firstSet(d.maxItems, c.MaxItems)
	return &c
}

func firstSet[T any](a, b *T) *T {
	if a != nil {
		return a
	}
	return b
}
