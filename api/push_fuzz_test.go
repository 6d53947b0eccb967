package api

import (
	"encoding/json"
	"testing"
)

// FuzzSubscribeRequest: whatever JSON comes, validation does not panic,
// and what it accepts has an https endpoint and keys of the right sizes.
func FuzzSubscribeRequest(f *testing.F) {
	f.Add(`{"endpoint":"https://fcm.googleapis.com/fcm/send/x","keys":{"p256dh":"BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM","auth":"tBHItJI5svbpez7KI4CCXg"}}`)
	f.Add(`{"endpoint":"http://x","keys":{"p256dh":"","auth":""},"events":["x"]}`)
	f.Add(`{"endpoint":"https://[::1]:443/%zz","keys":{"p256dh":"====","auth":"A"}}`)
	f.Fuzz(func(t *testing.T, body string) {
		var r SubscribeRequest
		if json.Unmarshal([]byte(body), &r) != nil {
			return
		}
		if len(r.Validate()) > 0 {
			return
		}
		if checkEndpoint(r.Endpoint) != "" {
			t.Fatalf("accepted endpoint %q", r.Endpoint)
		}
		if b, _ := decodeKey(r.Keys.P256dh); len(b) != 65 {
			t.Fatalf("accepted p256dh %q", r.Keys.P256dh)
		}
		if b, _ := decodeKey(r.Keys.Auth); len(b) != 16 {
			t.Fatalf("accepted auth %q", r.Keys.Auth)
		}
	})
}
