package drills_test

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/jarimu/jarimu/apptest"
	"github.com/jarimu/jarimu/browsertest"
)

// console is the web console in a headless Chromium with a fresh profile,
// driven as web's browser tests drive it (web/browser_test.go), reduced to
// what the drills need.
type console struct{ *browsertest.Page }

// newConsole starts Chromium with a phone-sized window on base.
func newConsole(t testing.TB, base string) *console {
	t.Helper()
	return &console{browsertest.New(t, base, 360, 740)}
}

// signIn signs in through the form and waits for the live feed.
func (c *console) signIn(email string) {
	c.T.Helper()
	c.Do("open the login page", chromedp.Navigate(c.Base+"/#/login"), chromedp.WaitVisible(chromedp.CSS("#login-email")))
	c.Do("fill the form", chromedp.SendKeys(chromedp.CSS("#login-email"), email),
		chromedp.SendKeys(chromedp.CSS("#login-password"), apptest.Password),
		chromedp.Click(chromedp.CSS("#login-form button[type=submit]"), chromedp.NodeVisible))
	c.WaitJS("signed in", "!document.getElementById('logout').hidden", 15*time.Second)
	c.WaitJS("the feed to connect", "document.getElementById('net').dataset.state === 'open'", 15*time.Second)
}
