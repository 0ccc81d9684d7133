// Command pocketbase is the PocketBase application that permaudit's
// integration suite audits: stock PocketBase v0.36.8 with one Go migration
// that creates the fixture's collections and API rules, a "seed" command
// that fills them through PocketBase's own HTTP API, and one environment
// switch, PB_LOOSEN, that loosens chosen rule kinds so the suite can prove
// each loosening is reported as a leak.
//
// Usage (see README.md):
//
//	pocketbase superuser upsert root@example.test 'superuser-pass-1' --dir DATA
//	PB_LOOSEN=list,owner pocketbase serve --http 127.0.0.1:PORT --dir DATA
//	pocketbase seed --url http://127.0.0.1:PORT
//
// PB_LOOSEN is a comma-separated list of rule kinds:
//
//	list       notes.listRule "owner = @request.auth.id" -> `@request.auth.id != ""`
//	owner      notes.viewRule "owner = @request.auth.id" -> `@request.auth.id != ""`
//	staff      staff_docs list and view rules `@request.auth.role = "staff"` -> `@request.auth.id != ""`
//	locked     vault list and view rules null (superusers only) -> "" (everyone)
//	superuser  PocketBase's own RequireSuperuserAuth middleware is unbound from
//	           the router, so /api/settings, /api/logs, /api/backups and
//	           /api/collections answer everyone
package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"slices"
	"strings"

	"github.com/pocketbase/pocketbase"
	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
)

// kinds are the rule kinds PB_LOOSEN can name.
var kinds = []string{"list", "owner", "staff", "locked", "superuser"}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "seed" {
		if err := runSeed(context.Background(), os.Args[2:]); err != nil {
			log.Fatal(err)
		}
		return
	}
	loose, err := parseLoosen(os.Getenv("PB_LOOSEN"))
	if err != nil {
		log.Fatal(err)
	}
	app := pocketbase.NewWithConfig(pocketbase.Config{HideStartBanner: true})
	core.AppMigrations.Register(createCollections, nil, "1700000000_permaudit_fixture.go")

	app.OnServe().BindFunc(func(e *core.ServeEvent) error {
		if err := applyRules(e.App, loose); err != nil {
			return fmt.Errorf("PB_LOOSEN: %w", err)
		}
		if loose["superuser"] {
			// The superuser-only APIs lose their guard: the mistake of an
			// application that unbinds or forgets apis.RequireSuperuserAuth.
			e.Router.Unbind(apis.DefaultRequireSuperuserAuthMiddlewareId)
		}
		if len(loose) > 0 {
			e.App.Logger().Warn("permaudit fixture: rules loosened", "PB_LOOSEN", os.Getenv("PB_LOOSEN"))
		}
		return e.Next()
	})

	if err := app.Start(); err != nil {
		log.Fatal(err)
	}
}

// parseLoosen reads PB_LOOSEN.
func parseLoosen(s string) (map[string]bool, error) {
	loose := map[string]bool{}
	for _, k := range strings.Split(s, ",") {
		k = strings.TrimSpace(k)
		if k == "" {
			continue
		}
		if !slices.Contains(kinds, k) {
			return nil, fmt.Errorf("PB_LOOSEN: unknown rule kind %q (kinds: %s)", k, strings.Join(kinds, ", "))
		}
		loose[k] = true
	}
	return loose, nil
}
