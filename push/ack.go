package push

import (
	"context"
	"crypto/hmac"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/jarimu/jarimu/api"
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
	if _, err := uuid.Parse(parts[0]); err != nil {
		return bad
	}
	if _, err := uuid.Parse(parts[1]); err != nil {
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
	if err != nil {
		return fmt.Errorf("record push ack: %w", err)
	}
	return nil
}

// Reach counts, for an alert, the devices whose push service accepted its
// push (pushed) and the devices that showed it (displayed): what Purge
// summed up of its jobs, and what the jobs still kept hold.
func (s *Service) Reach(ctx context.Context, alertID string) (pushed, displayed int, err error) {
	var sum reachRow
	err = s.db.NewSelect().Model(&sum).Where("ref_id = ? AND kind = ?", alertID, KindAlert).Scan(ctx)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, 0, fmt.Errorf("push reach: %w", err)
	}
	jobs := s.db.NewSelect().Model((*job)(nil)).Column("j.id").Where("j.ref_id = ? AND j.kind = ?", alertID, KindAlert)
	p, err := s.db.NewSelect().Model((*delivery)(nil)).Where("d.job_id IN (?) AND d.state = ?", jobs, stateSent).Count(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("push reach: %w", err)
	}
	d, err := s.db.NewSelect().Table("push_acks").Where("job_id IN (?)", jobs).Count(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("push reach: %w", err)
	}
	return sum.Pushed + int(p), sum.Displayed + int(d), nil
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
		if n == 0 {
			return nil
		}
		return s.Queue(ctx, tx, testJob(userID, uuid.Must(uuid.NewV7()).String()))
	})
	if err != nil {
		return api.PushTestResult{}, fmt.Errorf("test push: %w", err)
	}
	s.ring() // committed: the job is visible now
	return api.PushTestResult{Devices: n}, nil
}
