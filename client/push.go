package client

import (
	"context"
	"iter"
	"net/http"
	"net/url"

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

// Subscriptions returns the first page of the signed-in account's devices
// (the server answers them all, at most 10, on one page; AllSubscriptions
// follows the pages all the same).
func (c *Client) Subscriptions(ctx context.Context) (api.Page[api.PushSubscription], error) {
	return c.subscriptions(ctx, "")
}

// AllSubscriptions yields every device of the signed-in account, page after
// page (see All).
func (c *Client) AllSubscriptions(ctx context.Context) iter.Seq2[api.PushSubscription, error] {
	return All(ctx, c.subscriptions)
}

// subscriptions returns the page of devices at cursor ("": the first).
func (c *Client) subscriptions(ctx context.Context, cursor string) (api.Page[api.PushSubscription], error) {
	q := url.Values{}
	ListOptions{Cursor: cursor}.addTo(q)
	return call[api.Page[api.PushSubscription]](ctx, c, http.MethodGet, route{path: "/v1/push/subscriptions"}, q, nil)
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
