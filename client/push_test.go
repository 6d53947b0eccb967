package client

import (
	"context"
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
