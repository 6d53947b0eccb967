package privacy

import (
	"archive/zip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/jarimu/jarimu/api"
	"github.com/jarimu/jarimu/audit"
	"github.com/jarimu/jarimu/auth"
	"github.com/jarimu/jarimu/event"
	"github.com/jarimu/jarimu/evidence"
	"github.com/jarimu/jarimu/mail"
	"github.com/jarimu/jarimu/push"
	"github.com/jarimu/jarimu/report"
	"github.com/jarimu/jarimu/task"
)

// ExportFormat names the layout of an export file.
const ExportFormat = "jarimu-export/1"

// page is how many rows an export reads at a time: the export holds one
// page in memory, whatever the person's history.
const page = 200

// Profile is the account in an export: the user as the API shows it and
// when it was last used.
type Profile struct {
	api.User
	LastSeenAt *time.Time `json:"last_seen_at"`
}

// Export writes everything Jarimu holds about userID as one JSON document
// to w, section by section, a page of rows at a time: the profile, consents,
// memberships, claims, reports (with takedown history, evidence metadata
// and review notes), sessions and trusted devices, push notification
// devices (never their keys) and the pushes they showed, queued mail (kinds only: a queued reset link is not repeated), the
// person's own feed events, and the audit entries about them (other
// people who acted are shown by role only). Nothing about anyone else.
func (s *Service) Export(ctx context.Context, userID string, w io.Writer) error {
	x := &jsonStream{w: w}
	u, err := s.auth.UserByID(ctx, userID)
	if err != nil {
		return err
	}
	now, err := s.db.Now(ctx, s.db)
	if err != nil {
		return err
	}
	x.raw("{")
	x.field("format", ExportFormat)
	x.field("exported_at", now.UTC())
	x.field("privacy_notice_version", s.auth.PrivacyVersion())
	x.field("profile", Profile{User: u.API(), LastSeenAt: u.LastSeenAt})
	if err := s.sections(ctx, x, userID); err != nil {
		return err
	}
	x.raw("}\n")
	return x.err
}

func (s *Service) sections(ctx context.Context, x *jsonStream, userID string) error {
	consents, err := s.auth.Consents(ctx, userID)
	if err != nil {
		return err
	}
	x.field("consents", consents)
	ms, err := s.orgs.Of(ctx, userID)
	if err != nil {
		return err
	}
	x.field("memberships", ms)
	if err := s.claims(ctx, x, userID); err != nil {
		return err
	}
	if err := s.reportList(ctx, x, userID); err != nil {
		return err
	}
	ss, err := s.auth.Sessions(ctx, userID)
	if err != nil {
		return err
	}
	x.field("sessions", ss.Sessions)
	x.field("devices", ss.Devices)
	subs, err := push.Devices(ctx, s.db, userID)
	if err != nil {
		return err
	}
	x.field("push_subscriptions", subs)
	if err := list(x, "push_displays",
		func(after push.Display) ([]push.Display, error) {
			return push.DisplaysOf(ctx, s.db, userID, after, page)
		},
		func(d push.Display) push.Display { return d },
		func(d push.Display) any { return d }); err != nil {
		return err
	}
	queued, err := mail.Queued(ctx, s.db, userID)
	if err != nil {
		return err
	}
	x.field("queued_mail", queued)
	if err := s.notifications(ctx, x, userID); err != nil {
		return err
	}
	return s.auditList(ctx, x, userID)
}

// eachPage reads a list a page at a time, fetch(after) returning the
// items after the cursor, and calls fn with each; next is an item's cursor.
func eachPage[T, K any](fetch func(after K) ([]T, error), next func(T) K, fn func(T) error) error {
	var after K
	for {
		items, err := fetch(after)
		if err != nil {
			return err
		}
		for _, it := range items {
			if err := fn(it); err != nil {
				return err
			}
		}
		if len(items) < page {
			return nil
		}
		after = next(items[len(items)-1])
	}
}

// list writes the section name with each item eachPage reads.
func list[T, K any](x *jsonStream, name string, fetch func(after K) ([]T, error), next func(T) K, out func(T) any) error {
	x.open(name)
	err := eachPage(fetch, next, func(it T) error {
		x.item(out(it))
		return x.err
	})
	x.close()
	if err != nil {
		return err
	}
	return x.err
}

func (s *Service) claims(ctx context.Context, x *jsonStream, userID string) error {
	return list(x, "claims",
		func(after string) ([]task.ClaimRecord, error) { return s.tasks.ClaimsOf(ctx, userID, after, page) },
		func(c task.ClaimRecord) string { return c.ID },
		func(c task.ClaimRecord) any { return c })
}

// reportRecord is a report in an export.
type reportRecord struct {
	api.Report
	DuplicateOf any `json:"duplicate_of,omitempty"` // another's report: left out
}

func (s *Service) reportList(ctx context.Context, x *jsonStream, userID string) error {
	x.open("reports")
	err := s.eachReport(ctx, userID, func(r api.Report) error {
		x.item(reportRecord{Report: r})
		return x.err
	})
	x.close()
	if err != nil {
		return err
	}
	return x.err
}

// eachReport calls fn with each report userID filed, as the API shows it,
// a page at a time.
func (s *Service) eachReport(ctx context.Context, userID string, fn func(api.Report) error) error {
	return eachPage(
		func(after string) ([]report.Report, error) { return s.reports.Of(ctx, userID, after, page) },
		func(r report.Report) string { return r.ID },
		func(r report.Report) error {
			v, err := s.reports.View(ctx, &r)
			if err != nil {
				return err
			}
			return fn(v)
		})
}

func (s *Service) notifications(ctx context.Context, x *jsonStream, userID string) error {
	return list(x, "notifications",
		func(after int64) ([]event.Event, error) {
			return s.events.After(ctx, auth.UserStream(userID), after, page)
		},
		func(ev event.Event) int64 { return ev.Seq },
		func(ev event.Event) any { return ev })
}

func (s *Service) auditList(ctx context.Context, x *jsonStream, userID string) error {
	return list(x, "audit",
		func(after string) ([]audit.Entry, error) { return audit.About(ctx, s.db, userID, after, page) },
		func(e audit.Entry) string { return e.ID },
		func(e audit.Entry) any {
			a := e.API()
			if a.ActorID != nil && *a.ActorID != userID {
				a.ActorID = nil // another person: their role only
			}
			return a
		})
}

// ExportZip writes a ZIP archive to w: the export document as
// jarimu-data.json, then each evidence file of the person's reports under
// evidence/, streamed from the store one at a time.
func (s *Service) ExportZip(ctx context.Context, userID string, w io.Writer) error {
	zw := zip.NewWriter(w)
	f, err := zw.CreateHeader(&zip.FileHeader{Name: "jarimu-data.json", Method: zip.Deflate, Modified: time.Now().UTC()})
	if err != nil {
		return err
	}
	if err := s.Export(ctx, userID, f); err != nil {
		return err
	}
	seen := map[string]bool{}
	err = s.eachReport(ctx, userID, func(r api.Report) error {
		for _, ev := range r.Evidence {
			if seen[ev.SHA256] {
				continue
			}
			seen[ev.SHA256] = true
			if err := s.addFile(ctx, zw, ev); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return zw.Close()
}

func (s *Service) addFile(ctx context.Context, zw *zip.Writer, ev api.Evidence) error {
	rc, err := s.reports.OpenFile(ctx, ev.SHA256)
	if err != nil {
		return fmt.Errorf("evidence %s: %w", ev.SHA256, err)
	}
	defer rc.Close()
	// Images and PDFs are compressed already: stored as they are.
	f, err := zw.CreateHeader(&zip.FileHeader{Name: "evidence/" + ev.SHA256 + evidence.Extension(ev.ContentType), Method: zip.Store, Modified: ev.CreatedAt})
	if err != nil {
		return err
	}
	_, err = io.Copy(f, rc)
	return err
}

// jsonStream writes one JSON object member by member; the first error
// sticks and stops further writes.
type jsonStream struct {
	w       io.Writer
	err     error
	members int
	items   int
}

func (x *jsonStream) raw(s string) {
	if x.err == nil {
		_, x.err = io.WriteString(x.w, s)
	}
}

func (x *jsonStream) key(name string) {
	if x.members > 0 {
		x.raw(",\n")
	}
	x.members++
	k, _ := json.Marshal(name)
	x.raw(string(k) + ":")
}

func (x *jsonStream) value(v any) {
	if x.err != nil {
		return
	}
	b, err := json.Marshal(v)
	if err != nil {
		x.err = err
		return
	}
	_, x.err = x.w.Write(b)
}

func (x *jsonStream) field(name string, v any) {
	x.key(name)
	x.value(v)
}

func (x *jsonStream) open(name string) {
	x.key(name)
	x.raw("[")
	x.items = 0
}

func (x *jsonStream) item(v any) {
	if x.items > 0 {
		x.raw(",\n")
	}
	x.items++
	x.value(v)
}

func (x *jsonStream) close() { x.raw("]") }
