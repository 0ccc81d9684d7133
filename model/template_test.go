package model

import "testing"

func TestStripIDs(t *testing.T) {
	tests := []struct{ url, text, want string }{
		{"http://h/notes/17", "Note 17 is private. (c) 2017, id17, 17a, 1717", "Note  is private. (c) 2017, id17, 17a, 1717"},
		{"http://h/notes/17", `{"path":"/notes/17","next":"/login?next=%2Fnotes%2F17"}`, `{"path":"/notes/","next":"/login?next=/notes/"}`},
		{"http://h/u/DEADBEEF01", "user deadbeef01 gone", "user  gone"},
		{"http://h/u/7?q=123", "7 of 123: 71", " of : 71"},
		{"http://h/about", "7 stays", "7 stays"},
		{"http://h/p/1", "İ1 1", "İ1 "},
	}
	for _, tt := range tests {
		if got := StripIDs(tt.url, tt.text); got != tt.want {
			t.Errorf("StripIDs(%s, %q) = %q, want %q", tt.url, tt.text, got, tt.want)
		}
	}
}

// FuzzStripIDs checks that removing ids is idempotent and leaves no id of
// the URL as a whole token.
func FuzzStripIDs(f *testing.F) {
	f.Add("17", "Note 17 (2017) 17a a17 %2F17")
	f.Add("deadbeef01", "DEADBEEF01deadbeef01 deadbeef01")
	f.Add("1", "1111 1 1")
	f.Fuzz(func(t *testing.T, id, text string) {
		if !IsID(id) {
			return
		}
		raw := "http://h/x/" + id
		once := StripIDs(raw, text)
		if twice := StripIDs(raw, once); twice != once {
			t.Errorf("not idempotent: %q -> %q -> %q", text, once, twice)
		}
		if removeToken(asciiLower(once), asciiLower(id)) != asciiLower(once) {
			t.Errorf("%q still holds %q as a token", once, id)
		}
	})
}
