package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"time"
)

// The fixture's superuser, created with PocketBase's own command:
// `superuser upsert root@example.test root-pass-0001`.
const (
	superuserEmail    = "root@example.test"
	superuserPassword = "root-pass-0001"
)

// account is a user of the users auth collection.
type account struct {
	ID       string `json:"id"`
	Email    string `json:"email"`
	Password string `json:"password"`
	Role     string `json:"role"` // the "role" field: user or staff
}

// record is one record of a fixture collection.
type record struct {
	Collection string `json:"collection"`
	ID         string `json:"id"`
	Owner      string `json:"owner,omitempty"` // notes only: the owner's user id
	Title      string `json:"title"`
	Body       string `json:"body"`
}

// fixture is what the seed creates, with fixed ids so that the audit
// configuration can name them and two runs are alike.
type fixture struct {
	Superuser struct {
		Email    string `json:"email"`
		Password string `json:"password"`
	} `json:"superuser"`
	Users   map[string]account `json:"users"` // by permaudit role name
	Records []record           `json:"records"`
}

func theFixture() fixture {
	var f fixture
	f.Superuser.Email, f.Superuser.Password = superuserEmail, superuserPassword
	f.Users = map[string]account{
		"alice": {ID: "usralice0000001", Email: "alice@example.test", Password: "alice-pass-0001", Role: "user"},
		"bob":   {ID: "usrbob000000001", Email: "bob@example.test", Password: "bob-pass-00001", Role: "user"},
		"staff": {ID: "usrstaff0000001", Email: "staff@example.test", Password: "staff-pass-0001", Role: "staff"},
	}
	f.Records = []record{
		{Collection: "posts", ID: "post00000000001", Title: "Hello", Body: "public-post-marker"},
		{Collection: "announcements", ID: "annc00000000001", Title: "Members", Body: "members-only-marker"},
		{Collection: "notes", ID: "notealice000001", Owner: "usralice0000001", Title: "Alice's note", Body: "alice-private-marker"},
		{Collection: "notes", ID: "notebob00000001", Owner: "usrbob000000001", Title: "Bob's note", Body: "bob-private-marker"},
		{Collection: "staff_docs", ID: "staffdoc0000001", Title: "Runbook", Body: "staff-only-marker"},
		{Collection: "vault", ID: "vault0000000001", Title: "Keys", Body: "vault-marker"},
	}
	return f
}

// runSeed is the "seed" command. It runs without PocketBase's own command
// line, which would open (and create) a data directory it does not need.
func runSeed(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	base := fs.String("url", "http://127.0.0.1:8090", "base URL of the running server")
	email := fs.String("email", superuserEmail, "superuser email")
	password := fs.String("password", superuserPassword, "superuser password")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("seed: unexpected arguments %q", fs.Args())
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	f := theFixture()
	if err := seed(ctx, *base, *email, *password, f); err != nil {
		return fmt.Errorf("seed %s: %w", *base, err)
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(f)
}

// seed signs in as the superuser and creates every user and record.
func seed(ctx context.Context, base, email, password string, f fixture) error {
	var login struct {
		Token string `json:"token"`
	}
	if err := call(ctx, base, "/api/collections/_superusers/auth-with-password", "",
		map[string]any{"identity": email, "password": password}, &login); err != nil {
		return fmt.Errorf("superuser sign-in: %w", err)
	}
	for _, name := range []string{"alice", "bob", "staff"} {
		a := f.Users[name]
		body := map[string]any{
			"id": a.ID, "email": a.Email, "password": a.Password, "passwordConfirm": a.Password,
			"role": a.Role, "name": name, "verified": true, "emailVisibility": true,
		}
		if err := call(ctx, base, "/api/collections/users/records", login.Token, body, nil); err != nil {
			return fmt.Errorf("user %s: %w", name, err)
		}
	}
	for _, r := range f.Records {
		body := map[string]any{"id": r.ID, "title": r.Title, "body": r.Body}
		if r.Owner != "" {
			body["owner"] = r.Owner
		}
		if err := call(ctx, base, "/api/collections/"+url.PathEscape(r.Collection)+"/records", login.Token, body, nil); err != nil {
			return fmt.Errorf("record %s/%s: %w", r.Collection, r.ID, err)
		}
	}
	return nil
}

// call POSTs body as JSON and decodes a 200 answer into out.
func call(ctx context.Context, base, path, token string, body, out any) error {
	data, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+path, bytes.NewReader(data))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("POST %s: %s: %s", path, resp.Status, answer)
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(answer, out)
}
