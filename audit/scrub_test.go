package audit

import "testing"

func TestScrubJSON(t *testing.T) {
	s := func(v string) *string { return &v }
	for _, c := range []struct {
		in, want string
		changed  bool
	}{
		{`{"name":"Ana","email":"ana@example.org","role":"officer"}`, `{"email":"[erased]","name":"[erased]","role":"officer"}`, true},
		{`{"user":{"name":"Ana"},"list":["x","ana@example.org"]}`, `{"list":["x","[erased]"],"user":{"name":"[erased]"}}`, true},
		{`{"name":"Anastasia","note":"Ana said"}`, `{"name":"Anastasia","note":"Ana said"}`, false},
		{`{"name":""}`, `{"name":""}`, false},
		{`not json`, `not json`, false},
	} {
		got, changed := scrubJSON(s(c.in), []string{"Ana", "ana@example.org", ""})
		if changed != c.changed || *got != c.want {
			t.Errorf("scrubJSON(%s) = %s, %v; want %s, %v", c.in, *got, changed, c.want, c.changed)
		}
	}
	if got, changed := scrubJSON(nil, []string{"Ana"}); got != nil || changed {
		t.Error("nil changed")
	}
}
