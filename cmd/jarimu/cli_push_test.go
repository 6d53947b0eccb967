package main

import (
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/jarimu/jarimu/api"
)

// `jarimu push test` queues a test push to the caller's devices, and
// `jarimu push devices` lists them; without a device it says how to add
// one. (The delivery itself is tested in package push, against a local
// push service; here the allowed push service is a closed loopback port.)
func TestCLIPush(t *testing.T) {
	w := newWorldWith(t, map[string]string{"JARIMU_PUSH_HOSTS": "127.0.0.1:9"})
	w.volunteer("dewi@example.org")
	dewi := w.person("dewi@example.org")
	if out := dewi.must("push", "test"); !strings.Contains(out, "no device of yours") {
		t.Fatalf("push test without devices: got %q", out)
	}
	k, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	secret := make([]byte, 16)
	rand.Read(secret)
	sub, err := w.client("dewi@example.org").Subscribe(context.Background(), api.SubscribeRequest{
		Endpoint: "https://127.0.0.1:9/push/dewi-phone",
		Keys:     api.PushKeys{P256dh: base64.RawURLEncoding.EncodeToString(k.PublicKey().Bytes()), Auth: base64.RawURLEncoding.EncodeToString(secret)}})
	if err != nil {
		t.Fatal(err)
	}
	if out := dewi.must("push", "test"); !strings.Contains(out, "queued for 1 device(s)") {
		t.Fatalf("push test: got %q", out)
	}
	if out := dewi.must("push", "devices"); !strings.Contains(out, sub.ID) || !strings.Contains(out, "127.0.0.1:9") || !strings.Contains(out, "alert.published,assignment.created") {
		t.Fatalf("push devices: got %q", out)
	}
	if _, err := dewi.run("push", "nonsense"); err == nil {
		t.Fatalf("push nonsense: want a usage error")
	}
}
