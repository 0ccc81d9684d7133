package model

import "testing"

func TestQueryGroup(t *testing.T) {
	for _, tt := range []struct{ url, want string }{
		{"http://h/admin/users", "GET /admin/users"},
		{"http://h/admin/users?filter=all&mode=grid&order=asc&page=3&sort=name", "GET /admin/users?page={id}"},
		{"http://h/admin/users?filter=all&mode=list&order=desc&page=7&sort=email", "GET /admin/users?page={id}"},
		{"http://h/users/12/edit?tab=roles", "GET /users/{id}/edit"},
		{"http://h/calendar?date=2026-01-01&view=week", "GET /calendar"},
		{"http://h/preferences?returnto=%2Fwiki%2FMain", "GET /preferences"},
		// A front controller's pages are pages of their own.
		{"http://h/doku.php?id=team:plan", "GET /doku.php?id=team%3Aplan"},
		{"http://h/doku.php?id=staff:salaries&rev=1700000000", "GET /doku.php?id=staff%3Asalaries"},
		{"http://h/doku.php?date=2026-12-04&do=admin&facility=debug&id=start&page=logviewer", "GET /doku.php?do=admin&id=start&page=logviewer"},
		{"http://h/index.php?title=Special:UserLogout&returnto=Main_Page", "GET /index.php?title=Special%3AUserLogout"},
	} {
		if got := QueryGroup("GET", tt.url); got != tt.want {
			t.Errorf("QueryGroup(%s) = %q, want %q", tt.url, got, tt.want)
		}
	}
}
