package main

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strconv"
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

// push devices lists every page of devices: here a proxy answers the
// server's one page as two.
func TestCLIPushDevicesEveryPage(t *testing.T) {
	w := newWorldWith(t, map[string]string{"JARIMU_PUSH_HOSTS": "127.0.0.1:9"})
	w.volunteer("dewi@example.org")
	cl := w.client("dewi@example.org")
	var ids []string
	for _, phone := range []string{"dewi-phone", "dewi-laptop"} {
		k, err := ecdh.P256().GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		secret := make([]byte, 16)
		rand.Read(secret)
		sub, err := cl.Subscribe(context.Background(), api.SubscribeRequest{Endpoint: "https://127.0.0.1:9/push/" + phone,
			Keys: api.PushKeys{P256dh: base64.RawURLEncoding.EncodeToString(k.PublicKey().Bytes()), Auth: base64.RawURLEncoding.EncodeToString(secret)}})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, sub.ID)
	}
	target, _ := url.Parse(w.url)
	rp := httputil.NewSingleHostReverseProxy(target)
	rp.ModifyResponse = func(resp *http.Response) error {
		if resp.Request.URL.Path != "/v1/push/subscriptions" || resp.Request.Method != http.MethodGet || resp.StatusCode != http.StatusOK {
			return nil
		}
		var page api.Page[api.PushSubscription]
		err := json.NewDecoder(resp.Body).Decode(&page)
		resp.Body.Close()
		if err != nil || len(page.Items) != 2 {
			return fmt.Errorf("got %+v, %v; want two devices", page, err)
		}
		if resp.Request.URL.Query().Get("cursor") == "" {
			page.Items, page.NextCursor = page.Items[:1], "page-2"
		} else {
			page.Items = page.Items[1:]
		}
		b, _ := json.Marshal(page)
		resp.Body, resp.ContentLength = io.NopCloser(bytes.NewReader(b)), int64(len(b))
		resp.Header.Set("Content-Length", strconv.Itoa(len(b)))
		return nil
	}
	proxy := httptest.NewServer(rp)
	t.Cleanup(proxy.Close)
	dewi := &user{t: t, w: w, dir: filepath.Join(t.TempDir(), "jarimu")}
	if _, err := dewi.runIn(testPassword+"\n", "login", "--server", proxy.URL, "--email", "dewi@example.org"); err != nil {
		t.Fatal(err)
	}
	wantFields(t, "push devices", dewi.must("push", "devices"), ids...)
	var subs []api.PushSubscription
	dewi.mustJSON(&subs, "push", "devices")
	if len(subs) != 2 {
		t.Errorf("push devices --json: got %+v, want both devices", subs)
	}
}
