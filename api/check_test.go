package api_test

import (
	"slices"
	"testing"

	"github.com/jarimu/jarimu/api"
)

func TestCheckRequired(t *testing.T) {
	var c api.Check
	if !c.Required("token", "x") || !c.OK() {
		t.Fatalf("a given value failed: %+v", c.Errors)
	}
	if c.Required("password", "") {
		t.Fatal("an empty value passed")
	}
	want := api.FieldError{Field: "password", Message: "is required"}
	if len(c.Errors) != 1 || c.Errors[0] != want {
		t.Fatalf("errors %+v, want [%+v]", c.Errors, want)
	}
}

// Each request that needs both fields names every missing one.
func TestValidateNamesEveryMissingField(t *testing.T) {
	for _, tc := range []struct {
		what string
		errs []api.FieldError
		want []string
	}{
		{"change password", (&api.ChangePasswordRequest{}).Validate(), []string{"current_password", "new_password"}},
		{"reset confirm", (&api.PasswordResetConfirm{}).Validate(), []string{"token", "password"}},
		{"reset confirm without password", (&api.PasswordResetConfirm{Token: "t"}).Validate(), []string{"password"}},
	} {
		var got []string
		for _, e := range tc.errs {
			got = append(got, e.Field)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: fields %v, want %v", tc.what, got, tc.want)
		}
	}
}
