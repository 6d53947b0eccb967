package app

import (
	"context"
	"database/sql"
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
// streams (streamsOf), and the head of the user's own stream (on PostgreSQL
// the statement is feedHello's and reads the grant's heads too, unused here). The hello
// starts from it: the head is read no later than the memberships, so every
// change of access after it travels on the user's stream and is acted on.
func (a *App) feedAccess(ctx context.Context, userID string) (realtime.Grant, error) {
	st, err := a.feedRead(ctx, userID, nil, 0)
	return st.Grant, err
}

// feedHello reads what a hello starts from (realtime.HelloOf): on
// PostgreSQL in one statement, feedAccess's rows with the heads of the
// streams to resume and of those the grant gives, and the history of the
// streams to resume from the seqs asked, so that a phone's hello, first or
// resumed, is one round trip. On SQLite, in-process, there is no round trip
// to save: the grant alone, and the feed reads the heads and history after.
func (a *App) feedHello(ctx context.Context, userID string, from map[string]int64, limit int) (realtime.Start, error) {
	if !a.DB.Postgres() {
		g, err := a.feedAccess(ctx, userID)
		return realtime.Start{Grant: g}, err
	}
	return a.feedRead(ctx, userID, from, limit)
}

// feedRow is one row of feedRead's statement: part says which owner's query
// it comes from (account, member, head, event), u which of the statement's
// users an account or member row is of (from 1).
type feedRow struct {
	Part string         `bun:"part"`
	U    int64          `bun:"u"`
	A    string         `bun:"a"`
	B    string         `bun:"b"`
	C    string         `bun:"c"`
	Seq  int64          `bun:"seq"`
	At   sql.NullTime   `bun:"at"`
	Data sql.NullString `bun:"data"`
}

// feedReadSQL is the statement of a batch of hellos on PostgreSQL
// (readHellos), with parameters: the users ($1, numbered from 1 in their
// order), the streams whose heads to read ($2), and the streams ($3) and
// seqs ($4) to read at most $5 events of each from. For each user it asks
// what auth.AccountQuery and org.ActiveQuery ask, and for all of them what
// event.HeadsQuery and event.Log.HeadsSince ask (TestFeedAccess and
// TestFeedHello hold it to them), as rows of one union. It also reads the
// heads of the streams the grants it reads will give (streamsOf, spelled in
// SQL: the orgs' streams, the region streams of the region code's
// prefixes, the officers' review stream), one row for each stream asked, 0
// for a stream without events: a phone's first hello (resuming nothing)
// then needs no second read. What it spells differently from streamsOf is
// only read after, as before (TestFeedAccess checks it covers every grant).
// Each user's rows are read by key (LATERAL), whatever plan the prepared
// statement settles on. It is prepared once per pooled connection
// (db.DB.Prepared) rather than sent with its values written in like the
// rest (bun): every hello asks it, and planning it (a lateral read over
// every partition of the log) cost several times what running it does.
var feedReadSQL = `WITH u AS (SELECT u.id, u.i FROM unnest(CAST($1 AS text[])) WITH ORDINALITY AS u (id, i)),
	x AS (SELECT u.i, y.status, y.role, y.region_code FROM u CROSS JOIN LATERAL
		(SELECT status, role, region_code FROM users WHERE id = u.id) AS y),
	m AS (SELECT u.i, y.org_id, y.role FROM u CROSS JOIN LATERAL
		(SELECT org_id, role FROM memberships WHERE user_id = u.id AND status = 'active') AS y)
	SELECT 'account' AS part, x.i AS u, x.status AS a, x.role AS b, COALESCE(x.region_code, '') AS c,
		CAST(0 AS bigint) AS seq, CAST(NULL AS timestamptz) AS at, CAST(NULL AS text) AS data FROM x
	UNION ALL SELECT 'member', m.i, m.org_id, m.role, '', 0, NULL, NULL FROM m
	UNION ALL SELECT 'head', 0, n.stream, '', '', COALESCE(h.seq, 0), NULL, NULL FROM (
		SELECT unnest(CAST($2 AS text[])) AS stream
		UNION SELECT 'org:' || m.org_id FROM m
		UNION SELECT 'review:' || m.org_id FROM m WHERE m.role = 'coordinator'
		UNION SELECT s FROM x CROSS JOIN LATERAL unnest(ARRAY['region:national',
			'region:' || left(x.region_code, 2), 'region:' || left(x.region_code, 4),
			CASE WHEN x.role IN ('officer', 'admin') THEN 'review:' || COALESCE(NULLIF(x.region_code, ''), 'national') END]) AS s
			WHERE s IS NOT NULL
		) AS n LEFT JOIN LATERAL (SELECT seq FROM event_streams WHERE stream = n.stream) AS h ON TRUE
	UNION ALL SELECT 'event', 0, e.stream, e.id, e.name, e.seq, e.at, e.data FROM ` + event.HistoryFrom("$3", "$4", "$5")

// feedRead is feedAccess, and on PostgreSQL feedHello: the account, its
// active memberships, the heads of the own stream, of the streams of from
// and (PostgreSQL) of the streams the grant gives, and the history of the
// streams of from from their seqs, in one statement, shared on PostgreSQL
// with the hellos read at the same time (readHellos). On SQLite (never with
// from) the owners' queries are joined as rows of one shape, part saying
// which.
func (a *App) feedRead(ctx context.Context, userID string, from map[string]int64, limit int) (realtime.Start, error) {
	if a.DB.Postgres() {
		return a.hellos.ask(&helloAsk{ctx: ctx, userID: userID, from: from, limit: limit})
	}
	rows, err := a.feedReadComposed(ctx, userID, []string{auth.UserStream(userID)})
	if err != nil {
		return realtime.Start{}, fmt.Errorf("read feed access: %w", err)
	}
	var st realtime.Start
	roles := map[string]string{}
	for _, r := range rows {
		switch r.Part {
		case "account":
			st.Active, st.Role, st.Region = r.A == api.UserActive, r.B, r.C
		case "member":
			roles[r.A] = r.B
		case "head":
			st.Head = r.Seq
		}
	}
	if !st.Active {
		return realtime.Start{}, nil
	}
	st.Streams = streamsOf(userID, st.Role, st.Region, roles)
	return st, nil
}

// feedReadComposed is feedRead's statement without the history, joined
// from the owners' queries (SQLite; on PostgreSQL the tests hold
// feedReadSQL to it).
func (a *App) feedReadComposed(ctx context.Context, userID string, streams []string) ([]feedRow, error) {
	var rows []feedRow
	err := a.DB.NewRaw(`SELECT 'account' AS part, x.status AS a, x.role AS b, COALESCE(x.region_code, '') AS c, 0 AS seq FROM (?) AS x
		UNION ALL SELECT 'member', m.org_id, m.role, '', 0 FROM (?) AS m
		UNION ALL SELECT 'head', h.stream, '', '', h.seq FROM (?) AS h`,
		auth.AccountQuery(a.DB, userID), org.ActiveQuery(a.DB, userID), event.HeadsQuery(a.DB, streams)).Scan(ctx, &rows)
	return rows, err
}

// feedReadPostgres runs feedReadSQL as a prepared statement.
func (a *App) feedReadPostgres(ctx context.Context, users, streams, fromStreams []string, fromSeqs []int64, limit int) ([]feedRow, error) {
	rs, err := a.DB.DB.DB.QueryContext(ctx, feedReadSQL, a.DB.Prepared(), users, streams, fromStreams, fromSeqs, limit)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	var rows []feedRow
	for rs.Next() {
		var r feedRow
		if err := rs.Scan(&r.Part, &r.U, &r.A, &r.B, &r.C, &r.Seq, &r.At, &r.Data); err != nil {
			return nil, err
		}
		rows = append(rows, r)
	}
	return rows, rs.Err()
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
