package app

import (
	"context"
	"time"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/org"
	"github.com/jarimu/jarimu/region"
)

// feedStreams lists the streams a user's feed connection listens to, as the
// contract says: their own; each active org's, plus its review stream for
// coordinators; the region streams of their region (national, province,
// regency), where alerts and national-pool tasks travel; and for officers the
// review stream of their region (review:national for national officers).
func (a *App) feedStreams(ctx context.Context, userID string) ([]string, error) {
	u, err := a.Auth.UserByID(ctx, userID)
	if err != nil {
		return nil, err
	}
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
	streams = append(streams, region.Streams(u.Region())...)
	if u.Role == api.RoleOfficer || u.Role == api.RoleAdmin {
		streams = append(streams, reviewStream(u.Region()))
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

// feedAuth verifies a feed token: the user and when the token expires.
func (a *App) feedAuth(ctx context.Context, token string) (string, time.Time, error) {
	p, exp, err := a.Auth.AuthenticateToken(ctx, token)
	return p.UserID, exp, err
}
