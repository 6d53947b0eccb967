package push

import (
	"net/url"
	"unicode/utf8"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/region"
)

// DefaultLang is the language of a push when the account's is not known.
const DefaultLang = "id"

// Langs are the languages a push is written in; each device gets the one
// of its account (api.User.Language), else DefaultLang.
var Langs = []string{"id", "en"}

// inLangs makes a job's payload in every language: Payload in DefaultLang,
// Others in the rest.
func inLangs(j Job, payload func(lang string) api.PushPayload) Job {
	j.Payload = payload(DefaultLang)
	j.Others = map[string]api.PushPayload{}
	for _, l := range Langs {
		if l != DefaultLang {
			j.Others[l] = payload(l)
		}
	}
	return j
}

// texts are the words of the notifications, per language.
var texts = map[string]map[string]string{
	"id": {
		"info": "Info", "warning": "Waspada", "critical": "KRITIS",
		"national":   "Nasional",
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

// regionName names a region for a notification: "Nasional", or the region
// by name with its province ("Kota Administrasi Jakarta Pusat, Daerah
// Khusus Ibukota Jakarta").
func regionName(lang, code string) string {
	if code == "" {
		return word(lang, "national")
	}
	if l := region.Label(code); l != "" {
		return l
	}
	return code
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
	code := ""
	if a.RegionCode != nil {
		code = *a.RegionCode
	}
	urgency := "normal"
	if a.Severity == "critical" {
		urgency = "high"
	}
	return inLangs(Job{Kind: KindAlert, RefID: a.ID, Region: code, Topic: topicOf(a.ID), Urgency: urgency},
		func(lang string) api.PushPayload { return alertPayload(a, lang, code) })
}

func alertPayload(a api.Alert, lang, code string) api.PushPayload {
	where := regionName(lang, code)
	return api.PushPayload{Kind: KindAlert, Title: clip("["+word(lang, a.Severity)+"] "+a.Title, 120),
		Body: clip(where+" · "+a.Body, 240), Severity: a.Severity, Region: where, URL: alertURL(a.ID),
		Tag: "alert-" + a.ID, Lang: lang}
}

// RetractionJob is the push of a retracted alert: to the same devices,
// with the alert's topic and tag, so it replaces the alert's notification
// at the push service (if not yet delivered) and on the device.
func RetractionJob(a api.Alert) Job {
	j := AlertJob(a)
	j.Kind, j.Urgency = KindRetraction, "normal"
	code := j.Region
	return inLangs(j, func(lang string) api.PushPayload {
		p := alertPayload(a, lang, code)
		p.Kind = KindRetraction
		p.Title = clip(word(lang, "retracted")+a.Title, 120)
		p.Body = clip(word(lang, "retractedB")+a.RetractionReason, 240)
		return p
	})
}

// AssignmentJob is the push of an assignment: to the assignee's devices.
func AssignmentJob(c api.Claim, t api.Task) Job {
	return inLangs(Job{Kind: KindAssignment, RefID: c.ID, UserID: c.UserID, Topic: topicOf(c.ID), Urgency: "normal"},
		func(lang string) api.PushPayload {
			return api.PushPayload{Kind: KindAssignment, Title: clip(word(lang, "assigned")+t.Title, 120),
				Body: word(lang, "assignedB"), URL: "/#/tasks", Tag: "assignment-" + c.ID, Lang: lang}
		})
}

// testJob is the push of `jarimu push test`: to the caller's devices,
// whatever events they chose.
func testJob(userID, id string) Job {
	return inLangs(Job{Kind: KindTest, RefID: id, UserID: userID, Topic: topicOf(id), Urgency: "normal"},
		func(lang string) api.PushPayload {
			return api.PushPayload{Kind: KindTest, Title: word(lang, "test"), Body: word(lang, "testB"),
				URL: "/#/notifications", Tag: "test-" + id, Lang: lang}
		})
}
