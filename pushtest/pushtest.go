// Package pushtest is a push service for tests: an HTTPS server on
// loopback implementing the RFC 8030 push endpoint that checks each push as
// a real push service and browser would, and decrypts it. It checks the
// VAPID JWT (RFC 8292: ES256 signature by the key in "k", aud the endpoint's
// origin, exp within 24 hours, sub a mailto: or https: contact), the TTL,
// Urgency, Topic and Content-Encoding headers, and decrypts the aes128gcm
// body (RFC 8188, keys by RFC 8291) with the device's private key, so a test
// sees the very JSON a service worker would. It is real cryptography end to
// end, independent of the sender's library: crypto/ecdh and HKDF only.
package pushtest

import (
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// Message is one push the service accepted.
type Message struct {
	Device  string // the device's id
	Topic   string
	Urgency string
	TTL     int
	Payload []byte // decrypted
	At      time.Time
}

// Answer is what the service answers one push (before it is checked):
// Status 0 means check, decrypt and accept it (201).
type Answer struct {
	Status     int
	RetryAfter string
	Location   string
}

// Service is the running push service.
type Service struct {
	Server *httptest.Server

	mu       sync.Mutex
	vapidKey string // see SetVAPIDKey
	devices  map[string]*Device
	messages []Message
	errors   []string
	tries    map[string]int // pushes received per device, accepted or not
	script   func(dev string, try int) Answer
	every    int // check and decrypt one push in every (0, 1: all)
	seen     int
	hold     chan struct{} // non-nil: pushes wait until it closes
	held     int
	abandon  int // held pushes whose sender went away before the answer
	changed  chan struct{}
}

// New starts a push service, closed at cleanup.
func New(t testing.TB, vapidKey string) *Service {
	s := &Service{vapidKey: vapidKey, devices: map[string]*Device{}, tries: map[string]int{}, changed: make(chan struct{})}
	s.Server = httptest.NewTLSServer(http.HandlerFunc(s.handle))
	t.Cleanup(func() {
		s.Release()
		s.Server.Close()
	})
	return s
}

// SetVAPIDKey sets the public key (base64url) every push must be signed
// with; empty accepts any key that verifies its own signature.
func (s *Service) SetVAPIDKey(k string) {
	s.mu.Lock()
	s.vapidKey = k
	s.mu.Unlock()
}

// Host is the host:port of the service (for the allow-list).
func (s *Service) Host() string { return strings.TrimPrefix(s.Server.URL, "https://") }

// Client is an HTTP client that trusts the service's certificate and keeps
// enough connections open for a sender's concurrency.
func (s *Service) Client() *http.Client {
	c := *s.Server.Client()
	tr := c.Transport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 256
	c.Transport = tr
	return &c
}

// Device is a browser's push subscription: its endpoint at this service
// and the keys pushes to it are encrypted to.
type Device struct {
	ID       string
	Endpoint string
	private  *ecdh.PrivateKey
	auth     []byte
}

// P256dh is the device's public key as the browser gives it.
func (d *Device) P256dh() string {
	return base64.RawURLEncoding.EncodeToString(d.private.PublicKey().Bytes())
}

// Auth is the device's authentication secret as the browser gives it.
func (d *Device) Auth() string { return base64.RawURLEncoding.EncodeToString(d.auth) }

// NewDevice makes a device with fresh keys.
func (s *Service) NewDevice(t testing.TB) *Device {
	t.Helper()
	id := randomID()
	d := DeviceAt(t, s.Server.URL+"/push/"+id)
	d.ID = id
	s.mu.Lock()
	s.devices[id] = d
	s.mu.Unlock()
	return d
}

// DeviceAt makes a device with fresh keys whose endpoint is elsewhere (a
// real push service's, for a subscription nothing is pushed to).
func DeviceAt(t testing.TB, endpoint string) *Device {
	t.Helper()
	k, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	secret := make([]byte, 16)
	rand.Read(secret)
	return &Device{Endpoint: endpoint, private: k, auth: secret}
}

func randomID() string {
	b := make([]byte, 12)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// NewDevices makes n devices that share one key pair (each its own
// endpoint), for load tests: seeding their keys costs one key generation.
func (s *Service) NewDevices(t testing.TB, n int) []*Device {
	t.Helper()
	first := s.NewDevice(t)
	out := []*Device{first}
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n - 1 {
		id := randomID()
		d := &Device{ID: id, Endpoint: s.Server.URL + "/push/" + id, private: first.private, auth: first.auth}
		s.devices[id] = d
		out = append(out, d)
	}
	return out
}

// CheckEvery makes the service check the VAPID JWT of, and decrypt, one
// push in every n (the others' headers only), so that a load test measures
// the sender rather than this service. Messages of unchecked pushes have
// no Payload.
func (s *Service) CheckEvery(n int) {
	s.mu.Lock()
	s.every = n
	s.mu.Unlock()
}

// Script sets how pushes are answered: fn gets the device and the number
// of pushes it received before this one, and may answer a status of its
// own (404, 410, 429 with Retry-After, 500...) instead of accepting.
func (s *Service) Script(fn func(dev string, try int) Answer) {
	s.mu.Lock()
	s.script = fn
	s.mu.Unlock()
}

// Hold makes every push from now on wait, unanswered, until Release.
func (s *Service) Hold() {
	s.mu.Lock()
	if s.hold == nil {
		s.hold = make(chan struct{})
	}
	s.mu.Unlock()
}

// Release answers the held pushes: those whose sender is still connected
// are checked and accepted; those whose sender went away (a killed
// instance) were never accepted, as with a real push service.
func (s *Service) Release() {
	s.mu.Lock()
	if s.hold != nil {
		close(s.hold)
		s.hold = nil
	}
	s.mu.Unlock()
}

// Held is how many pushes wait now; Abandoned how many held pushes lost
// their sender.
func (s *Service) Held() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.held
}

// Abandoned is how many held pushes lost their sender before an answer.
func (s *Service) Abandoned() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.abandon
}

// Messages are the pushes accepted so far, in order.
func (s *Service) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

// Accepted is how many pushes were accepted so far.
func (s *Service) Accepted() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.messages)
}

// Tries is how many pushes a device received, accepted or not.
func (s *Service) Tries(dev string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tries[dev]
}

// Errors are the pushes that failed a check, described.
func (s *Service) Errors() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.errors...)
}

// Wait waits until cond holds over the accepted messages, or fails the test
// after timeout.
func (s *Service) Wait(t testing.TB, timeout time.Duration, what string, cond func([]Message) bool) []Message {
	t.Helper()
	deadline := time.After(timeout)
	for {
		s.mu.Lock()
		ms, ch := append([]Message(nil), s.messages...), s.changed
		s.mu.Unlock()
		if cond(ms) {
			return ms
		}
		select {
		case <-ch:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			t.Fatalf("push service: %s: not within %s (%d accepted, errors %v)", what, timeout, len(ms), s.Errors())
		}
	}
}

func (s *Service) fail(w http.ResponseWriter, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	s.mu.Lock()
	s.errors = append(s.errors, msg)
	s.mu.Unlock()
	http.Error(w, msg, http.StatusBadRequest)
}

// handle is the push endpoint: POST /push/{device}.
func (s *Service) handle(w http.ResponseWriter, r *http.Request) {
	id, ok := strings.CutPrefix(r.URL.Path, "/push/")
	s.mu.Lock()
	d := s.devices[id]
	s.mu.Unlock()
	if r.Method != http.MethodPost || !ok || d == nil {
		s.fail(w, "%s %s: no such push resource", r.Method, r.URL.Path)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 8192))
	if err != nil {
		return
	}
	if !s.wait(r) {
		return
	}
	s.mu.Lock()
	try := s.tries[id]
	s.tries[id]++
	script := s.script
	s.mu.Unlock()
	if script != nil {
		if a := script(id, try); a.Status != 0 {
			if a.RetryAfter != "" {
				w.Header().Set("Retry-After", a.RetryAfter)
			}
			if a.Location != "" {
				w.Header().Set("Location", a.Location)
			}
			w.WriteHeader(a.Status)
			return
		}
	}
	s.mu.Lock()
	s.seen++
	full := s.every <= 1 || s.seen%s.every == 0
	s.mu.Unlock()
	var m Message
	if full {
		m, err = s.check(r, d, body)
	} else {
		m, err = s.checkHeaders(r, d)
	}
	if err != nil {
		s.fail(w, "push to %s: %v", id, err)
		return
	}
	s.mu.Lock()
	s.messages = append(s.messages, m)
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()
	w.Header().Set("Location", s.Server.URL+"/message/"+randomID())
	w.WriteHeader(http.StatusCreated)
}

// wait holds a push while the service holds; false when its sender went
// away meanwhile (nothing is answered or accepted then).
func (s *Service) wait(r *http.Request) bool {
	s.mu.Lock()
	hold := s.hold
	if hold != nil {
		s.held++
	}
	s.mu.Unlock()
	if hold == nil {
		return true
	}
	select {
	case <-hold:
	case <-r.Context().Done():
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.held--
	if r.Context().Err() != nil {
		s.abandon++
		return false
	}
	return true
}
