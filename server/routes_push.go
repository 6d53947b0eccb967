package server

import "github.com/jarimu/jarimu/api"

// pushRoutes are the routes of Web Push: the VAPID key, a device's
// subscriptions, the acks of shown notifications and a test push, each with
// the operation the API document shows for it.
func (s *Server) pushRoutes() []route {
	return []route{
		{h: s.handlePushKey, op: op{method: "GET", path: "/v1/push/key", id: "getPushKey", tag: "Push", summary: "The VAPID public key to subscribe with",
			desc:    "Anyone. Pass it as `applicationServerKey` to `PushManager.subscribe`. A new key (a rotation) voids every subscription made with the old one: clients compare it with the key they subscribed with and subscribe again.",
			replies: []reply{okReply(200, "The key.", goType[api.PushKey]())}, static: true}},
		{h: s.handleSubscribe, op: op{method: "POST", path: "/v1/push/subscriptions", id: "subscribePush", tag: "Push", summary: "Receive notifications on this device", auth: authBearer,
			desc: "Any signed-in account. The body is the browser's PushSubscription (`endpoint`, `keys.p256dh`, `keys.auth`; leave out `expirationTime`) and the events the device wants (absent: `alert.published` and `assignment.created`). The endpoint must be `https` on a push service of the server's allow-list (JARIMU_PUSH_HOSTS). A known endpoint of the caller is updated (200); one last subscribed by another account moves to the caller (a browser serves one account at a time). At most 10 devices per account.",
			body: goType[api.SubscribeRequest](), replies: []reply{okReply(201, "A new device.", goType[api.PushSubscription](), "Location"), okReply(200, "The caller's known device, updated.", goType[api.PushSubscription]())},
			problems: []string{"validation", "push-device-limit"}}},
		{h: s.handleListSubscriptions, op: op{method: "GET", path: "/v1/push/subscriptions", id: "listPushSubscriptions", tag: "Push", summary: "The caller's devices", auth: authBearer,
			desc:    "Oldest first; at most 10, on one page.",
			replies: []reply{okReply(200, "The devices.", goType[api.Page[api.PushSubscription]]())}}},
		{h: s.handleUnsubscribe, op: op{method: "DELETE", path: "/v1/push/subscriptions/{id}", id: "unsubscribePush", tag: "Push", summary: "Stop notifications on a device", auth: authBearer,
			desc:    "The device's account only; another account's device is a 404.",
			replies: []reply{okReply(204, "Deleted.", nil)}, problems: []string{"not-found"}}},
		{h: s.handlePushAck, op: op{method: "POST", path: "/v1/push/acks", id: "ackPush", tag: "Push", summary: "A device showed a notification",
			desc: "No token: the service worker posts the `ack` string of the push it showed, which names the push and the device and carries a tag only this installation makes. Counted once per device in the alert's `displayed` reach.",
			body: goType[api.PushAckRequest](), replies: []reply{okReply(204, "Recorded (or recorded already).", nil)},
			problems: []string{"invalid-push-ack"}}},
		{h: s.handlePushTest, op: op{method: "POST", path: "/v1/push/test", id: "testPush", tag: "Push", summary: "Send a test notification to the caller's devices", auth: authBearer,
			desc:    "Queues one test push to every device of the caller, whatever events they chose (`jarimu push test`). TTL 10 minutes.",
			replies: []reply{okReply(202, "Queued.", goType[api.PushTestResult]())}}},
	}
}
