package push

import (
	"context"
	"crypto/hmac"
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/db"
	"github.com/jarimu/jarimu/event"
)

// ackFor is the ack string a push carries to one device:
// "<job id>.<subscription id>.<tag>". The service worker, which holds no
// access token, posts it back when it shows the notification; the tag
// proves the push came from this installation to that device.
func (s *Service) ackFor(jobID, subID string) string {
	msg := jobID + "." + subID
	return msg + "." + base64.RawURLEncoding.EncodeToString(s.vapid.ackMAC(msg))
}

// Ack records that a device showed a push (POST /v1/push/acks). An ack
// string this installation did not give out is a 422; a repeated one
// changes nothing, nor does one of a job already purged (its counts are
// final).
func (s *Service) Ack(ctx context.Context, req api.PushAckRequest) error {
	bad := InvalidAck.New("this ack was not given out by this server")
	parts := strings.Split(req.Ack, ".")
	if len(req.Ack) > 200 || len(parts) != 3 {
		return bad
	}
	// The ids as this API gives them out (api.ValidID): uuid.Parse would
	// also take the braced, URN and 32-digit forms, which no push carries.
	if !api.ValidID(parts[0]) || !api.ValidID(parts[1]) {
		return bad
	}
	tag, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || !hmac.Equal(tag, s.vapid.ackMAC(parts[0]+"."+parts[1])) {
		return bad
	}
	now, err := s.db.Now(ctx, s.db)
	if err != nil {
		return err
	}
	_, err = s.db.NewRaw(`INSERT INTO push_acks (job_id, subscription_id, at) SELECT ?, ?, ?
		WHERE EXISTS (SELECT 1 FROM push_jobs WHERE id = ?) ON CONFLICT DO NOTHING`, parts[0], parts[1], now, parts[0]).Exec(ctx)
	if db.IsForeignKeyViolation(err) {
		return nil // purged while this was on its way
	}
	if err != nil {
		return fmt.Errorf("record push ack: %w", err)
	}
	return nil
}

// Reach counts, for an alert, the devices whose push service accepted its
// push (pushed) and the devices that showed it (displayed): what Purge
// summed up of its jobs, and what the jobs still kept hold.
func (s *Service) Reach(ctx context.Context, alertID string) (pushed, displayed int, err error) {
	// One statement: a purge committing between two reads would leave its
	// counts in neither.
	p, d := ReachSQL("a.id")
	var c struct {
		Pushed    int `bun:"pushed"`
		Displayed int `bun:"displayed"`
	}
	err = s.db.NewRaw("SELECT "+p+" AS pushed, "+d+" AS displayed FROM (SELECT CAST(? AS text) AS id) AS a", alertID).Scan(ctx, &c)
	if err != nil {
		return 0, 0, fmt.Errorf("push reach: %w", err)
	}
	return c.Pushed, c.Displayed, nil
}

// ReachSQL is the reach's formula as two SQL expressions, pushed and
// displayed, for the alert whose id is the SQL expression id (a column, not
// a value): Reach reads them, and so do the officers' statistics (package
// stats), one row per alert.
func ReachSQL(id string) (pushed, displayed string) {
	jobs := "SELECT j.id FROM push_jobs AS j WHERE j.ref_id = " + id + " AND j.kind = '" + KindAlert + "'"
	summed := func(col string) string {
		return "COALESCE((SELECT r." + col + " FROM push_reach AS r WHERE r.ref_id = " + id + " AND r.kind = '" + KindAlert + "'), 0)"
	}
	pushed = "((SELECT count(*) FROM push_deliveries AS d WHERE d.state = '" + stateSent + "' AND d.job_id IN (" + jobs + ")) + " + summed("pushed") + ")"
	displayed = "((SELECT count(*) FROM push_acks AS pa WHERE pa.job_id IN (" + jobs + ")) + " + summed("displayed") + ")"
	return pushed, displayed
}

// Test queues a test notification to userID's devices (`jarimu push test`)
// and returns how many devices it is for.
func (s *Service) Test(ctx context.Context, userID string) (api.PushTestResult, error) {
	var n int
	err := s.db.Tx(ctx, func(ctx context.Context, tx bun.Tx) error {
		c, err := tx.NewSelect().Model((*Subscription)(nil)).Where("s.user_id = ?", userID).Count(ctx)
		if err != nil {
			return fmt.Errorf("count devices: %w", err)
		}
		n = int(c)
		if n > 0 {
			if err := s.Queue(ctx, tx, testJob(userID, uuid.Must(uuid.NewV7()).String())); err != nil {
				return err
			}
		}
		// An Idempotency-Key's mark goes in this transaction, as in those
		// of the event log: a retry after a lost answer queues no second
		// test.
		return event.BeforeCommit(ctx, tx)
	})
	if err != nil {
		return api.PushTestResult{}, fmt.Errorf("test push: %w", err)
	}
	s.ring() // committed: the job is visible now
	return api.PushTestResult{Devices: n}, nil
}

// Display is a push one of a person's devices showed and acknowledged (in
// their data export): which device, what the push was about (an alert, an
// assignment's claim, a test) and when it was shown.
type Display struct {
	JobID          string    `bun:"job_id" json:"-"`
	SubscriptionID string    `bun:"subscription_id" json:"subscription_id"`
	Kind           string    `bun:"kind" json:"kind"`
	RefID          string    `bun:"ref_id" json:"ref_id"`
	At             time.Time `bun:"at" json:"at"`
}

// DisplaysOf reads from q up to limit pushes the current devices of userID
// showed, kept until their job is purged (a month), after the one given
// (the zero Display: from the start), in job and device order.
func DisplaysOf(ctx context.Context, q bun.IDB, userID string, after Display, limit int) ([]Display, error) {
	var out []Display
	err := q.NewSelect().TableExpr("push_acks AS pa").
		Join("JOIN push_jobs AS j ON j.id = pa.job_id").Join("JOIN push_subscriptions AS s ON s.id = pa.subscription_id").
		ColumnExpr("pa.job_id, pa.subscription_id, j.kind, j.ref_id, pa.at").
		Where("s.user_id = ?", userID).
		Where("(pa.job_id > ? OR pa.job_id = ? AND pa.subscription_id > ?)", after.JobID, after.JobID, after.SubscriptionID).
		OrderExpr("pa.job_id, pa.subscription_id").Limit(int64(limit)).Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("read push displays: %w", err)
	}
	for i := range out {
		out[i].At = out[i].At.UTC()
	}
	return out, nil
}
