package web_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/jarimu/jarimu/apptest"
	"github.com/jarimu/jarimu/dbtest"
)

// selectByText picks the option of a select by its visible text.
func (b *browser) selectByText(sel, text string) {
	b.T.Helper()
	b.Eval(fmt.Sprintf(`(() => { const s = document.querySelector(%q);
		const o = [...s.options].find((o) => o.textContent === %q);
		if (!o) throw new Error('no option ' + %q);
		s.value = o.value; s.dispatchEvent(new Event('change', {bubbles: true})); })()`, sel, text, text))
}

// An officer broadcasts an alert to Jakarta Pusat (3171), searched by name;
// the open page of a volunteer there shows it within 2 s, without a
// reload. The officer then retracts it, and the volunteer sees that too.
func TestBrowserAlertReachesOpenPage(t *testing.T) {
	e := apptest.Start(t, dbtest.SQLite)
	officer := e.User(t, "officer", "petugas-ri", "")
	vol := e.User(t, "volunteer", "sari", "3171")
	far := e.User(t, "volunteer", "ketut", "51")

	v := newBrowser(t, e.URL, 360, 740)
	v.signIn(vol.User.Email)
	v.waitText("main", "Belum ada peringatan", 5*time.Second)
	bali := newBrowser(t, e.URL, 360, 740)
	bali.signIn(far.User.Email)

	o := newBrowser(t, e.URL, 390, 844)
	o.signIn(officer.User.Email)
	o.goTo("#/officer/alerts")
	o.checkA11y("broadcast")
	o.fill("#alert-title", "Hoaks surat suara tercoblos di Jakarta Selatan")
	o.fill("#alert-body", "Video yang beredar adalah rekaman lama dari 2019. Jangan disebarkan.")
	o.setValue("#alert-severity", "critical")
	o.pickRegion("#alert-form", "jakarta pus", "3171")
	o.waitText("#alert-form", "Dipilih: Kota Administrasi Jakarta Pusat", 2*time.Second)
	o.shot("officer-broadcast")
	start := time.Now()
	o.click("#alert-send")
	v.waitText("#toasts, #alert-list", "Hoaks surat suara tercoblos", 2*time.Second)
	t.Logf("the volunteer's page showed the alert %v after the click", time.Since(start))
	v.waitText("#alert-list", "Hoaks surat suara tercoblos", 2*time.Second)
	v.shot("volunteer-home-alert")
	o.waitText("#alert-list", "Hoaks surat suara tercoblos", 5*time.Second)
	if bali.EvalBool(`document.body.textContent.includes('Hoaks surat suara')`) {
		t.Error("a volunteer in Bali got the alert meant for Jakarta Pusat")
	}

	// The reach counts the volunteer's acknowledgement.
	o.clickText("#alert-list", "Jangkauan")
	o.waitText("#alert-list", "diterima 1", 5*time.Second)

	// Retraction reaches the open page too.
	o.clickText("#alert-list", "Tarik peringatan")
	o.Eval(`document.querySelector('#alert-list details[open] textarea[name=reason]').value = 'Salah wilayah sasaran'`)
	o.Eval(`document.querySelector('#alert-list details[open] button[type=submit]').click()`)
	v.waitText("#alert-list", "Ditarik: Salah wilayah sasaran", 3*time.Second)
	o.shot("officer-alerts")

	// The public page lists it by province, without signing in.
	p := newBrowser(t, e.URL, 360, 740)
	p.open("#/alerts")
	p.selectByText("main select[name=region]", "Daerah Khusus Ibukota Jakarta")
	p.waitText("#alert-list", "Hoaks surat suara tercoblos", 5*time.Second)
	p.checkA11y("public alerts")
	p.noHorizontalScroll("public alerts")
	p.shot("public-alerts")
}
