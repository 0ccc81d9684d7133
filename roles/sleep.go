package roles

import (
	"context"
	"time"
)

// Sleep waits d, or until ctx is done (its error then): the real clock's
// SessionOptions.Sleep, and the wait of every backoff and rate limit.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
