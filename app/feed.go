package app

import (
	"context"
	"fmt"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/auth"
	"github.com/jarimu/jarimu/org"
	"github.com/jarimu/jarimu/problem"
	"github.com/jarimu/jarimu/realtime"
)

// feedStreams lists the streams a user's feed connection listens to, as the
// contract says: their own; each active org's, plus its review stream for
// coordinators; the region streams of their region (national, province,
// regency), where alerts and national-pool tasks travel; and for officers the
// review stream of their region (review:national for national officers).
func (a *App) feedStreams(ctx context.Context, id realtime.Identity) ([]string, error) {
	userID := id.UserID
	streams := []string{id.Stream}
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
	return append(streams, auth.AccountStreams(id.Role, id.Region)...), nil
}

// feedAccess reads what a user may have on the feed now: whether the
// account is active, its role and region, and its streams.
func (a *App) feedAccess(ctx context.Context, userID string) (realtime.Grant, error) {
	u, err := a.Auth.UserByID(ctx, userID)
	if problem.KindOf(err) == problem.NotFound {
		return realtime.Grant{}, nil
	}
	if err != nil {
		return realtime.Grant{}, err
	}
	if u.Status != api.UserActive {
		return realtime.Grant{}, nil
	}
	id := realtime.Identity{UserID: u.ID, Stream: auth.UserStream(u.ID), Role: u.Role, Region: u.Region()}
	streams, err := a.feedStreams(ctx, id)
	if err != nil {
		return realtime.Grant{}, err
	}
	return realtime.Grant{Active: true, Role: id.Role, Region: id.Region, Streams: streams}, nil
}

// feedAuth verifies a feed token: the active account behind it (role and
// region from the database) and when the token expires. A refused token
// wraps realtime.ErrUnauthorized; a check that could not be made (the
// database down) does not.
func (a *App) feedAuth(ctx context.Context, token string) (realtime.Identity, error) {
	p, exp, err := a.Auth.AuthenticateToken(ctx, token)
	if problem.KindOf(err) == problem.Unauthorized {
		err = fmt.Errorf("%w: %w", realtime.ErrUnauthorized, err)
	}
	return realtime.Identity{UserID: p.UserID, Stream: auth.UserStream(p.UserID), Role: p.Role, Region: p.Region, Expires: exp}, err
}
