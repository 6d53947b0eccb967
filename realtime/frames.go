package realtime

import (
	"bytes"
	"crypto/hmac"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/event"
)

// Client frame limits.
const (
	maxResumeStreams = 256
	maxStreamName    = 128
)

// errBadFrame is wrapped by every reason a client frame is refused.
var errBadFrame = errors.New("bad frame")

// DecodeClientFrame parses and checks one inbound frame strictly: one JSON
// object, known fields only (exact lower-case keys), a known type, and the
// fields that type needs. Any fault wraps errBadFrame (close 4400).
func DecodeClientFrame(b []byte) (api.ClientFrame, error) {
	if f, ok := decodeAck(b); ok {
		return f, nil
	}
	return decodeFull(b)
}

// decodeFull is DecodeClientFrame through encoding/json, for every frame.
// A well-formed frame costs one decode and a walk over its top-level keys
// (a hello is decoded once per connection, thousands a second in a
// reconnect storm); a frame the decode refuses goes through decodeStrict,
// which says what is wrong with it.
func decodeFull(b []byte) (api.ClientFrame, error) {
	var f api.ClientFrame
	if len(b) > api.MaxClientFrameSize {
		return f, fmt.Errorf("%w: larger than %d bytes", errBadFrame, api.MaxClientFrameSize)
	}
	if json.Unmarshal(b, &f) != nil {
		return decodeStrict(b)
	}
	// b is one valid JSON value: its keys can be walked without checking
	// its syntax again.
	if err := topKeys(b); err != nil {
		return api.ClientFrame{}, err
	}
	return f, checkFrame(f)
}

// decodeStrict decodes b refusing unknown or misspelled keys first, then
// anything the decoder refuses, then trailing data: the reasons a refused
// frame is closed with.
func decodeStrict(b []byte) (api.ClientFrame, error) {
	var f api.ClientFrame
	if err := exactKeys(b); err != nil {
		return f, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return f, fmt.Errorf("%w: %v", errBadFrame, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return f, fmt.Errorf("%w: data after the JSON object", errBadFrame)
	}
	return f, checkFrame(f)
}

// ackHead and ackSeq frame the ack as clients write it (the console, the Go
// client): {"type":"ack","stream":"<name>","seq":<n>}.
const (
	ackHead = `{"type":"ack","stream":"`
	ackSeq  = `","seq":`
)

// decodeAck reads an ack written exactly as clients write it, without
// encoding/json: with every client acking every event, acks are most of
// the frames a server reads. Anything else (other spacing or key order, an
// escape in the name, a bad number) is left to the full decoder, which
// accepts or refuses it the same way as before.
func decodeAck(b []byte) (api.ClientFrame, bool) {
	rest, ok := bytes.CutPrefix(b, []byte(ackHead))
	if !ok {
		return api.ClientFrame{}, false
	}
	end := bytes.IndexByte(rest, '"')
	if end < 1 || end > maxStreamName {
		return api.ClientFrame{}, false
	}
	for _, c := range rest[:end] {
		if c < 0x20 || c > 0x7e || c == '\\' {
			return api.ClientFrame{}, false
		}
	}
	stream := rest[:end]
	num, ok := bytes.CutPrefix(rest[end:], []byte(ackSeq))
	if !ok || len(num) < 2 || len(num) > 19 || num[len(num)-1] != '}' || num[0] == '0' {
		return api.ClientFrame{}, false
	}
	var seq int64
	for _, c := range num[:len(num)-1] {
		if c < '0' || c > '9' {
			return api.ClientFrame{}, false
		}
		seq = seq*10 + int64(c-'0')
	}
	return api.ClientFrame{Type: "ack", Stream: string(stream), Seq: seq}, true
}

// clientKeys are the keys a client frame may have, spelled exactly.
var clientKeys = map[string]bool{"type": true, "token": true, "resume": true, "stream": true, "seq": true}

// exactKeys refuses top-level keys that are not spelled exactly, since Go's
// decoder matches keys case-insensitively with Unicode folding: "TYPE" to
// "type", and even "ſeq" (U+017F) to "seq".
func exactKeys(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("%w: not a JSON object", errBadFrame)
	}
	for k := range raw {
		if !clientKeys[k] {
			return fmt.Errorf("%w: unknown field %q (fields are lower case)", errBadFrame, k)
		}
	}
	return nil
}

// topKeys is exactKeys for b that is known to be one valid JSON value: it
// walks the top-level object's keys in place instead of decoding them into
// a map. A key with an escape in it is left to exactKeys.
func topKeys(b []byte) error {
	i := skipSpace(b, 0)
	if i == len(b) || b[i] != '{' {
		return exactKeys(b) // null, or not an object: exactKeys says which
	}
	depth, key := 0, false
	for ; i < len(b); i++ {
		switch b[i] {
		case '{', '[':
			depth++
			key = depth == 1
		case '}', ']':
			depth--
		case ',':
			key = depth == 1
		case '"':
			end := i + 1
			for b[end] != '"' {
				if b[end] == '\\' {
					if key {
						return exactKeys(b)
					}
					end++
				}
				end++
			}
			if key {
				if !clientKeys[string(b[i+1:end])] {
					return fmt.Errorf("%w: unknown field %q (fields are lower case)", errBadFrame, b[i+1:end])
				}
				key = false
			}
			i = end
		}
	}
	return nil
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

func checkFrame(f api.ClientFrame) error {
	switch f.Type {
	case "hello":
		if len(f.Resume) > maxResumeStreams {
			return fmt.Errorf("%w: resume names more than %d streams", errBadFrame, maxResumeStreams)
		}
		for s, seq := range f.Resume {
			if s == "" || len(s) > maxStreamName || strings.ContainsRune(s, 0) || seq < 0 {
				return fmt.Errorf("%w: resume entry %q: %d", errBadFrame, s, seq)
			}
		}
	case "token":
		if f.Token == "" {
			return fmt.Errorf("%w: token frame without a token", errBadFrame)
		}
	case "ack":
		if f.Stream == "" || len(f.Stream) > maxStreamName || f.Seq < 1 {
			return fmt.Errorf("%w: ack needs a stream and a seq of at least 1", errBadFrame)
		}
	case "ping":
	default:
		return fmt.Errorf("%w: unknown type %q", errBadFrame, f.Type)
	}
	return nil
}

// encodeEvent is an event as its feed frame.
func encodeEvent(ev *event.Event) []byte {
	b, _ := json.Marshal(api.EventFrame{Type: "event", Stream: ev.Stream, Seq: ev.Seq, ID: ev.ID,
		Event: ev.Name, At: ev.At.UTC(), Data: ev.Data})
	return b
}

// revokes says whether ev, an access.revoked event, ends userID's access
// to its stream (its token made under key).
func revokes(ev *event.Event, key []byte, userID string) bool {
	var d api.AccessRevoked
	return json.Unmarshal(ev.Data, &d) == nil && hmac.Equal([]byte(d.Token), []byte(api.RevokeToken(key, ev.Stream, userID)))
}

// feedChange reads the "feed" member of an event's data, for the events
// that carry one (the caller checks that the event is on the user's own
// stream).
func feedChange(ev *event.Event) *api.FeedChange {
	if !api.CarriesFeedChange(ev.Name) {
		return nil
	}
	var d struct {
		Feed *api.FeedChange `json:"feed"`
	}
	if json.Unmarshal(ev.Data, &d) != nil {
		return nil
	}
	return d.Feed
}
