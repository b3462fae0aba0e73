package consistency

import (
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

// NewClusterClient is a cluster client for the checker: RESP2, one dial
// attempt and short timeouts so a dead master shows as errors, as in the
// tutorial, rather than as a stall; MOVED and ASK are followed.
func NewClusterClient(addrs []string, user, pass string) *redis.ClusterClient {
	return redis.NewClusterClient(&redis.ClusterOptions{
		Addrs:                    addrs,
		Username:                 user,
		Password:                 pass,
		Protocol:                 2,
		DialTimeout:              time.Second,
		ReadTimeout:              time.Second,
		WriteTimeout:             time.Second,
		MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled},
	})
}
