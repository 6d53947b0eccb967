package server

import "testing"

func TestCSVCell(t *testing.T) {
	tests := []struct{ in, want string }{
		{"=HYPERLINK(\"http://x.example\",\"klik\")", "'=HYPERLINK(\"http://x.example\",\"klik\")"},
		{"+62 812", "'+62 812"},
		{"-2+3", "'-2+3"},
		{"@SUM(A1:A9)", "'@SUM(A1:A9)"},
		{"\t=1+1", "'\t=1+1"},
		{"\r=1+1", "'\r=1+1"},
		{"'=already quoted", "'=already quoted"},
		{"Hoaks = fitnah", "Hoaks = fitnah"},
		{" =1+1", " =1+1"},
		{"", ""},
		{"0", "0"},
		{"2029-12-31T23:59:59Z", "2029-12-31T23:59:59Z"},
		{"01a21ef8-4344-718f-9937-2ab1a92a39e6", "01a21ef8-4344-718f-9937-2ab1a92a39e6"},
	}
	for _, tt := range tests {
		if got := csvCell(tt.in); got != tt.want {
			t.Errorf("csvCell(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
