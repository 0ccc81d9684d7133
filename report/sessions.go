package report

import (
	"bufio"
	"fmt"
	"strings"

	"github.com/permaudit/permaudit/internal/textout"
	"github.com/permaudit/permaudit/model"
)

// writeSessionsText adds to the text summary what happened to the roles'
// sessions, when anything did: a role that could not sign in, renewals,
// refreshes, observations lost, session-ending URLs. A run of static
// credentials with no check prints nothing.
func writeSessionsText(b *bufio.Writer, r *model.Run) {
	var lines []string
	for _, ri := range r.Roles {
		var parts []string
		if ri.SignInError != "" {
			parts = append(parts, "could not sign in: "+textout.Sanitize(ri.SignInError))
		}
		if ri.Renewals > 0 {
			parts = append(parts, plural(ri.Renewals, "renewal"))
		}
		if ri.Refreshes > 0 {
			parts = append(parts, fmt.Sprintf("%d token %s", ri.Refreshes, map[bool]string{true: "refresh", false: "refreshes"}[ri.Refreshes == 1]))
		}
		if ri.SessionLost > 0 {
			parts = append(parts, fmt.Sprintf("%s recorded as error (%s)", plural(ri.SessionLost, "observation"), textout.Sanitize(ri.LostReason)))
		}
		for _, u := range ri.SessionEnding {
			parts = append(parts, "session-ending URL "+textout.Sanitize(u)+" (not requested again)")
		}
		if len(parts) > 0 {
			lines = append(lines, fmt.Sprintf("  %s: %s", textout.Sanitize(ri.Name), strings.Join(parts, "; ")))
		}
	}
	if len(lines) == 0 {
		return
	}
	fmt.Fprintf(b, "\nsessions:\n%s\n", strings.Join(lines, "\n"))
}
