package push

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/event"
)

// The kinds of push job, and the urgencies a push is sent with.
const (
	KindAlert      = "alert"
	KindRetraction = "retraction"
	KindAssignment = "assignment"
	KindTest       = "test"
)

// TTLs per kind: how long a push service keeps trying to reach an offline
// device, and how long the outbox keeps trying the push service. An alert
// matters for the day; an assignment while its lease (2 h by default)
// runs; a test only now.
var TTLs = map[string]time.Duration{
	KindAlert:      24 * time.Hour,
	KindRetraction: 24 * time.Hour,
	KindAssignment: 2 * time.Hour,
	KindTest:       10 * time.Minute,
}

// Job is one push to queue: what it says, and to whom (the active
// volunteers of Region and below, "" national, or the devices of UserID
// when it is set).
type Job struct {
	Kind    string
	RefID   string // the alert's or the claim's id
	Region  string
	UserID  string
	Payload api.PushPayload            // in DefaultLang
	Others  map[string]api.PushPayload // in the other languages, by language
	Topic   string                     // pushes with one topic replace each other at the push service
	Urgency string                     // very-low, low, normal or high
}

// job is a push_jobs row.
type job struct {
	bun.BaseModel `bun:"table:push_jobs,alias:j"`

	ID         string     `bun:"id,pk"`
	Kind       string     `bun:"kind"`
	RefID      string     `bun:"ref_id"`
	RegionCode *string    `bun:"region_code"`
	UserID     *string    `bun:"user_id"`
	Wants      int        `bun:"wants"`
	Payload    string     `bun:"payload"`
	Topic      string     `bun:"topic"`
	Urgency    string     `bun:"urgency"`
	CreatedAt  time.Time  `bun:"created_at"`
	ExpiresAt  time.Time  `bun:"expires_at"`
	NextSub    string     `bun:"next_sub"`
	ExpandedAt *time.Time `bun:"expanded_at"`

	messages map[string]api.PushPayload // Payload decoded, by language, by Service.job
}

// wants is the subscription event bit a kind of push needs (0: every
// device, for tests).
func wants(kind string) int {
	switch kind {
	case KindAlert, KindRetraction:
		return wantAlerts
	case KindAssignment:
		return wantAssignments
	}
	return 0
}

// Queue adds j to the outbox inside the caller's transaction q: one row,
// whatever the number of devices, so the commit that publishes an event
// costs the same for a national alert as for one assignment. Workers of
// every instance pick it up once it commits.
func (s *Service) Queue(ctx context.Context, q bun.IDB, j Job) error {
	now, err := s.db.Now(ctx, q)
	if err != nil {
		return err
	}
	byLang := map[string]api.PushPayload{DefaultLang: j.Payload}
	for l, p := range j.Others {
		byLang[l] = p
	}
	payload, err := json.Marshal(byLang)
	if err != nil {
		return fmt.Errorf("queue push: %w", err)
	}
	row := &job{ID: uuid.Must(uuid.NewV7()).String(), Kind: j.Kind, RefID: j.RefID, Wants: wants(j.Kind),
		Payload: string(payload), Topic: j.Topic, Urgency: j.Urgency, CreatedAt: now, ExpiresAt: now.Add(TTLs[j.Kind])}
	if j.UserID != "" {
		row.UserID = &j.UserID
	} else if j.Region != "" {
		row.RegionCode = &j.Region
	}
	if _, err := q.NewInsert().Model(row).Exec(ctx); err != nil {
		return fmt.Errorf("queue push: %w", err)
	}
	s.stats.queued.Add(1)
	event.OnCommit(ctx, s.ring)
	return nil
}

// topicOf makes a Topic header from an id: at most 32 characters of the
// URL-safe base64 alphabet (RFC 8030 section 5.4).
func topicOf(id string) string {
	t := strings.ReplaceAll(id, "-", "")
	return t[:min(len(t), 32)]
}
