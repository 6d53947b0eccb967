package org

import (
	"strings"
	"testing"
	"time"

	"github.com/jarimu/jarimu/api"
)

// An accredited org whose validity has passed reads as expired, without
// anyone acting; other statuses stay as they are.
func TestStatusAt(t *testing.T) {
	until := time.Date(2029, 12, 31, 23, 59, 59, 0, time.UTC)
	for _, c := range []struct {
		status string
		now    time.Time
		want   string
	}{
		{api.OrgAccredited, until.Add(-time.Second), api.OrgAccredited},
		{api.OrgAccredited, until, api.OrgAccredited},
		{api.OrgAccredited, until.Add(time.Second), api.OrgExpired},
		{api.OrgSuspended, until.Add(time.Hour), api.OrgSuspended},
		{api.OrgRevoked, until.Add(-time.Hour), api.OrgRevoked},
	} {
		o := &Org{Name: "KIPP", Status: c.status, AccreditedUntil: until}
		if got := o.StatusAt(c.now); got != c.want {
			t.Errorf("%s at %v: got %s, want %s", c.status, c.now, got, c.want)
		}
		err := CheckAccredited(o, c.now)
		if (err == nil) != (c.want == api.OrgAccredited) || err != nil && !NotAccredited.Is(err) {
			t.Errorf("CheckAccredited %s at %v: %v", c.status, c.now, err)
		}
	}
}

// Invite codes are 20 symbols of the alphabet in groups of five; as typed
// back they ignore case, dashes and spaces.
func TestInviteCodes(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		c := newCode()
		if len(c) != 23 || strings.Count(c, "-") != 3 {
			t.Fatalf("code %q: want 4 groups of 5", c)
		}
		for _, r := range strings.ReplaceAll(c, "-", "") {
			if !strings.ContainsRune(codeAlphabet, r) {
				t.Fatalf("code %q has %q, not of the alphabet", c, r)
			}
		}
		if seen[c] {
			t.Fatalf("code %q made twice", c)
		}
		seen[c] = true
		typed := strings.ToLower(strings.ReplaceAll(c, "-", " "))
		if hashCode(typed) != hashCode(c) {
			t.Fatalf("%q and %q hash apart", typed, c)
		}
	}
	if hashCode("AAAAA-BBBBB") == hashCode("AAAAA-BBBBC") {
		t.Fatal("two codes hash alike")
	}
}
