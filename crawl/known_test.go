package crawl

import (
	"context"
	"testing"

	"github.com/permaudit/permaudit/internal/authapp"
)

// TestKnownSessionEndingURL: an audit of a saved inventory (a shard) gives
// its fresh keeper the session-ending URLs the inventory lists
// (session.Keeper.Known); no signed-in role requests them, and the keeper
// does not list them a second time.
func TestKnownSessionEndingURL(t *testing.T) {
	srv, err := authapp.Start(authapp.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ctx := context.Background()
	eps := endpoints(srv.URL(), "/account/switch", "/dashboard")
	opts, k := keptOptions(t, srv.URL(), editorOnly, authapp.Env())
	if _, err := Probe(ctx, opts, eps); err != nil {
		t.Fatal(err)
	}
	skips := k.Skips()
	before := srv.App.Hits("/account/switch", authapp.Editor)
	if len(skips) != 1 || before == 0 {
		t.Fatalf("the first audit found %d session-ending URL(s) after %d request(s)", len(skips), before)
	}

	opts, k = keptOptions(t, srv.URL(), editorOnly, authapp.Env())
	k.Known(skips)
	obs, err := Probe(ctx, opts, eps)
	if err != nil {
		t.Fatal(err)
	}
	if n := srv.App.Hits("/account/switch", authapp.Editor); n != before {
		t.Errorf("/account/switch requested %d more time(s) as editor by the audit that knew it", n-before)
	}
	got := byRoleURL(obs)
	if _, ok := got["editor /account/switch"]; ok {
		t.Errorf("the known session-ending URL was recorded for editor")
	}
	if o := got["editor /dashboard"]; o.Class != "allowed" {
		t.Errorf("editor /dashboard: %s (%s), want allowed", o.Class, o.Why)
	}
	if s := k.Skips(); len(s) != 0 {
		t.Errorf("the keeper lists the known URL again: %+v", s)
	}
}
