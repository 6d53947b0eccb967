package client

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/jarimu/jarimu/api"
)

func TestPushCalls(t *testing.T) {
	ctx := context.Background()
	sub := api.PushSubscription{ID: "s1", Endpoint: "https://fcm.googleapis.com/fcm/send/x", Events: []string{api.PushAlerts}}
	runCalls(t, []string{"/v1/push/"}, func(c *Client) []callCase {
		return []callCase{
			{
				name:   "PushKey is public",
				call:   func() (any, error) { return c.PushKey(ctx) },
				answer: api.PushKey{PublicKey: "BEl6"}, method: "GET", path: "/v1/push/key", public: true,
			},
			{
				name: "Subscribe",
				call: func() (any, error) {
					return c.Subscribe(ctx, api.SubscribeRequest{Endpoint: sub.Endpoint, Keys: api.PushKeys{P256dh: "p", Auth: "a"},
						Events: &[]string{api.PushAlerts}})
				},
				answer: sub, method: "POST", path: "/v1/push/subscriptions", key: "*",
				body: `{"endpoint":"https://fcm.googleapis.com/fcm/send/x","keys":{"p256dh":"p","auth":"a"},"events":["alert.published"]}`,
			},
			{
				name:   "Subscriptions",
				call:   func() (any, error) { return c.Subscriptions(ctx) },
				answer: api.Page[api.PushSubscription]{Items: []api.PushSubscription{sub}}, method: "GET", path: "/v1/push/subscriptions",
			},
			{
				name:   "Unsubscribe",
				call:   func() (any, error) { return nil, c.Unsubscribe(ctx, "s/1") },
				method: "DELETE", path: "/v1/push/subscriptions/s%2F1",
			},
			{
				name:   "TestPush",
				call:   func() (any, error) { return c.TestPush(ctx) },
				answer: api.PushTestResult{Devices: 2}, method: "POST", path: "/v1/push/test", key: "*",
			},
		}
	})
}

// AllSubscriptions follows the pages, should the server answer more than
// one.
func TestAllSubscriptionsFollowsPages(t *testing.T) {
	f := newFakeServer(t)
	f.mux.HandleFunc("GET /v1/push/subscriptions", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("cursor") == "" {
			writeJSON(w, http.StatusOK, api.Page[api.PushSubscription]{Items: []api.PushSubscription{{ID: "s1"}}, NextCursor: "c2"})
			return
		}
		writeJSON(w, http.StatusOK, api.Page[api.PushSubscription]{Items: []api.PushSubscription{{ID: "s2"}}})
	})
	c, _ := f.client(WithTokens(f.tokens(0)))
	var ids []string
	for s, err := range c.AllSubscriptions(context.Background()) {
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, s.ID)
	}
	if strings.Join(ids, ",") != "s1,s2" {
		t.Errorf("got %q, want s1,s2", ids)
	}
	if got := f.requests("/v1/push/subscriptions"); len(got) != 2 || got[1].Query != "cursor=c2" {
		t.Errorf("got requests %+v, want the second with cursor=c2", got)
	}
}
