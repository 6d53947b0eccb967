package auth

import (
	"context"
	"slices"
	"strings"

	"github.com/uptrace/bun"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/event"
	"github.com/jarimu/jarimu/region"
)

// AccountStreams are the feed streams an account has by its role and region
// alone (org streams come with memberships): the region streams of its
// region (national, province, regency), and for officers and admins the
// review stream of their region (review:national without one).
func AccountStreams(role, regionCode string) []string {
	streams := region.Streams(regionCode)
	if role == api.RoleOfficer || role == api.RoleAdmin {
		streams = append(streams, ReviewStream(regionCode))
	}
	return streams
}

// UserStream is a user's own stream: what happens to them and their
// account, and the changes of what they may read.
func UserStream(userID string) string { return "user:" + userID }

// ReviewStream is the review stream of an officer's region.
func ReviewStream(regionCode string) string {
	if regionCode == "" {
		return "review:national"
	}
	return "review:" + regionCode
}

// streamsDiff is what a change of role or region gives and takes away.
func streamsDiff(before, after []string) (gained, lost []string) {
	for _, s := range after {
		if !slices.Contains(before, s) {
			gained = append(gained, s)
		}
	}
	for _, s := range before {
		if !slices.Contains(after, s) {
			lost = append(lost, s)
		}
	}
	return gained, lost
}

// Revoke writes, inside q, access.revoked for userID to each of streams
// they lose (named under Config.RevokeKey): the feed ends their
// connections' hold on each in the stream's own order, ahead of any event
// of it committed later.
func (s *Service) Revoke(ctx context.Context, q bun.IDB, userID string, streams ...string) error {
	for _, st := range streams {
		if _, err := event.Append(ctx, q, st, api.EventAccessRevoked, api.AccessRevoked{Token: api.RevokeToken(s.cfg.RevokeKey, st, userID)}); err != nil {
			return err
		}
	}
	return nil
}

// restricted keeps, of streams, the review streams: region streams carry
// what every volunteer of the region reads (alerts, national-pool tasks).
func restricted(streams []string) []string {
	var out []string
	for _, s := range streams {
		if strings.HasPrefix(s, "review:") {
			out = append(out, s)
		}
	}
	return out
}
