package app

import (
	"context"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/org"
	"github.com/jarimu/jarimu/realtime"
	"github.com/jarimu/jarimu/region"
)

// feedStreams lists the streams a user's feed connection listens to, as the
// contract says: their own; each active org's, plus its review stream for
// coordinators; the region streams of their region (national, province,
// regency), where alerts and national-pool tasks travel; and for officers the
// review stream of their region (review:national for national officers).
func (a *App) feedStreams(ctx context.Context, id realtime.Identity) ([]string, error) {
	userID := id.UserID
	streams := []string{org.UserStream(userID)}
	roles, err := a.Orgs.Active(ctx, userID)
	if err != nil {
		return nil, err
	}
	for orgID, role := range roles {
		streams = append(streams, org.Stream(orgID))
		if role == api.RoleCoordinator {
			streams = append(streams, org.ReviewStream(orgID))
		}
	}
	streams = append(streams, region.Streams(id.Region)...)
	if id.Role == api.RoleOfficer || id.Role == api.RoleAdmin {
		streams = append(streams, reviewStream(id.Region))
	}
	return streams, nil
}

// reviewStream is the review stream of an officer's region.
func reviewStream(code string) string {
	if code == "" {
		return "review:national"
	}
	return "review:" + code
}

// feedAuth verifies a feed token: the active account behind it (role and
// region from the database) and when the token expires.
func (a *App) feedAuth(ctx context.Context, token string) (realtime.Identity, error) {
	p, exp, err := a.Auth.AuthenticateToken(ctx, token)
	return realtime.Identity{UserID: p.UserID, Role: p.Role, Region: p.Region, Expires: exp}, err
}
