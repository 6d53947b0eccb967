package web_test

import (
	"testing"
	"time"

	"github.com/jarimu/jarimu/apptest"
	"github.com/jarimu/jarimu/dbtest"
)

// A national officer registers a CSO, suspends and renews it, verifies a
// report as it arrives, with the public summary Bawaslu publishes of it,
// and records its takedown.
func TestBrowserOfficerRegistryAndVerification(t *testing.T) {
	e := apptest.Start(t, dbtest.SQLite)
	f := newFixture(t, e)
	officer := e.User(t, "officer", "petugas-ri", "")
	coord := e.User(t, "volunteer", "calon-koordinator", "")
	vol := e.User(t, "volunteer", "relawan", "3171")

	o := newBrowser(t, e.URL, 390, 844)
	o.signIn(officer.User.Email)
	o.goTo("#/officer/orgs")
	o.click("main details summary")
	o.fill("#org-name", "Lembaga Pemantau Nusantara")
	o.fill("#org-number", "SK-BAWASLU/2029/117")
	o.setValue("#org-until", time.Now().AddDate(1, 0, 0).Format("2006-01-02"))
	o.fill("#org-coordinator", coord.User.Email)
	o.checkA11y("officer registry")
	o.click("#org-form button[type=submit]")
	o.waitText("#org-list", "Lembaga Pemantau Nusantara", 5*time.Second)
	card := "#org-list [data-org]"
	o.click(card + " details summary")
	o.Eval(`document.querySelector('#org-list details[open] textarea[name=reason]').value = 'Laporan akhir belum diserahkan'`)
	o.Eval(`document.querySelector('#org-list details[open] button[type=submit]').click()`)
	o.waitText(card, "Dibekukan", 5*time.Second)
	o.click(card + " details summary")
	o.setValue("#org-list details[open] select[name=action]", "renew")
	o.setValue("#org-list details[open] input[name=until]", time.Now().AddDate(0, 6, 0).Format("2006-01-02"))
	o.Eval(`document.querySelector('#org-list details[open] textarea[name=reason]').value = 'Laporan akhir sudah diserahkan'`)
	o.Eval(`document.querySelector('#org-list details[open] button[type=submit]').click()`)
	o.waitText(card, "Terakreditasi", 5*time.Second)
	o.shot("officer-registry")

	// A report without an org goes straight to the region's officers.
	o.goTo("#/officer/reports")
	o.waitText("#verify-list", "Belum ada laporan", 5*time.Second)
	r := f.report(t, vol, "", "https://x.com/akun/status/1771", "Klaim palsu bahwa TPS 7 dipindah; sebarannya luas di X.")
	o.waitText("#verify-list", "TPS 7 dipindah", 2*time.Second)
	rep := `#verify-list [data-report="` + r.ID + `"]`
	o.click(rep + " details summary")
	o.Eval(`document.querySelector('` + rep + ` textarea[name=note]').value = 'Dicek dengan KPU setempat: TPS tidak dipindah.'`)
	const public = "Klaim bahwa TPS 7 dipindah tidak benar; TPS tetap di lokasi semula."
	o.Eval(`document.querySelector('` + rep + ` textarea[name=public_summary]').value = '` + public + `'`)
	o.checkA11y("officer verification")
	o.shot("officer-verify")
	o.Eval(`document.querySelector('` + rep + ` button[value=verified]').click()`)
	o.waitText(rep, "Terverifikasi", 5*time.Second)
	o.waitText(rep, "Diterbitkan sebagai: "+public, 2*time.Second)
	o.click(rep + " details summary")
	o.Eval(`document.querySelector('` + rep + ` input[name=platform_ref]').value = 'X-TR-2029-0042'`)
	o.Eval(`document.querySelector('` + rep + ` details[open] button[type=submit]').click()`)
	o.WaitJS("the takedown request", `!!document.querySelector('`+rep+` .badge.s-requested')`, 5*time.Second)
	o.click(rep + " details summary")
	o.setValue(rep+" select[name=status]", "taken_down")
	o.Eval(`document.querySelector('` + rep + ` details[open] button[type=submit]').click()`)
	o.WaitJS("the takedown", `!!document.querySelector('`+rep+` .badge.s-taken_down')`, 5*time.Second)
	o.noHorizontalScroll("officer verification")

	var got struct {
		Status        string `json:"status"`
		PublicSummary string `json:"public_summary"`
		Takedown      []struct {
			Status string `json:"status"`
		} `json:"takedown"`
	}
	e.Do(t, "GET", "/v1/reports/"+r.ID, nil, bearer(vol)...).Decode(t, &got)
	if got.Status != "verified" || got.PublicSummary != public || len(got.Takedown) != 2 || got.Takedown[1].Status != "taken_down" {
		t.Errorf("the report: got %+v, want verified with the public summary and taken down", got)
	}
	var claims []struct {
		ClaimReviewed string `json:"claimReviewed"`
	}
	e.Do(t, "GET", "/v1/open/claimreviews.json", nil).Decode(t, &claims)
	if len(claims) != 1 || claims[0].ClaimReviewed != public {
		t.Errorf("claimreviews: got %+v, want the public summary", claims)
	}
}
