package web_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/jarimu/jarimu/api"

	"github.com/jarimu/jarimu/apptest"
	"github.com/jarimu/jarimu/dbtest"
)

// hostile is a report summary that would run script if it were ever parsed
// as HTML.
const hostile = `<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">Uang dibagikan di TPS 12`

// A coordinator's page updates live: requests to join appear as they are
// made and are approved in bulk or rejected one by one; members' reports
// arrive with their cluster size, a hostile summary shows as text, and one
// is endorsed. Invites and tasks are made from the same screens.
func TestBrowserCoordinatorLive(t *testing.T) {
	e := apptest.Start(t, dbtest.SQLite)
	f := newFixture(t, e)
	coord := e.User(t, "volunteer", "andi-koordinator", "31")
	o := f.org(t, "JPPR DKI Jakarta", coord)

	c := newBrowser(t, e.URL, 390, 844)
	c.signIn(coord.User.Email)
	c.clickText("#nav", "Kelola JPPR DKI Jakarta")
	c.WaitJS("the members tab", `location.hash === '#/org/`+o.ID+`' && !!document.getElementById('pending-list')`, 5*time.Second)
	c.waitText("#pending-list", "Tidak ada permintaan", 5*time.Second)

	a := e.User(t, "volunteer", "ani", "3171")
	b := e.User(t, "volunteer", "bayu", "3172")
	z := e.User(t, "volunteer", "zaki", "3173")
	for _, v := range []api.AuthResponse{a, b, z} {
		f.join(t, v, o.ID, "")
		c.waitText("#pending-list", v.User.Name, 2*time.Second)
	}
	c.checkA11y("coordinator members")
	c.shot("coordinator-pending")

	// Zaki is rejected with a reason; Ani and Bayu approved together.
	c.Eval(`document.getElementById('bulk-reason').value = 'Bukan warga wilayah pemantauan'`)
	c.Eval(`document.querySelector('#pending-list [data-member="` + z.User.ID + `"] button.danger').click()`)
	c.WaitJS("zaki rejected", `!document.querySelector('#pending-list [data-member="`+z.User.ID+`"]')`, 5*time.Second)
	c.click("#select-all")
	c.click("#bulk-approve")
	c.waitText("main", "2 disetujui, 0 gagal", 5*time.Second)
	c.waitText("#member-list", "ani", 5*time.Second)
	c.waitText("#member-list", "bayu", 5*time.Second)
	var me struct {
		Memberships []struct{ Status, Reason string } `json:"memberships"`
	}
	e.Do(t, "GET", "/v1/me", nil, bearer(z)...).Decode(t, &me)
	if len(me.Memberships) != 1 || me.Memberships[0].Status != "rejected" || me.Memberships[0].Reason != "Bukan warga wilayah pemantauan" {
		t.Errorf("zaki's membership: got %+v, want rejected with the reason", me.Memberships)
	}

	// Reports arrive live with the size of their URL cluster.
	c.goTo("#/org/" + o.ID + "/reports")
	c.waitText("#review-list", "Belum ada laporan", 5*time.Second)
	url := "https://www.tiktok.com/@akun.anonim/video/7301"
	f.report(t, a, o.ID, url, hostile)
	c.waitText("#review-list", "Uang dibagikan di TPS 12", 2*time.Second)
	second := f.report(t, b, o.ID, url+"?utm_source=wa", "Video yang sama beredar di grup WhatsApp warga.")
	c.waitText("#review-list", "beredar di grup WhatsApp", 2*time.Second)
	c.waitText(`#review-list [data-report="`+second.ID+`"] .cluster`, "2 laporan", 2*time.Second)
	if !c.EvalBool(`[...document.querySelectorAll('#review-list .summary')].some((e) => e.textContent === ` + jsString(hostile) + `)`) {
		t.Error("the hostile summary is not shown as its text")
	}
	if c.EvalBool(`window.__pwned !== undefined || !!document.querySelector('#review-list .summary img, #review-list .summary script')`) {
		t.Error("the hostile summary was parsed as HTML")
	}
	c.shot("coordinator-review")
	c.Eval(`document.querySelector('#review-list [data-report="` + second.ID + `"] button[value=endorse]').click()`)
	c.WaitJS("the endorsed report to leave the queue", `!document.querySelector('#review-list [data-report="`+second.ID+`"]')`, 5*time.Second)

	// An invite code, shown once.
	c.goTo("#/org/" + o.ID + "/invites")
	c.click("#invite-form button[type=submit]")
	c.WaitJS("the invite code", `(document.getElementById('invite-code')?.textContent || '').length >= 6`, 5*time.Second)

	// A task made in the form, then assigned to Ani.
	c.goTo("#/org/" + o.ID + "/tasks")
	c.click("main details summary")
	c.fill("#task-title", "Pantau akun @akun.anonim")
	c.fill("#task-target", "@akun.anonim")
	c.setValue("#task-platform", "tiktok")
	c.fill("#task-slots", "2")
	c.checkA11y("coordinator tasks")
	c.click("#task-form button[type=submit]")
	c.waitText("#org-tasks", "Pantau akun @akun.anonim", 5*time.Second)
	c.waitText("#org-tasks", "Sisa slot: 2 dari 2", 5*time.Second)
	c.Eval(`(() => { const s = document.querySelector('#org-tasks select[name=user_id]'); s.value = '` + a.User.ID + `'; })()`)
	c.clickText("#org-tasks", "Tugaskan")
	c.waitText("#org-tasks", "Sisa slot: 1 dari 2", 5*time.Second)
	c.noHorizontalScroll("coordinator tasks")
	c.shot("coordinator-tasks")
}

// jsString is s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
