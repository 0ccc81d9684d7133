package main

import (
	"fmt"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/types"
)

// The fixture's API rules. PocketBase reads a nil rule as "locked":
// superusers only.
const (
	ruleSignedIn = `@request.auth.id != ""`
	ruleOwner    = `owner = @request.auth.id`
	ruleStaff    = `@request.auth.collectionName = "users" && @request.auth.role = "staff"`
)

// createCollections is the fixture's migration: a "role" field on
// PocketBase's own users collection, and one collection per rule kind.
// The rules it writes are the strict ones; applyRules sets them again (or
// loosened) at every start.
func createCollections(app core.App) error {
	users, err := app.FindCollectionByNameOrId("users")
	if err != nil {
		return fmt.Errorf("users collection: %w", err)
	}
	users.Fields.Add(&core.SelectField{Name: "role", Values: []string{"user", "staff"}, MaxSelect: 1})
	// Accounts are made by a superuser (the seed), never by sign-up, and
	// nobody changes their own role.
	users.CreateRule = nil
	users.UpdateRule = types.Pointer(`id = @request.auth.id && @request.body.role:isset = false`)
	if err := app.Save(users); err != nil {
		return fmt.Errorf("users collection: %w", err)
	}

	text := func(name string) *core.TextField { return &core.TextField{Name: name, Max: 2000} }
	owner := func() *core.RelationField {
		return &core.RelationField{Name: "owner", CollectionId: users.Id, MaxSelect: 1, Required: true}
	}
	specs := []struct {
		name   string
		fields []core.Field
	}{
		{"posts", []core.Field{text("title"), text("body")}},          // public read
		{"announcements", []core.Field{text("title"), text("body")}},  // signed-in read
		{"notes", []core.Field{owner(), text("title"), text("body")}}, // owner only
		{"staff_docs", []core.Field{text("title"), text("body")}},     // staff only
		{"vault", []core.Field{text("title"), text("body")}},          // locked: superusers only
	}
	for _, s := range specs {
		c := core.NewBaseCollection(s.name)
		for _, f := range s.fields {
			c.Fields.Add(f)
		}
		if err := app.Save(c); err != nil {
			return fmt.Errorf("collection %s: %w", s.name, err)
		}
	}
	// No request log: an audit would otherwise find the previous audit's
	// requests in /api/logs, and two audits would see different apps.
	settings := app.Settings()
	settings.Logs.MaxDays = 0
	if err := app.Save(settings); err != nil {
		return fmt.Errorf("settings: %w", err)
	}
	return applyRules(app, nil)
}

// applyRules sets the list and view rules of every fixture collection,
// strict or loosened as loose says. Create, update and delete stay locked
// (nil): the suite only reads.
func applyRules(app core.App, loose map[string]bool) error {
	pick := func(kind, strict, loosened string) *string {
		if loose[kind] {
			return types.Pointer(loosened)
		}
		return types.Pointer(strict)
	}
	var locked *string // nil: superusers only
	if loose["locked"] {
		locked = types.Pointer("")
	}
	rules := []struct {
		collection string
		list, view *string
	}{
		{"posts", types.Pointer(""), types.Pointer("")},
		{"announcements", types.Pointer(ruleSignedIn), types.Pointer(ruleSignedIn)},
		{"notes", pick("list", ruleOwner, ruleSignedIn), pick("owner", ruleOwner, ruleSignedIn)},
		{"staff_docs", pick("staff", ruleStaff, ruleSignedIn), pick("staff", ruleStaff, ruleSignedIn)},
		{"vault", locked, locked},
	}
	for _, r := range rules {
		c, err := app.FindCollectionByNameOrId(r.collection)
		if err != nil {
			return fmt.Errorf("collection %s: %w", r.collection, err)
		}
		c.ListRule, c.ViewRule = r.list, r.view
		c.CreateRule, c.UpdateRule, c.DeleteRule = nil, nil, nil
		if err := app.Save(c); err != nil {
			return fmt.Errorf("collection %s: %w", r.collection, err)
		}
	}
	return nil
}
