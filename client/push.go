package client

import (
	"context"
	"net/http"

	"github.com/jarimu/jarimu/api"
)

func pushSubscriptionRoute(id string) route { return routeTo("/v1/push/subscriptions", id) }

// PushKey returns the server's VAPID public key, for a Web Push
// subscription's applicationServerKey. It is public.
func (c *Client) PushKey(ctx context.Context) (api.PushKey, error) {
	return call[api.PushKey](ctx, c, http.MethodGet, route{path: "/v1/push/key"}, nil, nil, anonymous())
}

// Subscribe registers a device's push subscription for the signed-in
// account (its events nil: alerts and assignments). A known endpoint of
// the account is updated. At most 10 devices per account.
func (c *Client) Subscribe(ctx context.Context, req api.SubscribeRequest, opts ...CallOption) (api.PushSubscription, error) {
	return call[api.PushSubscription](ctx, c, http.MethodPost, route{path: "/v1/push/subscriptions"}, nil, req, opts...)
}

// Subscriptions lists the signed-in account's devices (at most 10, on
// one page).
func (c *Client) Subscriptions(ctx context.Context) (api.Page[api.PushSubscription], error) {
	return call[api.Page[api.PushSubscription]](ctx, c, http.MethodGet, route{path: "/v1/push/subscriptions"}, nil, nil)
}

// Unsubscribe deletes one of the signed-in account's devices.
func (c *Client) Unsubscribe(ctx context.Context, id string) error {
	rt := pushSubscriptionRoute(id)
	if rt.err != nil {
		return rt.err
	}
	return c.do(ctx, http.MethodDelete, rt.path, nil, nil, nil)
}

// TestPush queues a test notification to every device of the signed-in
// account and says how many devices that is.
func (c *Client) TestPush(ctx context.Context, opts ...CallOption) (api.PushTestResult, error) {
	return call[api.PushTestResult](ctx, c, http.MethodPost, route{path: "/v1/push/test"}, nil, nil, opts...)
}
