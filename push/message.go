package push

import (
	"fmt"
	"net/url"
	"unicode/utf8"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/region"
)

// DefaultLang is the language of a push when the account's is not known
// (accounts have no language setting yet, so every push is in it).
const DefaultLang = "id"

// texts are the words of the notifications, per language.
var texts = map[string]map[string]string{
	"id": {
		"info": "Info", "warning": "Waspada", "critical": "KRITIS",
		"national":   "Nasional",
		"regency":    "Kab/Kota %s",
		"retracted":  "Dicabut: ",
		"retractedB": "Bawaslu mencabut peringatan ini. Alasan: ",
		"assigned":   "Tugas baru untukmu: ",
		"assignedB":  "Koordinator menugaskanmu. Ketuk untuk melihat tugasmu.",
		"test":       "Tes notifikasi Jarimu",
		"testB":      "Notifikasi di perangkat ini berfungsi.",
	},
	"en": {
		"info": "Info", "warning": "Warning", "critical": "CRITICAL",
		"national":   "National",
		"regency":    "Regency/city %s",
		"retracted":  "Retracted: ",
		"retractedB": "Bawaslu retracted this alert. Reason: ",
		"assigned":   "New task for you: ",
		"assignedB":  "A coordinator assigned you. Tap to see your tasks.",
		"test":       "Jarimu test notification",
		"testB":      "Notifications work on this device.",
	},
}

func word(lang, key string) string {
	if w, ok := texts[lang][key]; ok {
		return w
	}
	return texts[DefaultLang][key]
}

// regionName names a region for a notification: "Nasional", a province
// by name, a regency by its code and province.
func regionName(lang, code string) string {
	if code == "" {
		return word(lang, "national")
	}
	name, ok := region.ProvinceName(code[:min(len(code), 2)])
	if !ok {
		return code
	}
	if len(code) == 2 {
		return name
	}
	return fmt.Sprintf(word(lang, "regency"), code) + ", " + name
}

// clip shortens s to at most n characters, with an ellipsis when cut.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// alertURL is where a tap on an alert's notification leads in the console.
func alertURL(id string) string { return "/#/alerts/" + url.PathEscape(id) }

// AlertJob is the push of a published alert: to the volunteers of its
// region and below (national: all), urgent when critical.
func AlertJob(a api.Alert) Job {
	lang, code := DefaultLang, ""
	if a.RegionCode != nil {
		code = *a.RegionCode
	}
	where := regionName(lang, code)
	urgency := "normal"
	if a.Severity == "critical" {
		urgency = "high"
	}
	return Job{Kind: KindAlert, RefID: a.ID, Region: code, Topic: topicOf(a.ID), Urgency: urgency,
		Payload: api.PushPayload{Kind: KindAlert, Title: clip("["+word(lang, a.Severity)+"] "+a.Title, 120),
			Body: clip(where+" · "+a.Body, 240), Severity: a.Severity, Region: where, URL: alertURL(a.ID),
			Tag: "alert-" + a.ID, Lang: lang}}
}

// RetractionJob is the push of a retracted alert: to the same devices,
// with the alert's topic and tag, so it replaces the alert's notification
// at the push service (if not yet delivered) and on the device.
func RetractionJob(a api.Alert) Job {
	j := AlertJob(a)
	j.Kind, j.Urgency = KindRetraction, "normal"
	j.Payload.Kind = KindRetraction
	j.Payload.Title = clip(word(j.Payload.Lang, "retracted")+a.Title, 120)
	j.Payload.Body = clip(word(j.Payload.Lang, "retractedB")+a.RetractionReason, 240)
	return j
}

// AssignmentJob is the push of an assignment: to the assignee's devices.
func AssignmentJob(c api.Claim, t api.Task) Job {
	lang := DefaultLang
	return Job{Kind: KindAssignment, RefID: c.ID, UserID: c.UserID, Topic: topicOf(c.ID), Urgency: "normal",
		Payload: api.PushPayload{Kind: KindAssignment, Title: clip(word(lang, "assigned")+t.Title, 120),
			Body: word(lang, "assignedB"), URL: "/#/tasks", Tag: "assignment-" + c.ID, Lang: lang}}
}

// testJob is the push of `jarimu push test`: to the caller's devices,
// whatever events they chose.
func testJob(userID, id string) Job {
	lang := DefaultLang
	return Job{Kind: KindTest, RefID: id, UserID: userID, Topic: topicOf(id), Urgency: "normal",
		Payload: api.PushPayload{Kind: KindTest, Title: word(lang, "test"), Body: word(lang, "testB"),
			URL: "/#/notifications", Tag: "test-" + id, Lang: lang}}
}
