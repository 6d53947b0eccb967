// Package privacy serves the rights Indonesia's Personal Data Protection Law
// (UU No. 27 Tahun 2022) gives the people whose data Jarimu holds, across
// the capabilities that hold it: access and portability (Export, one file
// with everything about a person), erasure (Erase, at the person's or an
// admin's request) and retention (Retain, the chore that deletes what is
// kept past its time). It owns no table: each capability deletes or reads
// its own rows through its exported functions, inside one transaction.
package privacy

import (
	"log/slog"

	"github.com/jarimu/jarimu/auth"
	"github.com/jarimu/jarimu/db"
	"github.com/jarimu/jarimu/event"
	"github.com/jarimu/jarimu/idempotency"
	"github.com/jarimu/jarimu/org"
	"github.com/jarimu/jarimu/report"
	"github.com/jarimu/jarimu/task"
)

// Service serves export, erasure and retention.
type Service struct {
	db      *db.DB
	events  *event.Log
	auth    *auth.Service
	orgs    *org.Service
	tasks   *task.Service
	reports *report.Service
	idem    *idempotency.Store
	log     *slog.Logger
	ret     Retention
}

// Deps are the capabilities the service works across.
type Deps struct {
	DB          *db.DB
	Events      *event.Log
	Auth        *auth.Service
	Orgs        *org.Service
	Tasks       *task.Service
	Reports     *report.Service
	Idempotency *idempotency.Store
	Log         *slog.Logger
	Retention   Retention
}

// New wires the service.
func New(d Deps) *Service {
	return &Service{db: d.DB, events: d.Events, auth: d.Auth, orgs: d.Orgs, tasks: d.Tasks, reports: d.Reports,
		idem: d.Idempotency, log: d.Log, ret: d.Retention}
}
