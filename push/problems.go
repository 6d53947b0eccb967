package push

import "github.com/jarimu/jarimu/problem"

// The problem types of Web Push, each declared once; the server's catalogue
// (GET /v1/problems/{type}, the OpenAPI document) reads them from Problems.
var (
	DeviceLimit = problem.Type{Slug: "push-device-limit", Kind: problem.Conflict,
		Doc: "An account receives notifications on at most 10 devices. Remove one (DELETE /v1/push/subscriptions/{id}) first."}
	InvalidAck = problem.Type{Slug: "invalid-push-ack", Kind: problem.Invalid,
		Doc: "The ack was not given out by this server (or the server's Web Push keys changed since). Nothing is recorded."}
)

// Problems lists the problem types of this package, for the catalogue.
var Problems = []problem.Type{DeviceLimit, InvalidAck}
