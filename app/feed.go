package app

import (
	"context"
	"fmt"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/auth"
	"github.com/jarimu/jarimu/event"
	"github.com/jarimu/jarimu/org"
	"github.com/jarimu/jarimu/problem"
	"github.com/jarimu/jarimu/realtime"
)

// streamsOf lists the streams a feed connection of userID (of role and
// region) listens to, as the contract says, given their active memberships
// (org id to role): their own; each active org's, plus its review stream
// for coordinators; the region streams of their region (national,
// province, regency), where alerts and national-pool tasks travel; and for
// officers the review stream of their region (review:national for national
// officers).
func streamsOf(userID, role, region string, roles map[string]string) []string {
	streams := []string{auth.UserStream(userID)}
	for orgID, role := range roles {
		streams = append(streams, org.Stream(orgID))
		if role == api.RoleCoordinator {
			streams = append(streams, org.ReviewStream(orgID))
		}
	}
	return append(streams, auth.AccountStreams(role, region)...)
}

// feedAccess reads what a user may have on the feed now, in one statement
// (one snapshot): whether the account is active, its role and region, its
// streams (streamsOf), and the head of the user's own stream. The hello
// starts from it: the head is read no later than the memberships, so every
// change of access after it travels on the user's stream and is acted on.
// The statement joins three owners' queries (auth's account, org's
// memberships, event's heads) as rows of one shape: part says which.
func (a *App) feedAccess(ctx context.Context, userID string) (realtime.Grant, error) {
	own := auth.UserStream(userID)
	var rows []struct {
		Part string `bun:"part"`
		A    string `bun:"a"`
		B    string `bun:"b"`
		C    string `bun:"c"`
		Seq  int64  `bun:"seq"`
	}
	err := a.DB.NewRaw(`SELECT 'account' AS part, x.status AS a, x.role AS b, COALESCE(x.region_code, '') AS c, 0 AS seq FROM (?) AS x
		UNION ALL SELECT 'member', m.org_id, m.role, '', 0 FROM (?) AS m
		UNION ALL SELECT 'head', h.stream, '', '', h.seq FROM (?) AS h`,
		auth.AccountQuery(a.DB, userID), org.ActiveQuery(a.DB, userID), event.HeadsQuery(a.DB, []string{own})).Scan(ctx, &rows)
	if err != nil {
		return realtime.Grant{}, fmt.Errorf("read feed access: %w", err)
	}
	var g realtime.Grant
	roles := map[string]string{}
	for _, r := range rows {
		switch r.Part {
		case "account":
			g.Active, g.Role, g.Region = r.A == api.UserActive, r.B, r.C
		case "member":
			roles[r.A] = r.B
		case "head":
			g.Head = r.Seq
		}
	}
	if !g.Active {
		return realtime.Grant{}, nil
	}
	g.Streams = streamsOf(userID, g.Role, g.Region, roles)
	return g, nil
}

// feedVerify checks a hello's token without the database: feedAccess,
// which the hello reads next, checks the account.
func (a *App) feedVerify(_ context.Context, token string) (realtime.Identity, error) {
	userID, exp, err := a.Auth.VerifyToken(token)
	if err != nil {
		return realtime.Identity{}, fmt.Errorf("%w: %w", realtime.ErrUnauthorized, err)
	}
	return realtime.Identity{UserID: userID, Stream: auth.UserStream(userID), Expires: exp}, nil
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
