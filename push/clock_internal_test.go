package push

import (
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jarimu/jarimu/api"
)

// A retry's time is on the database's clock, where it is stored and
// compared with the database's now, however far this instance's clock is
// off; so is the job's expiry the push's TTL is read from.
func TestRetryOnTheDatabaseClock(t *testing.T) {
	var ttl string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ttl = r.Header.Get("TTL")
		w.Header().Set("Retry-After", "30")
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	v, err := GenerateVAPID(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	auth := make([]byte, 16)
	rand.Read(auth)
	s := &Service{vapid: v, cfg: Config{Hosts: []string{strings.TrimPrefix(srv.URL, "http://")}, Client: srv.Client(), RatePerHost: 100},
		gate: newGate(100), stats: newStats()}
	tg := target{Subscription: Subscription{ID: "s1", Endpoint: srv.URL + "/push",
		P256dh: base64.RawURLEncoding.EncodeToString(key.PublicKey().Bytes()), Auth: base64.RawURLEncoding.EncodeToString(auth)}}
	for _, skew := range []time.Duration{0, 3 * time.Hour, -3 * time.Hour} {
		dbNow := time.Now().Add(skew)
		j := &job{ID: "j1", Urgency: "high", ExpiresAt: dbNow.Add(time.Hour),
			messages: map[string]api.PushPayload{DefaultLang: {Title: "Peringatan"}}}
		o := s.deliver(t.Context(), j, tg, skew)
		if o.state != stateRetry {
			t.Fatalf("skew %v: got %+v, want a retry", skew, o)
		}
		if d := o.next.Sub(dbNow); d < 29*time.Second || d > 31*time.Second {
			t.Errorf("skew %v: retry due %v after the database's now, want 30 s", skew, d)
		}
		if ttl != "3600" && ttl != "3599" {
			t.Errorf("skew %v: TTL %s, want an hour", skew, ttl)
		}
	}
}
