package migrations

import (
	"context"
	"io/fs"
	"path"
	"testing/fstest"

	"github.com/uptrace/bun/migrate"

	"github.com/jarimu/jarimu/db"
)

// UpTo applies the migrations up to and including the one whose name
// starts with last, as one group: the schema a later migration meets on an
// installation made before it.
func UpTo(ctx context.Context, d *db.DB, last string) error {
	sub := fstest.MapFS{}
	err := fs.WalkDir(files, ".", func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() || path.Base(p)[:len(last)] > last {
			return err
		}
		b, err := fs.ReadFile(files, p)
		sub[p] = &fstest.MapFile{Data: b}
		return err
	})
	if err != nil {
		return err
	}
	ms := migrate.NewMigrations()
	if err := ms.Discover(sub); err != nil {
		return err
	}
	m := migrate.NewMigrator(d.DB, ms, migrate.WithTemplateData(dialectOf(d)), migrate.WithMarkAppliedOnSuccess(true))
	if err := m.Init(ctx); err != nil {
		return err
	}
	_, err = m.Migrate(ctx)
	return err
}
