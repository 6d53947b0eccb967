package server

import (
	"fmt"
	"html"
	"net/http"

	"github.com/jarimu/jarimu/problem"
)

// problemDocs explains each problem type a client may switch on; GET
// /v1/problems/{type} serves the entry as a short page.
var problemDocs = map[string]string{
	"internal":                   "Something failed on the server. The request id in the answer identifies it in the logs.",
	"malformed":                  "The request could not be read: invalid JSON, an unknown, duplicated or wrongly cased field, data after the JSON value, or a value of the wrong type.",
	"unauthorized":               "The call needs valid credentials.",
	"unauthenticated":            "The call needs an Authorization: Bearer header with an access token.",
	"invalid-token":              "The access token is missing, malformed, expired, not yet valid, signed by an unknown key, or its account is not active. Refresh it or sign in again.",
	"invalid-credentials":        "The email or password is wrong. The answer never says which.",
	"invalid-refresh-token":      "The refresh token is unknown, expired, revoked, or was already spent (which revokes its whole session). Sign in again.",
	"invalid-reset-token":        "The password reset link is unknown, was used already, is older than 30 minutes, or its account is no longer active. Ask for a new link.",
	"reset-by-admin":             "This server sends no mail (no SMTP server is set), so passwords are not reset by email. An administrator of this Jarimu makes a reset link for you (jarimu admin reset-password).",
	"consent-required":           "Your account has not consented to the privacy notice in force (a new version, or a staff account's first sign-in). Read it (GET /v1/privacy) and consent (POST /v1/me/consent); until then most writes are held back, but reads, alerts and the feed keep working.",
	"wrong-password":             "The password you re-entered is not your account's password. Attempts are throttled as logins are.",
	"account-erased":             "The account was erased at its owner's or an admin's request. Nothing can bring it back; its email may make a new account.",
	"account-not-active":         "The account is suspended or deleted; reactivate it first.",
	"region-by-admin":            "A staff account's region is the reach of its authority and is set by an admin.",
	"forbidden":                  "You are signed in but your role does not allow this call.",
	"not-found":                  "Nothing is there, or it is not visible to you.",
	"method-not-allowed":         "The path exists but not with this method; the Allow header lists the methods served.",
	"conflict":                   "The current state does not allow this change.",
	"email-taken":                "An account with this email already exists (emails are compared without regard to letter case).",
	"self-suspension":            "Admins cannot suspend, delete or change the role of their own account.",
	"too-large":                  "The request body is larger than allowed (64 KiB for JSON).",
	"unsupported-media-type":     "The body must be sent as Content-Type: application/json.",
	"invalid":                    "The request is well-formed but a value is not acceptable.",
	"validation":                 "One or more fields are invalid; the errors member lists each field and why.",
	"idempotency-key-reused":     "This Idempotency-Key was already used with a different request body. Use a new key for a new request.",
	"idempotency-in-progress":    "The first request with this Idempotency-Key is still running. Retry after the Retry-After delay to get its answer.",
	"idempotency-applied":        "The first request with this Idempotency-Key was carried out, but its answer was lost (the server stopped before storing it). It is not run again: reload the resource to see the result.",
	"bad-idempotency-key":        "The Idempotency-Key header must be 1 to 128 printable ASCII characters.",
	"bad-query":                  "A query parameter is malformed or out of range (limit is 1 to 200; enums list their values).",
	"bad-cursor":                 "The cursor was not given out by this server. Start again from the first page.",
	"accreditation-number-taken": "An organisation with this Bawaslu accreditation number is already registered.",
	"accreditation-transition":   "The accreditation cannot change this way from its current status (for example, a revoked accreditation cannot be renewed; register the organisation anew).",
	"org-not-accredited":         "The organisation is suspended, revoked or expired, and takes no new members, tasks or reports until an officer renews it. The detail says which.",
	"invite-unknown":             "The invite code is not valid for this organisation. Check it, or ask a coordinator for a new one.",
	"invite-expired":             "The invite code has expired. Ask a coordinator for a new one.",
	"invite-used-up":             "The invite code has been used as many times as it allows. Ask a coordinator for a new one.",
	"membership-exists":          "You already have a pending or active membership in this organisation.",
	"not-pending":                "Only a pending membership can be approved or rejected.",
	"not-active":                 "The membership is not active (or pending, for removal), so this change does not apply.",
	"last-coordinator":           "An organisation always keeps at least one coordinator. Make another member coordinator first.",
	"staff-cannot-join":          "Bawaslu officers and admins stay neutral and do not join organisations.",
	"task-full":                  "Every slot of the task is taken (active and completed claims). Another volunteer may release one; the feed's task.updated tells when.",
	"already-claimed":            "You already hold an active claim on this task.",
	"claim-limit":                "You hold as many active claims as allowed (JARIMU_MAX_ACTIVE_CLAIMS, 3 by default). Complete or release one first.",
	"task-closed":                "The task is closed or past its due time and takes no claims.",
	"task-not-started":           "The task opens for claims at its starts_at time.",
	"not-a-member":               "Only active members of the task's organisation take its tasks (national-pool tasks: volunteers).",
	"outside-region":             "The task is for volunteers of another region, or you act outside your region.",
	"claim-expired":              "The claim's lease has passed and its slot was freed. Claim the task again if a slot is free.",
	"claim-not-active":           "The claim was already released, expired or completed, or the server ended it when its holder lost access to the task (end_reason says why).",
	"membership-ended":           "You are no longer an active member of the task's organisation, so this claim cannot be extended or completed. You may still release it.",
	"claim-version":              "The claim changed since you read it (another device or a coordinator). Reload it and try again.",
	"own-report":                 "Nobody reviews, verifies or records a takedown of their own report.",
	"report-decided":             "The report was decided (verified, rejected or duplicate) and no longer changes: no evidence, review or new decision. A verified report still takes its takedown steps.",
	"report-transition":          "The report's status does not allow this decision (see the workflow table in docs/api.md).",
	"takedown-transition":        "Takedown steps go requested, then taken_down or refused, and only for verified reports.",
	"already-retracted":          "The alert was retracted already.",
	"evidence-empty":             "The evidence file is empty.",
	"evidence-type":              "Evidence must be a png, jpeg, webp or pdf file; the type is decided by the content, not the name.",
	"rate-limited":               "Too many requests. Wait for the Retry-After delay.",
	"busy":                       "The server is handling too many sign-ins at once. Retry after the Retry-After delay.",
	"unavailable":                "A dependency (the database, or the evidence store) is not answering or refuses the server's credentials. Retry after the Retry-After delay.",
	"not-ready":                  "This instance cannot serve yet: a dependency is not answering.",
	"draining":                   "This instance is shutting down; another instance will serve you.",
}

func (s *Server) handleProblemType(w http.ResponseWriter, r *http.Request) error {
	typ := r.PathValue("type")
	doc, ok := problemDocs[typ]
	if !ok {
		return problem.Errorf(problem.NotFound, "no problem type %q", typ)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=86400")
	fmt.Fprintf(w, "<!doctype html><meta charset=utf-8><title>%s</title><h1>%s</h1><p>%s</p>\n",
		html.EscapeString(typ), html.EscapeString(typ), html.EscapeString(doc))
	return nil
}
